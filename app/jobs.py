"""The queue: `enqueue()` hands work to RQ, or runs it in-process without Redis.

Jobs are named by dotted path, take ids (never objects) and run in an app
context of their own. They are dispatched only once the current transaction
commits, so a worker never looks for rows that are not there yet, and a
rolled-back request enqueues nothing.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)

QUEUES = ("default", "mail", "reports", "invoices")
PENDING_KEY = "relais_pending_jobs"

# The app a worker process runs jobs with (set by `flask worker`).
_worker_app: Flask | None = None


@dataclass
class PendingJob:
    path: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue: str = "default"
    job_id: str | None = None
    timeout: int = 600


def enqueue(
    path: str,
    *args: Any,
    queue: str = "default",
    job_id: str | None = None,
    timeout: int = 600,
    **kwargs: Any,
) -> None:
    """Run `path(*args, **kwargs)` after the current transaction commits."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    pending = db.session.info.setdefault(PENDING_KEY, [])
    pending.append(PendingJob(path, args, kwargs, queue, job_id, timeout))


def redis_connection(app: Flask | None = None):  # -> redis.Redis | None
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    ext = app.extensions.setdefault("relais_redis", {})
    if url not in ext:
        from redis import Redis

        ext[url] = Redis.from_url(url)
    return ext[url]


def get_queue(name: str = "default", app: Flask | None = None):  # -> rq.Queue | None
    connection = redis_connection(app)
    if connection is None:
        return None
    from rq import Queue

    return Queue(name, connection=connection)


def _dispatch(app: Flask, jobs: list[PendingJob]) -> None:
    for job in jobs:
        queue = get_queue(job.queue, app)
        if queue is None:
            # Embedded default: run now, in a fresh app context and session.
            try:
                with app.app_context():
                    run_job(job.path, *job.args, **job.kwargs)
            except Exception:  # the request already committed; log, never raise
                log.exception("in-process job %s failed", job.path)
        else:
            queue.enqueue(
                run_job,
                job.path,
                *job.args,
                job_id=job.job_id,
                job_timeout=job.timeout,
                description=job.path,
                **job.kwargs,
            )


def run_job(path: str, *args: Any, **kwargs: Any) -> Any:
    """Entry point of every job: resolve `path`, run it with an app context."""
    module_name, _, func_name = path.rpartition(".")
    func = getattr(importlib.import_module(module_name), func_name)
    try:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:
        app = _worker_app
        if app is None:
            from app import create_app

            app = create_app()
        with app.app_context():
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()
    try:
        return func(*args, **kwargs)
    finally:
        db.session.remove()


def init_app(app: Flask) -> None:
    @event.listens_for(db.session, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a SAVEPOINT released: the transaction itself has not committed
        jobs = session.info.pop(PENDING_KEY, [])
        if jobs:
            _dispatch(current_app._get_current_object(), jobs)  # type: ignore[attr-defined]

    @event.listens_for(db.session, "after_soft_rollback")
    def _after_rollback(session: Session, previous_transaction: Any) -> None:
        if previous_transaction.nested:
            return  # back to a SAVEPOINT: the transaction (and its jobs) goes on
        session.info.pop(PENDING_KEY, None)


def work(app: Flask, queues: list[str], burst: bool = False) -> None:
    """Run an RQ worker for `queues` with `app` configured (`flask worker`)."""
    global _worker_app
    from rq import SimpleWorker

    connection = redis_connection(app)
    if connection is None:
        raise RuntimeError("REDIS_URL is not set: jobs run in-process, no worker is needed")
    _worker_app = app
    worker = SimpleWorker([get_queue(name, app) for name in queues], connection=connection)
    with app.app_context():
        worker.work(burst=burst, with_scheduler=not burst)
