"""A job past its timeout: RQ stops it and keeps it in the failed jobs with
its reason; the lead sees it on the health page and retries it."""

from __future__ import annotations

import time

import pytest
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry

from app.extensions import db
from app.jobs import enqueue, get_queue, redis_connection
from tests.factories import make_cm, make_lead
from tests.reports.test_worker import csrf_token, lead_browser, run_worker

pytestmark = pytest.mark.worker


def test_a_job_past_its_timeout_is_failed_with_its_reason_then_retried_from_the_health_page(japp, tmp_path):
    app, env = japp
    lead, cm = make_lead(), make_cm()
    db.session.commit()
    enqueue("tests.faults.jobs.nap", 60, str(tmp_path / "slept"), queue="reports", job_id="nap-1", timeout=1)
    db.session.commit()

    started = time.monotonic()
    run_worker(env)
    assert time.monotonic() - started < 30  # stopped after 1 s, not 60
    queue, connection = get_queue("reports", app), redis_connection(app)
    failed = FailedJobRegistry(queue=queue)
    assert failed.get_job_ids() == ["nap-1"]
    job = Job.fetch("nap-1", connection=connection)
    assert job.get_status() == JobStatus.FAILED
    assert "JobTimeoutException" in job.latest_result().exc_string

    browser = lead_browser(app, lead)
    page = browser.get("/health")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "nap-1" in text and "tests.faults.jobs.nap" in text
    assert "Délai dépassé : arrêtée après 1 s." in text
    assert "JobTimeoutException: Task exceeded maximum timeout value (1 seconds)" in text
    assert "Relancer" in text
    token = csrf_token(page)

    # Not a CM's business; not without the form's CSRF token; never an id from elsewhere.
    cm_browser = lead_browser(app, cm)
    assert cm_browser.get("/health").status_code == 403
    assert cm_browser.post("/health/jobs/nap-1/retry", data={"csrf_token": token}).status_code in (400, 403)
    assert browser.post("/health/jobs/nap-1/retry").status_code == 400
    for stranger in ("nap-2", "rq:job:nap-1", "nap-1'--"):
        url = f"/health/jobs/{stranger}/retry"
        answer = browser.post(url, data={"csrf_token": token}, follow_redirects=True)
        assert answer.status_code == 200
        assert "Cette tâche n&#39;est pas dans les tâches en échec." in answer.get_data(as_text=True)
    assert failed.get_job_ids() == ["nap-1"] and queue.count == 0

    answer = browser.post("/health/jobs/nap-1/retry", data={"csrf_token": token}, follow_redirects=True)
    assert "Tâche relancée" in answer.get_data(as_text=True)
    assert failed.get_job_ids() == [] and queue.count == 1
    twice = browser.post("/health/jobs/nap-1/retry", data={"csrf_token": token}, follow_redirects=True)
    assert "pas dans les tâches en échec" in twice.get_data(as_text=True)
    assert queue.count == 1  # a double click queues it once

    run_worker(env)
    job = Job.fetch("nap-1", connection=connection)
    assert job.get_status() == JobStatus.FINISHED and job.return_value() == "awake"
    assert "Aucune tâche en échec." in browser.get("/health").get_data(as_text=True)
