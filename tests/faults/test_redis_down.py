"""Redis configured but down (REDIS_URL on a closed port): a request that
hands over jobs after its commit still succeeds; the jobs run in the web
process ("inline", the default) or wait in the instance folder's spool
("wait") until Redis is back; the lead is told."""

from __future__ import annotations

import html
import logging

import pytest
from rq.job import Job

from app.auth.models import User
from app.extensions import db as _db
from app.jobs import enqueue, get_queue, redis_connection, redis_reachable, spool_path, spooled_count
from tests import services
from tests.factories import make_cm, make_lead
from tests.faults import jobs as fault_jobs


@pytest.fixture
def redis_down(app, dead_redis_url, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", dead_redis_url)
    monkeypatch.setitem(app.config, "JOBS_WHEN_REDIS_DOWN", "inline")
    fault_jobs.CALLS.clear()
    spool_path(app).unlink(missing_ok=True)
    yield dead_redis_url
    spool_path(app).unlink(missing_ok=True)
    fault_jobs.CALLS.clear()


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_request_whose_jobs_cannot_reach_redis_succeeds_and_runs_them_in_process(
    db, login_as, outbox, redis_down, caplog, monkeypatch
):
    # alembic's logging setup (the schema is built by the migrations) disables existing loggers
    monkeypatch.setattr(logging.getLogger("app.jobs"), "disabled", False)
    lead = make_lead()
    db.session.commit()
    with caplog.at_level(logging.ERROR, logger="app.jobs"):
        answer = login_as(lead).post(
            "/users/invite", data={"name": "Léa Martin", "email": "lea@agence.example", "role": "cm"}
        )
    assert answer.status_code == 302
    assert db.session.scalar(_db.select(User).where(User.email == "lea@agence.example")) is not None
    assert [mail["To"] for mail in outbox.messages] == ["lea@agence.example"]  # sent by the web process
    assert "Redis unreachable" in caplog.text and "run in-process" in caplog.text


def test_the_lead_is_told_on_every_page_and_the_health_page_explains(app, db, login_as, redis_down):
    lead, cm = make_lead(), make_cm()
    db.session.commit()
    assert redis_reachable(app) is False  # one ping, then cached

    dashboard = text_of(login_as(lead).get("/dashboard"))
    assert "Redis ne répond pas" in dashboard and 'href="/health"' in dashboard
    assert "Redis ne répond pas" not in text_of(login_as(cm).get("/time/day"))

    page = login_as(lead).get("/health")
    assert page.status_code == 200
    text = text_of(page)
    assert "Redis injoignable" in text
    assert "Redis est configuré mais ne répond pas" in text
    assert "Elles s'exécutent dans le processus web" in text
    assert "Dernière clôture du mois" in text and "Dernier webhook Stripe" in text
    assert text.count("Redis ne répond pas : les tâches") == 0  # no banner on the page that explains it

    retry = login_as(lead).post("/health/jobs/invoice-1/retry", follow_redirects=True)
    assert "Redis ne répond pas : réessayez quand il sera de retour." in text_of(retry)


def test_waiting_jobs_are_spooled_then_handed_to_redis_when_it_is_back(
    app, db, login_as, redis_down, monkeypatch
):
    live = services.redis_url()
    if not live:
        pytest.skip("needs Redis")
    monkeypatch.setitem(app.config, "JOBS_WHEN_REDIS_DOWN", "wait")
    lead = make_lead()
    db.session.commit()
    enqueue("tests.faults.jobs.remember", "first", queue="mail")
    enqueue("tests.faults.jobs.remember", "second", queue="mail", job_id="waiting-2")
    db.session.commit()
    assert fault_jobs.CALLS == []  # not run here
    assert spooled_count(app) == 2
    text = text_of(login_as(lead).get("/health"))
    assert "Elles attendent sur ce serveur et partiront vers Redis dès son retour." in text
    assert "2 tâches attendent sur ce serveur d'être transmises à Redis." in text

    monkeypatch.setitem(app.config, "REDIS_URL", live)  # Redis is back
    connection = redis_connection(app)
    connection.flushdb()
    try:
        enqueue("tests.faults.jobs.remember", "third", queue="mail")
        db.session.commit()
        queue = get_queue("mail", app)
        jobs = [Job.fetch(job_id, connection=connection) for job_id in queue.get_job_ids()]
        assert [job.args for job in jobs] == [
            ("tests.faults.jobs.remember", "first"),
            ("tests.faults.jobs.remember", "second"),
            ("tests.faults.jobs.remember", "third"),
        ]
        assert jobs[1].id == "waiting-2" and {job.timeout for job in jobs} == {600}
        assert spooled_count(app) == 0 and fault_jobs.CALLS == []
    finally:
        connection.flushdb()


def test_an_unknown_setting_is_refused_at_start():
    from flask import Flask

    from app import jobs

    bare = Flask(__name__)
    bare.config["JOBS_WHEN_REDIS_DOWN"] = "later"
    with pytest.raises(ValueError, match="JOBS_WHEN_REDIS_DOWN"):
        jobs.init_app(bare)
