"""The queue: `enqueue()` hands work to RQ, or runs it in-process without Redis.

Jobs are named by dotted path, take ids (never objects) and run in an app
context of their own. They are dispatched only once the current transaction
commits, so a worker never looks for rows that are not there yet, and a
rolled-back request enqueues nothing.

Redis configured but unreachable: the request has already committed, so it
never fails for that. The job runs in the web process (JOBS_WHEN_REDIS_DOWN
"inline", the default) or waits in a spool file of the instance folder
("wait"), handed to Redis by the next dispatch that reaches it (or by `flask
worker` when it starts). Either way the lead is told: `redis_reachable()`
answers from a ping cached a few seconds, and the health page and a banner
on the lead's pages say so.

A job past its timeout (JOB_TIMEOUT, or `timeout=` of enqueue) is stopped by
RQ and kept in its queue's failed jobs with the reason; the health page shows
those and can retry them.
"""

from __future__ import annotations

import fcntl
import importlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)

QUEUES = ("default", "mail", "reports", "invoices")
PENDING_KEY = "relais_pending_jobs"
WHEN_REDIS_DOWN = ("inline", "wait")
SPOOL_NAME = "jobs-waiting-for-redis.jsonl"
PING_EVERY = 15  # seconds a Redis ping is trusted for
CONNECT_TIMEOUT = 2  # seconds: an unreachable Redis must not hold a request up

# The app a worker process runs jobs with (set by `flask worker`).
_worker_app: Flask | None = None


@dataclass
class PendingJob:
    path: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue: str = "default"
    job_id: str | None = None
    timeout: int | None = None  # None: the app's JOB_TIMEOUT


def enqueue(
    path: str,
    *args: Any,
    queue: str = "default",
    job_id: str | None = None,
    timeout: int | None = None,
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

        ext[url] = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT)
    return ext[url]


def get_queue(name: str = "default", app: Flask | None = None):  # -> rq.Queue | None
    connection = redis_connection(app)
    if connection is None:
        return None
    from rq import Queue

    return Queue(name, connection=connection)


# -- is Redis there? -------------------------------------------------------------------


def _health(app: Flask) -> dict[str, Any]:
    """The last ping's answer, for the Redis of REDIS_URL."""
    by_url = app.extensions.setdefault("relais_redis_health", {})
    return by_url.setdefault(app.config.get("REDIS_URL"), {"up": None, "at": 0.0})


def redis_reachable(app: Flask | None = None, *, fresh: bool = False) -> bool | None:
    """None without REDIS_URL (jobs run in-process); else whether Redis
    answered a ping, cached PING_EVERY seconds (`fresh` pings now)."""
    app = app or current_app
    connection = redis_connection(app)
    if connection is None:
        return None
    health = _health(app)
    if fresh or health["up"] is None or time.monotonic() - health["at"] > PING_EVERY:
        from redis.exceptions import RedisError

        try:
            up = bool(connection.ping())
        except RedisError:
            up = False
        was_down = health["up"] is False
        health.update(up=up, at=time.monotonic())
        if up and was_down:
            try:
                flush_spool(app)
            except RedisError:
                health.update(up=False)
    return health["up"]


def _mark_down(app: Flask) -> None:
    _health(app).update(up=False, at=time.monotonic())


# -- dispatch ---------------------------------------------------------------------------


def _dispatch(app: Flask, jobs: list[PendingJob]) -> None:
    connection = redis_connection(app)
    if connection is None:
        for job in jobs:
            _run_inline(app, job)  # embedded default
        return
    from redis.exceptions import RedisError

    sent = 0
    try:
        if _spool_waiting(app):
            flush_spool(app)
        for job in jobs:
            _send(app, job)
            sent += 1
    except RedisError as error:
        _mark_down(app)
        _redis_down(app, jobs[sent:], error)


def _send(app: Flask, job: PendingJob) -> None:
    get_queue(job.queue, app).enqueue(
        run_job,
        job.path,
        *job.args,
        job_id=job.job_id,
        job_timeout=job.timeout or app.config.get("JOB_TIMEOUT", 600),
        description=job.path,
        **job.kwargs,
    )


def _run_inline(app: Flask, job: PendingJob) -> None:
    """Run now, in a fresh app context and session; the request already
    committed, so log a failure and never raise."""
    try:
        with app.app_context():
            run_job(job.path, *job.args, **job.kwargs)
    except Exception:
        log.exception("in-process job %s failed", job.path)


def _redis_down(app: Flask, jobs: list[PendingJob], error: Exception) -> None:
    mode = app.config.get("JOBS_WHEN_REDIS_DOWN", "inline")
    where = "spooled" if mode == "wait" else "run in-process"
    log.error("Redis unreachable (%s): %d job(s) %s", error, len(jobs), where)
    for job in jobs:
        if mode == "wait" and _spool(app, job):
            continue
        _run_inline(app, job)


# -- the spool: jobs waiting for Redis (JOBS_WHEN_REDIS_DOWN = "wait") ------------------


def spool_path(app: Flask) -> Path:
    return Path(app.instance_path) / SPOOL_NAME


def _spool(app: Flask, job: PendingJob) -> bool:
    try:
        line = json.dumps(asdict(job), ensure_ascii=False)
    except (TypeError, ValueError):
        log.error("job %s cannot wait for Redis (arguments not JSON): run in-process", job.path)
        return False
    path = spool_path(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(line + "\n")
    return True


def _spool_waiting(app: Flask) -> bool:
    try:
        return spool_path(app).stat().st_size > 0
    except FileNotFoundError:
        return False


def spooled_count(app: Flask | None = None) -> int:
    path = spool_path(app or current_app)
    try:
        with path.open(encoding="utf-8") as fh:
            return sum(1 for line in fh if line.strip())
    except FileNotFoundError:
        return 0


def flush_spool(app: Flask) -> int:
    """Hand the spooled jobs to Redis, in order; returns how many. If Redis
    fails midway, the rest stay in the spool (and RedisError goes up)."""
    path = spool_path(app)
    try:
        fh = path.open("r+", encoding="utf-8")
    except FileNotFoundError:
        return 0
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        lines = [line for line in fh.read().splitlines() if line.strip()]
        done = 0
        try:
            for line in lines:
                try:
                    data = json.loads(line)
                    job = PendingJob(**{**data, "args": tuple(data["args"])})
                except (ValueError, TypeError, KeyError):
                    log.error("unreadable job in %s, dropped: %s", path, line[:200])
                else:
                    _send(app, job)
                done += 1
        finally:
            fh.seek(0)
            fh.truncate()
            fh.write("".join(line + "\n" for line in lines[done:]))
            if done:
                log.warning("%d job(s) that waited for Redis handed to it", done)
    return done


def run_job(path: str, *args: Any, **kwargs: Any) -> Any:
    """Entry point of every job: resolve `path`, run it with an app context,
    in the system's scope (no user started it: app/access.py)."""
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
            return _run_scoped(path, func, args, kwargs)
    return _run_scoped(path, func, args, kwargs)


def _run_scoped(path: str, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    from app.access import system_scope, using_scope

    try:
        with using_scope(system_scope(f"job {path}")):
            return func(*args, **kwargs)
    finally:
        db.session.remove()


def init_app(app: Flask) -> None:
    if app.config.get("JOBS_WHEN_REDIS_DOWN", "inline") not in WHEN_REDIS_DOWN:
        raise ValueError(f"JOBS_WHEN_REDIS_DOWN must be one of {', '.join(WHEN_REDIS_DOWN)}")

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
    flush_spool(app)  # jobs that waited for Redis on this machine
    worker = SimpleWorker([get_queue(name, app) for name in queues], connection=connection)
    with app.app_context():
        worker.work(burst=burst, with_scheduler=not burst)
