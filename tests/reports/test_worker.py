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
from sqlalchemy import func, select

from app import access, create_app
from app.config import TestConfig
from app.documents.models import Document
from app.extensions import db
from app.reports.models import RenderState, Report, ReportVersion
from app.reports.services import request_publish
from tests import services
from tests.conftest import TEST_DB_NAME, build_schema
from tests.factories import (
    assign,
    make_agency_settings,
    make_client,
    make_client_user,
    make_cm,
    make_contract,
    make_entry,
    make_lead,
)

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
            **services.database_settings(url),
            "REDIS_URL": redis_url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "MAIL_OUTBOX_DIR": str(folder / "outbox"),
        },
    )
    build_schema(app)
    env = {
        **os.environ,
        **services.database_environment(url),
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
        services.empty_database(app)
        access.set_scope(access.system_scope("test"))  # the test's own rows, as a command's
        yield app, env
        db.session.remove()


def lead_browser(app, lead):
    """A test client of `app` logged in as `lead` (CSRF on, as in production),
    each request in an app context of its own (see IsolatedClient)."""
    from tests.conftest import IsolatedClient

    client = IsolatedClient(app, app.response_class, use_cookies=True)
    with client.session_transaction() as session:
        session["_user_id"] = lead.get_id()
        session["_fresh"] = True
    return client


def csrf_token(page) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def kill_when(worker: subprocess.Popen, started) -> None:
    """SIGKILL the worker as soon as `started()` is true (polled)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        db.session.expire_all()
        if started():
            break
        time.sleep(0.01)
    else:
        worker.kill()
        pytest.fail("the job never started")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


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
    kill_when(worker, lambda: db.session.get(Report, report.id).render_state == RenderState.RENDERING)

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ReportVersion)) == 0
    assert db.session.get(Report, report.id).status == "draft"

    # Running the job again (what a retry does) publishes version 1 once.
    request_publish(lead, db.session.get(Report, report.id))
    db.session.commit()
    run_worker(env)
    from app.reports.jobs import publish_report

    with services.app_context(app):
        assert publish_report(report.id, 1, lead.id) is None  # and once more: nothing to do
    db.session.expire_all()
    versions = db.session.scalars(select(ReportVersion)).all()
    assert [v.number for v in versions] == [1]
    assert db.session.get(Document, versions[0].document_sha256).content.startswith(b"%PDF")
    assert db.session.get(Report, report.id).status == "published"


def outbox_count(env) -> int:
    return len(list(Path(env["MAIL_OUTBOX_DIR"]).glob("*.eml")))


def test_a_worker_killed_while_rendering_an_invoice_then_retried_gives_one_pdf_and_one_mail(japp):
    from rq.registry import FailedJobRegistry, StartedJobRegistry

    from app.invoices.models import Invoice
    from app.invoices.models import RenderState as InvoiceRender
    from app.invoices.services import issue_invoice
    from app.jobs import get_queue

    app, env = japp
    make_agency_settings()
    lead, cm = make_lead(), make_cm()
    client = make_client(
        "Boulangerie Dupont",
        address_line="3 rue Sommeiller",
        postal_code="74000",
        city="Annecy",
        siren="552100554",
    )
    assign(cm, client)
    members = [make_client_user(client, email=f"{n}@dupont.example") for n in ("sophie", "jules")]
    contract = make_contract(client, start=date(2026, 1, 1))
    make_entry(contract, cm, date(2026, 10, 6), 120)
    db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["close-month", "2026-10", "--no-wait"]).exit_code == 0
    run_worker(env)  # the month's report

    invoice = db.session.scalars(select(Invoice).where(Invoice.contract_id == contract.id)).one()
    issue_invoice(lead, invoice)
    db.session.commit()  # its PDF job goes to the "invoices" queue
    job_id = f"invoice-{invoice.id}"
    documents, mails = db.session.scalar(select(func.count()).select_from(Document)), outbox_count(env)

    worker = run_worker(env, wait=False)
    kill_when(worker, lambda: db.session.get(Invoice, invoice.id).render_state == InvoiceRender.RENDERING)

    db.session.expire_all()
    killed = db.session.get(Invoice, invoice.id)
    assert killed.render_state == InvoiceRender.RENDERING  # what the lead sees meanwhile
    assert killed.pdf_sha256 is None and killed.sent_at is None
    assert db.session.scalar(select(func.count()).select_from(Document)) == documents
    assert outbox_count(env) == mails

    # The dead worker's heartbeat runs out: RQ calls the job abandoned and
    # keeps it with the failed jobs, where the lead's health page shows it.
    queue = get_queue("invoices", app)
    StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 3600)
    assert FailedJobRegistry(queue=queue).get_job_ids() == [job_id]
    browser = lead_browser(app, lead)
    page = browser.get("/health")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert job_id in text and "Abandonnée" in text
    answer = browser.post(f"/health/jobs/{job_id}/retry", data={"csrf_token": csrf_token(page)})
    assert answer.status_code == 302
    assert FailedJobRegistry(queue=queue).get_job_ids() == [] and queue.count == 1
    run_worker(env)

    db.session.expire_all()
    done = db.session.get(Invoice, invoice.id)
    assert done.render_state == InvoiceRender.DONE and done.render_error is None
    assert db.session.get(Document, done.pdf_sha256).content.startswith(b"%PDF")
    assert db.session.scalar(select(func.count()).select_from(Document)) == documents + 1
    assert done.sent_at is not None
    assert outbox_count(env) == mails + len(members)  # one mail to each of the client's users
    sent_at, sha256 = done.sent_at, done.pdf_sha256

    # The month closed again and the job run once more: nothing is made twice.
    assert runner.invoke(args=["close-month", "2026-10", "--no-wait"]).exit_code == 0
    from app.invoices.services import request_render

    request_render(db.session.get(Invoice, invoice.id))
    db.session.commit()
    run_worker(env)
    db.session.expire_all()
    invoices = db.session.scalars(
        select(Invoice).where(Invoice.contract_id == contract.id, Invoice.month == OCTOBER)
    ).all()
    assert [i.id for i in invoices] == [invoice.id]  # one invoice per contract and month
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1  # and one report
    again = db.session.get(Invoice, invoice.id)
    assert again.pdf_sha256 == sha256 and again.sent_at == sent_at
    assert db.session.scalar(select(func.count()).select_from(Document)) == documents + 1
    assert outbox_count(env) == mails + len(members)
