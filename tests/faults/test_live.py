"""The app served by gunicorn (its own process, its own pool of database
connections) while Redis is down, or while PostgreSQL drops every
connection of the app (what a restart does to them)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError

from app.auth.models import User
from app.extensions import db
from tests.factories import make_cm, make_lead
from tests.faults.live import csrf_of, live_server, log_in
from tests.reports.test_worker import lead_browser

pytestmark = pytest.mark.worker


def terminate_connections(url: str) -> list[str]:
    """What a PostgreSQL restart does to the app: every connection to its
    database dropped, server side. Returns their application names."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT pid, application_name FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).all()
            pids = [pid for pid, _name in rows]
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)")
            deadline = time.monotonic() + 10
            while conn.scalar(alive, {"pids": pids}) and time.monotonic() < deadline:
                time.sleep(0.05)
            return [name for _pid, name in rows]
    finally:
        admin.dispose()


def postgres_only(env) -> None:
    if not env["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("needs PostgreSQL")


def test_with_redis_down_the_pages_work_logins_too_jobs_run_and_the_lead_is_told(japp, dead_redis_url):
    app, env = japp
    make_lead(email="marc@agence.example")
    db.session.commit()
    # REDIS_URL set, nothing listening: jobs and login limits both meant to use it.
    with live_server({**env, "REDIS_URL": dead_redis_url}) as base:
        browser = log_in(base, "marc@agence.example")
        dashboard = browser.get(f"{base}/dashboard", timeout=10)
        assert dashboard.status_code == 200
        assert "Redis ne répond pas" in dashboard.text

        health = browser.get(f"{base}/health", timeout=10)
        assert health.status_code == 200 and "Redis injoignable" in health.text

        invite = browser.get(f"{base}/users/invite", timeout=10)
        started = time.monotonic()
        answer = browser.post(
            f"{base}/users/invite",
            data={
                "name": "Léa Martin",
                "email": "lea@agence.example",
                "role": "cm",
                "csrf_token": csrf_of(invite.text),
            },
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 302 and time.monotonic() - started < 10
    db.session.expire_all()
    assert db.session.scalar(db.select(User).where(User.email == "lea@agence.example")) is not None
    mails = [p.read_text() for p in Path(env["MAIL_OUTBOX_DIR"]).glob("*.eml")]
    assert any("lea@agence.example" in mail for mail in mails)  # the invitation, sent by the web process


def test_after_postgresql_dropped_every_connection_the_next_request_succeeds(japp):
    app, env = japp
    postgres_only(env)
    make_lead(email="marc@agence.example")
    make_cm()
    db.session.commit()
    db.session.remove()
    served = env["DATABASE_URL"] + "?application_name=relais-live"
    with live_server({**env, "DATABASE_URL": served}) as base:
        browser = log_in(base, "marc@agence.example")
        assert browser.get(f"{base}/dashboard", timeout=10).status_code == 200
        for _ in range(2):
            assert "relais-live" in terminate_connections(
                env.get("DATABASE_OWNER_URL", env["DATABASE_URL"])
            )  # the server's pooled one
            started = time.monotonic()
            answer = browser.get(f"{base}/dashboard", timeout=10)
            assert answer.status_code == 200, answer.text[:500]  # pre-ping replaced the dead connection
            assert time.monotonic() - started < 5
        assert browser.get(f"{base}/clients", timeout=10).status_code == 200

    # The control: without pre-ping, the same drop fails the next use of the pool.
    bare = create_engine(env["DATABASE_URL"], pool_pre_ping=False, pool_size=1)
    try:
        with bare.connect() as conn:
            conn.execute(text("SELECT 1"))
        terminate_connections(env.get("DATABASE_OWNER_URL", env["DATABASE_URL"]))
        with pytest.raises(OperationalError), bare.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        bare.dispose()


def test_a_request_whose_connection_dies_midway_gets_the_error_page_and_the_next_one_works(japp, monkeypatch):
    app, env = japp
    postgres_only(env)
    lead = make_lead()
    db.session.commit()
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # answer as in production
    browser = lead_browser(app, lead)
    assert browser.get("/dashboard").status_code == 200

    statements = {"count": 0, "armed": True}

    def drop_midway(conn, cursor, statement, parameters, context, executemany):
        statements["count"] += 1
        if statements["armed"] and statements["count"] == 3:
            statements["armed"] = False
            pid = conn.connection.dbapi_connection.info.backend_pid
            admin = create_engine(
                env.get("DATABASE_OWNER_URL", env["DATABASE_URL"]), isolation_level="AUTOCOMMIT"
            )
            with admin.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                while other.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                ):
                    time.sleep(0.02)
            admin.dispose()

    engine = db.engine
    event.listen(engine, "before_cursor_execute", drop_midway)
    try:
        started = time.monotonic()
        answer = browser.get("/dashboard")
        assert time.monotonic() - started < 10  # no hang
    finally:
        event.remove(engine, "before_cursor_execute", drop_midway)
    assert statements["armed"] is False
    assert answer.status_code == 500
    page = answer.get_data(as_text=True)
    assert "Erreur inattendue" in page and "réessayez dans un instant" in page
    assert "Traceback" not in page and "OperationalError" not in page

    again = browser.get("/dashboard")
    assert again.status_code == 200
