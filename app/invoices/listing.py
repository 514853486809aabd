"""The lead's invoice lists: filters, totals of the filtered set, and the
labels and badges of each state. Queries only; nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import selectinload

from app.clients.models import Client
from app.documents import rendering
from app.extensions import db
from app.invoices.models import Invoice, InvoiceKind, InvoiceStatus, RenderState
from app.money import ZERO
from app.timesheets.calendar import month_end, month_start

STATUS_LABELS = {
    "draft": _l("Brouillon"),
    "issued": _l("Émise"),
    "partly_paid": _l("Payée en partie"),
    "paid": _l("Payée"),
    "overdue": _l("En retard"),
    "cancelled": _l("Annulée"),
}
CREDIT_NOTE_LABELS = {"issued": _l("Émis"), "draft": _l("Brouillon"), "cancelled": _l("Annulé")}
STATUS_BADGES = {
    "draft": "neutral",
    "issued": "info",
    "partly_paid": "warn",
    "paid": "ok",
    "overdue": "danger",
    "cancelled": "neutral",
}
KIND_LABELS = {InvoiceKind.INVOICE: _l("Facture"), InvoiceKind.CREDIT_NOTE: _l("Avoir")}
RENDER_LABELS = {
    RenderState.IDLE: _l("Pas encore demandé"),
    RenderState.QUEUED: _l("En file d'attente"),
    RenderState.RENDERING: _l("En cours de génération"),
    RenderState.DONE: _l("Prêt"),
    RenderState.FAILED: _l("Échec"),
}


def status_label(invoice: Invoice, today: date) -> str:
    state = invoice.display_status(today)
    if invoice.is_credit_note:
        return str(CREDIT_NOTE_LABELS.get(state, STATUS_LABELS.get(state, state)))
    return str(STATUS_LABELS.get(state, state))


def status_badge(invoice: Invoice, today: date) -> str:
    return STATUS_BADGES.get(invoice.display_status(today), "neutral")


def render_status(invoice: Invoice) -> dict:
    """The JSON the page's poller reads (app/static/js/relais.js)."""
    return rendering.render_status(invoice, RENDER_LABELS)


# -- filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    q: str = ""
    status: str = ""
    client_id: int | None = None
    kind: str = ""
    month: date | None = None
    year: int | None = None

    def args(self) -> dict[str, str]:
        """The query string that gives these filters back (for links and redirects)."""
        values = {
            "q": self.q,
            "status": self.status,
            "client": str(self.client_id) if self.client_id else "",
            "kind": self.kind,
            "month": self.month.strftime("%Y-%m") if self.month else "",
            "year": str(self.year) if self.year else "",
        }
        return {name: value for name, value in values.items() if value}


def reference_date():
    """The date an invoice is filed under: the month it bills, else its
    service period, else its issue date (a manual draft without a period
    has none until it is issued)."""
    return func.coalesce(Invoice.month, Invoice.period_start, Invoice.issue_date)


def _overdue(today: date):
    return (
        Invoice.status.in_((InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID))
        & (Invoice.kind == InvoiceKind.INVOICE)
        & (Invoice.due_date < today)
        & (Invoice.total_ttc - Invoice.amount_credited - Invoice.amount_paid > 0)
    )


def filtered_invoices(filters: Filters, today: date) -> Select[tuple[Invoice]]:
    stmt = select(Invoice).join(Client, Client.id == Invoice.client_id)
    if filters.q:
        pattern = f"%{filters.q.strip()}%"
        stmt = stmt.where(
            or_(Invoice.number.ilike(pattern), Client.name.ilike(pattern), Invoice.title.ilike(pattern))
        )
    if filters.status == "overdue":
        stmt = stmt.where(_overdue(today))
    elif filters.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID):
        stmt = stmt.where(Invoice.status == filters.status, ~_overdue(today))
    elif filters.status:
        stmt = stmt.where(Invoice.status == filters.status)
    if filters.client_id:
        stmt = stmt.where(Invoice.client_id == filters.client_id)
    if filters.kind:
        stmt = stmt.where(Invoice.kind == filters.kind)
    if filters.month:
        first = month_start(filters.month)
        stmt = stmt.where(reference_date() >= first, reference_date() <= month_end(first))
    if filters.year:
        stmt = stmt.where(
            reference_date() >= date(filters.year, 1, 1), reference_date() <= date(filters.year, 12, 31)
        )
    return stmt


def ordered(stmt: Select[tuple[Invoice]]) -> Select[tuple[Invoice]]:
    """Drafts first (they wait for the lead), then the newest numbers."""
    return stmt.options(selectinload(Invoice.client)).order_by(
        Invoice.issue_date.desc().nulls_first(), Invoice.id.desc()
    )


@dataclass(frozen=True)
class Totals:
    count: int
    drafts: int
    total_ht: Decimal  # credit notes count against
    total_ttc: Decimal
    due: Decimal

    @property
    def empty(self) -> bool:
        return self.count == 0


def totals(stmt: Select[tuple[Invoice]]) -> Totals:
    """Count and sums of the filtered set, in one query."""
    inner = stmt.with_only_columns(
        Invoice.id, Invoice.kind, Invoice.status, Invoice.total_ht, Invoice.total_ttc,
        Invoice.amount_credited, Invoice.amount_paid,
    ).subquery()  # fmt: skip
    sign = case((inner.c.kind == InvoiceKind.CREDIT_NOTE, -1), else_=1)
    owing = inner.c.status.in_((InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)) & (
        inner.c.kind == InvoiceKind.INVOICE
    )
    due = case((owing, inner.c.total_ttc - inner.c.amount_credited - inner.c.amount_paid), else_=0)
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((inner.c.status == InvoiceStatus.DRAFT, 1), else_=0)), 0),
            func.coalesce(func.sum(sign * inner.c.total_ht), 0),
            func.coalesce(func.sum(sign * inner.c.total_ttc), 0),
            func.coalesce(func.sum(due), 0),
        ).select_from(inner)
    ).one()
    return Totals(
        count=row[0],
        drafts=int(row[1]),
        total_ht=Decimal(row[2] or ZERO),
        total_ttc=Decimal(row[3] or ZERO),
        due=Decimal(row[4] or ZERO),
    )


def invoice_years() -> list[int]:
    """The years the invoices are filed under, newest first."""
    first = db.session.scalar(select(func.min(reference_date())))
    last = db.session.scalar(select(func.max(reference_date())))
    if first is None or last is None:
        return []
    if isinstance(first, str):  # SQLite hands back the text of the date
        first, last = date.fromisoformat(first), date.fromisoformat(last)
    return list(range(last.year, first.year - 1, -1))


def clients_with_invoices() -> list[Client]:
    return list(
        db.session.scalars(
            select(Client).where(Client.id.in_(select(Invoice.client_id).distinct())).order_by(Client.name)
        )
    )


def month_drafts(month: date) -> list[Invoice]:
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.month == month_start(month), Invoice.status == InvoiceStatus.DRAFT)
            .options(selectinload(Invoice.client))
        )
    )


def drafts_by_ids(ids: list[int]) -> list[Invoice]:
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.id.in_(ids), Invoice.status == InvoiceStatus.DRAFT)
            .options(selectinload(Invoice.client))
            .order_by(Invoice.client_id, Invoice.id)
        )
    )


def draft_credit_notes_of(invoice: Invoice) -> list[Invoice]:
    """Credit notes prepared against `invoice` and not yet issued."""
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.credited_invoice_id == invoice.id, Invoice.status == InvoiceStatus.DRAFT)
            .order_by(Invoice.id)
        )
    )
