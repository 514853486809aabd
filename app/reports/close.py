"""Month close: lock the month of every running contract, make its report
(one per contract and month, whatever happens) and render it, and draft its
invoice. Idempotent: run twice, or after a missed month, it makes nothing
twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.auth.models import User
from app.contracts.budget import active_contracts_query
from app.extensions import db
from app.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from app.invoices.services import draft_month_invoices
from app.reports.models import MonthClose, RenderState, Report, ReportStatus
from app.reports.services import ensure_report, request_render
from app.timesheets.calendar import month_start
from app.timesheets.services import lock_month_for_all


@dataclass(frozen=True)
class CloseProgress:
    total: int
    done: int
    failed: int
    queued: int

    @property
    def finished(self) -> bool:
        return self.done + self.failed >= self.total

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * (self.done + self.failed) / self.total)


@dataclass(frozen=True)
class InvoiceTally:
    """The month's contract invoices: drafts waiting for the lead, issued ones."""

    drafts: int
    issued: int

    @property
    def total(self) -> int:
        return self.drafts + self.issued


def close_month(actor: User | None, month: date) -> MonthClose:
    """Lock, make the reports, queue their rendering (after the caller
    commits), and draft each contract's invoice of the month."""
    month = month_start(month)
    lock_month_for_all(actor, month)
    contracts = list(db.session.scalars(active_contracts_query(month)))
    for contract in contracts:
        report = ensure_report(contract, month)
        rendered = report.status == ReportStatus.PUBLISHED or (
            report.draft_sha256 is not None and report.render_state == RenderState.DONE
        )
        pending = report.render_state in (RenderState.QUEUED, RenderState.RENDERING)
        if not rendered and not pending:
            request_render(report)
    draft_month_invoices(actor, month)
    run = MonthClose(month=month, started_by_id=actor.id if actor else None, contracts=len(contracts))
    db.session.add(run)
    db.session.flush()
    return run


def progress(month: date) -> CloseProgress:
    """Where the month's reports are: rendered (or published), failed, waiting."""
    rows = db.session.execute(
        select(Report.status, Report.render_state, Report.draft_sha256.is_not(None), func.count())
        .where(Report.month == month_start(month))
        .group_by(Report.status, Report.render_state, Report.draft_sha256.is_not(None))
    ).all()
    done = failed = queued = 0
    for status, state, has_draft, count in rows:
        if state == RenderState.FAILED:
            failed += count
        elif status == ReportStatus.PUBLISHED or (state == RenderState.DONE and has_draft):
            done += count
        else:
            queued += count
    return CloseProgress(total=done + failed + queued, done=done, failed=failed, queued=queued)


def invoice_tally(month: date) -> InvoiceTally:
    """The contract invoices of `month` (cancelled ones left out)."""
    rows = db.session.execute(
        select(Invoice.status, func.count())
        .where(
            Invoice.month == month_start(month),
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status != InvoiceStatus.CANCELLED,
        )
        .group_by(Invoice.status)
    ).all()
    drafts = sum(count for status, count in rows if status == InvoiceStatus.DRAFT)
    return InvoiceTally(drafts=drafts, issued=sum(count for _status, count in rows) - drafts)


def last_close() -> MonthClose | None:
    return db.session.scalar(select(MonthClose).order_by(MonthClose.id.desc()).limit(1))
