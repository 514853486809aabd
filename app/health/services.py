"""What the health page shows, read from RQ and the database; and the one
action it offers: retry a failed job, found in a queue's failed jobs (an
id from the URL is never trusted)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import jobs
from app.extensions import db

FAILED_SHOWN = 50  # per queue, newest first
JOB_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,120}$")

QUEUE_LABELS = {
    "default": _l("Générale (paiements…)"),
    "mail": _l("Envoi des courriels"),
    "reports": _l("Rapports"),
    "invoices": _l("Factures"),
}
JOB_LABELS = {
    "app.invoices.jobs.render_invoice": _l("PDF d'une facture et annonce au client"),
    "app.reports.jobs.render_draft": _l("PDF d'un brouillon de rapport"),
    "app.reports.jobs.publish_report": _l("Publication d'un rapport"),
    "app.mail.deliver": _l("Envoi d'un courriel"),
    "app.payments.jobs.handle_event": _l("Événement Stripe"),
}


class RetryError(Exception):
    """The job cannot be retried (message for the lead)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class QueueState:
    name: str
    label: str
    queued: int
    started: int
    failed: int


@dataclass
class FailedJob:
    id: str
    queue: str
    path: str
    label: str
    arguments: str
    enqueued_at: datetime | None
    ended_at: datetime | None
    reason: str  # what happened, in words
    detail: str  # the exception's last line


@dataclass
class JobsOverview:
    mode: str  # "inline": no REDIS_URL; "redis"
    reachable: bool | None
    when_down: str  # JOBS_WHEN_REDIS_DOWN
    queues: list[QueueState] = field(default_factory=list)
    failed: list[FailedJob] = field(default_factory=list)
    workers: int | None = None
    spooled: int = 0
    error: str | None = None

    @property
    def failed_total(self) -> int:
        return sum(q.failed for q in self.queues)

    @property
    def waiting_without_worker(self) -> bool:
        return self.workers == 0 and any(q.queued for q in self.queues)


def _last_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""


def _reason(job: Any, detail: str) -> str:
    if "JobTimeoutException" in detail:
        return _("Délai dépassé : arrêtée après %(s)s s.", s=job.timeout)
    if "AbandonedJobError" in detail:
        return _("Abandonnée : le worker s'est arrêté pendant la tâche (arrêt brutal, redémarrage).")
    if not detail:
        return _("Échec sans message.")
    return _("Erreur pendant la tâche.")


def _arguments(job: Any) -> str:
    args = list(job.args or ())[1:]  # the first is the job's dotted path
    if args and all(isinstance(a, int | str) and len(str(a)) <= 40 for a in args):
        return ", ".join(str(a) for a in args)
    return ""


def _failed_job(job: Any, queue: str) -> FailedJob:
    result = job.latest_result()
    detail = _last_line(result.exc_string if result is not None else None)
    path = job.description or job.func_name or ""
    return FailedJob(
        id=job.id,
        queue=queue,
        path=path,
        label=str(JOB_LABELS.get(path, path)),
        arguments=_arguments(job),
        enqueued_at=job.enqueued_at,
        ended_at=job.ended_at,
        reason=_reason(job, detail),
        detail=detail,
    )


def jobs_overview() -> JobsOverview:
    app = current_app
    when_down = app.config.get("JOBS_WHEN_REDIS_DOWN", "inline")
    reachable = jobs.redis_reachable(app, fresh=True)
    overview = JobsOverview(
        mode="inline" if reachable is None else "redis",
        reachable=reachable,
        when_down=when_down,
        spooled=jobs.spooled_count(app),
    )
    if not reachable:
        return overview
    from redis.exceptions import RedisError
    from rq import Worker
    from rq.job import Job, JobStatus
    from rq.registry import FailedJobRegistry, StartedJobRegistry

    connection = jobs.redis_connection(app)
    try:
        for name in jobs.QUEUES:
            queue = jobs.get_queue(name, app)
            registry = FailedJobRegistry(queue=queue)
            ids = registry.get_job_ids(0, FAILED_SHOWN - 1, desc=True)
            failed = [
                job
                for job in Job.fetch_many(ids, connection=connection)
                if job is not None and job.get_status(refresh=False) == JobStatus.FAILED
            ]
            overview.failed += [_failed_job(job, name) for job in failed]
            overview.queues.append(
                QueueState(
                    name=name,
                    label=str(QUEUE_LABELS[name]),
                    queued=queue.count,
                    started=StartedJobRegistry(queue=queue).count,
                    failed=registry.count if len(ids) >= FAILED_SHOWN else len(failed),
                )
            )
        overview.workers = Worker.count(connection=connection)
    except RedisError as error:
        overview.reachable = False
        overview.error = str(error)[:300]
    overview.failed.sort(key=lambda job: job.ended_at.timestamp() if job.ended_at else 0.0, reverse=True)
    return overview


def retry_failed_job(job_id: str) -> str:
    """Put a failed job back in its queue; returns what it is (its label).
    The id must be in one of our queues' failed jobs."""
    app = current_app
    connection = jobs.redis_connection(app)
    if connection is None:
        raise RetryError(_("Les tâches s'exécutent dans le processus web : il n'y a rien à relancer."))
    if not JOB_ID.match(job_id or ""):
        raise RetryError(_("Cette tâche n'est pas dans les tâches en échec."))
    from redis.exceptions import RedisError
    from rq.exceptions import InvalidJobOperation, NoSuchJobError
    from rq.job import Job
    from rq.registry import FailedJobRegistry

    try:
        for name in jobs.QUEUES:
            registry = FailedJobRegistry(queue=jobs.get_queue(name, app))
            if connection.zscore(registry.key, job_id) is None:
                continue
            job = Job.fetch(job_id, connection=connection)
            path = job.description or ""
            registry.requeue(job)
            return str(JOB_LABELS.get(path, path))
    except (NoSuchJobError, InvalidJobOperation):
        raise RetryError(_("Cette tâche n'est plus dans les tâches en échec.")) from None
    except RedisError:
        raise RetryError(_("Redis ne répond pas : réessayez quand il sera de retour.")) from None
    raise RetryError(_("Cette tâche n'est pas dans les tâches en échec."))


# -- the rest of the page: month close, Stripe ------------------------------------------


@dataclass
class CloseState:
    month: date
    started_at: datetime
    started_by: str | None
    contracts: int
    progress: Any  # app.reports.close.CloseProgress
    invoices: Any  # app.reports.close.InvoiceTally


def close_state() -> CloseState | None:
    from app.auth.models import User
    from app.reports.close import invoice_tally, last_close, progress

    run = last_close()
    if run is None:
        return None
    by = db.session.get(User, run.started_by_id) if run.started_by_id else None
    return CloseState(
        month=run.month,
        started_at=run.started_at,
        started_by=by.name if by else None,
        contracts=run.contracts,
        progress=progress(run.month),
        invoices=invoice_tally(run.month),
    )


def last_webhook():  # -> StripeEvent | None
    from app.payments.models import StripeEvent

    return db.session.scalar(select(StripeEvent).order_by(StripeEvent.received_at.desc()).limit(1))


def database_wall():  # -> app.rls.RoleStatus | None
    """What the app's own connection is, for the second wall: None on
    SQLite, where the access module's filters are the only one."""
    from app.rls import role_status

    if db.engine.dialect.name != "postgresql":
        return None
    return role_status(db.session.connection())
