"""Report jobs through a real Redis and a real RQ worker (burst mode, a
separate process started with `flask --app wsgi worker --burst`), on a
database of their own whose rows are committed (a worker cannot see a test's
uncommitted transaction)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app import create_app
from app.config import TestConfig
from app.documents.models import Document
from app.extensions import db
from app.reports.models import RenderState, Report, ReportVersion
from app.reports.services import request_publish
from tests import services
from tests.conftest import TEST_DB_NAME, build_schema
from tests.factories import assign, make_client, make_cm, make_contract, make_entry, make_lead

pytestmark = pytest.mark.worker
ROOT = Path(__file__).resolve().parents[2]
OCTOBER = date(2026, 10, 1)


@pytest.fixture(scope="module")
def worker_env(tmp_path_factory):
    redis_url = services.redis_url()
    if not redis_url:
        pytest.skip("needs Redis: jobs run in-process without it")
    url = services.database_url(f"{TEST_DB_NAME}_jobs")
    folder = tmp_path_factory.mktemp("jobs")
    if url.startswith("postgresql"):
        services.create_postgres_database(url)
    else:
        url = "sqlite:///" + str(folder / "jobs.sqlite3")
    app = create_app(
        TestConfig,
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": redis_url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "MAIL_OUTBOX_DIR": str(folder / "outbox"),
        },
    )
    build_schema(app)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "worker-tests",
        "RELAIS_ENV": "test",
        "MAIL_OUTBOX_DIR": str(folder / "outbox"),
    }
    return app, env


@pytest.fixture
def japp(worker_env):
    """The app, with an empty database and empty queues for each test."""
    app, env = worker_env
    with app.app_context():
        from app.jobs import redis_connection

        redis_connection(app).flushdb()
        with db.engine.begin() as conn:
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            if db.engine.dialect.name == "postgresql":
                conn.execute(text("SET session_replication_role = replica"))  # past the guards
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
        yield app, env
        db.session.remove()


def run_worker(env, *, wait: bool = True) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    if wait:
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0, output.decode()
    return process


def agency_with_contracts(count: int = 2):
    lead, cm = make_lead(), make_cm()
    contracts = []
    for i in range(count):
        client = make_client(f"Client {i}")
        assign(cm, client)
        contract = make_contract(client, start=date(2026, 1, 1))
        make_entry(contract, cm, date(2026, 10, 5 + i), 90)
        contracts.append(contract)
    db.session.commit()
    return lead, contracts


def test_close_month_twice_gives_one_rendered_report_per_contract(japp):
    app, env = japp
    agency_with_contracts(3)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["close-month", "2026-10", "--no-wait"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Report)) == 3
    assert set(db.session.scalars(select(Report.render_state))) == {RenderState.QUEUED}

    run_worker(env)
    db.session.expire_all()
    reports = db.session.scalars(select(Report)).all()
    assert {r.render_state for r in reports} == {RenderState.DONE}
    drafts = {r.draft_sha256 for r in reports}
    assert None not in drafts
    for sha in drafts:
        assert db.session.get(Document, sha).content.startswith(b"%PDF")

    assert runner.invoke(args=["close-month", "2026-10", "--no-wait"]).exit_code == 0
    run_worker(env)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Report)) == 3
    assert {r.draft_sha256 for r in db.session.scalars(select(Report))} == drafts  # nothing re-rendered


def test_a_worker_killed_while_publishing_leaves_no_version_and_the_rerun_publishes_once(japp):
    app, env = japp
    lead, (contract,) = agency_with_contracts(1)
    from app.reports.services import ensure_report

    report = ensure_report(contract, OCTOBER)
    db.session.commit()
    request_publish(lead, report)
    db.session.commit()

    worker = run_worker(env, wait=False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        db.session.expire_all()
        if db.session.get(Report, report.id).render_state == RenderState.RENDERING:
            break
        time.sleep(0.01)
    else:
        worker.kill()
        pytest.fail("the job never started rendering")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ReportVersion)) == 0
    assert db.session.get(Report, report.id).status == "draft"

    # Running the job again (what a retry does) publishes version 1 once.
    request_publish(lead, db.session.get(Report, report.id))
    db.session.commit()
    run_worker(env)
    from app.reports.jobs import publish_report

    with app.app_context():
        assert publish_report(report.id, 1, lead.id) is None  # and once more: nothing to do
    db.session.expire_all()
    versions = db.session.scalars(select(ReportVersion)).all()
    assert [v.number for v in versions] == [1]
    assert db.session.get(Document, versions[0].document_sha256).content.startswith(b"%PDF")
    assert db.session.get(Report, report.id).status == "published"
