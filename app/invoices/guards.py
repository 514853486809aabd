"""An issued invoice never changes and is never deleted, whatever path the
change takes (form, service, CLI, job): a flush guard here, and a trigger on
PostgreSQL (migration) for what does not go through the ORM."""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.invoices.models import FROZEN, Invoice, InvoiceLine, InvoiceStatus, Payment


class FrozenInvoiceError(RuntimeError):
    """A change to an issued invoice, its lines or its payments was refused."""


def _was_issued(invoice: Invoice) -> bool:
    history = inspect(invoice).attrs["status"].history
    before = history.deleted[0] if history.deleted else invoice.status
    return before != InvoiceStatus.DRAFT


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_issued_invoices(session: Session, flush_context, instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, Invoice) and _was_issued(obj):
            state = inspect(obj)
            changed = [name for name in FROZEN if state.attrs[name].history.has_changes()]
            if changed:
                raise FrozenInvoiceError(
                    f"invoice {obj.number} is issued: {', '.join(changed)} cannot change"
                )
            pdf = state.attrs["pdf_sha256"].history
            if pdf.deleted and pdf.deleted[0] is not None:
                raise FrozenInvoiceError(f"invoice {obj.number}: its PDF cannot change")
        elif isinstance(obj, InvoiceLine) and session.is_modified(obj, include_collections=False):
            if obj.invoice is not None and _was_issued(obj.invoice):
                raise FrozenInvoiceError("the lines of an issued invoice cannot change")
        elif isinstance(obj, Payment) and session.is_modified(obj, include_collections=False):
            raise FrozenInvoiceError("a recorded payment never changes")
    for obj in session.new:
        if isinstance(obj, InvoiceLine) and obj.invoice is not None and _was_issued(obj.invoice):
            raise FrozenInvoiceError("the lines of an issued invoice cannot change")
    for obj in session.deleted:
        if isinstance(obj, Invoice) and (_was_issued(obj) or obj.number is not None):
            raise FrozenInvoiceError(f"invoice {obj.number} is issued: it is never deleted")
        if isinstance(obj, InvoiceLine) and obj.invoice is not None and _was_issued(obj.invoice):
            raise FrozenInvoiceError("the lines of an issued invoice cannot change")
        if isinstance(obj, Payment):
            raise FrozenInvoiceError("a recorded payment is never deleted")
