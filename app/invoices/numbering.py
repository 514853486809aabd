"""Invoice numbers: one rule, in one place.

Each kind (invoice, credit note) has a yearly series, "F2026-0001",
"F2026-0002"... (prefixes from the agency settings). A number is taken in
the transaction that issues the invoice, under a lock held until it commits:
on PostgreSQL a transaction-level advisory lock per series, so concurrent
issues queue and each reads the last number committed before it. If the
transaction fails, the number was never used: no gap. Numbers exist only on
issued invoices, which are never deleted, so the series stays continuous.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select, text

from app.agency.services import get_settings
from app.extensions import db
from app.invoices.models import Invoice, InvoiceKind

# First key of the advisory lock: "Relais invoice series" (any fixed int4).
LOCK_NAMESPACE = 0x5E1A15
KIND_CODES = {InvoiceKind.INVOICE: 1, InvoiceKind.CREDIT_NOTE: 2}


class NumberingError(RuntimeError):
    pass


def lock_series(kind: str, year: int) -> None:
    """Hold the series' lock until the transaction ends (PostgreSQL; SQLite
    writers are serialised by the database itself)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :series)"),
            {"namespace": LOCK_NAMESPACE, "series": year * 10 + KIND_CODES[InvoiceKind(kind)]},
        )


def format_number(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}{year}-{sequence:04d}"


def take_number(kind: str, issue_date: date) -> tuple[int, int, str]:
    """(year, sequence, number) of the next invoice of `kind` issued on
    `issue_date`. Call it inside the issuing transaction, just before the
    invoice is frozen."""
    year = issue_date.year
    lock_series(kind, year)
    last_sequence, last_date = db.session.execute(
        select(func.max(Invoice.sequence), func.max(Invoice.issue_date)).where(
            Invoice.kind == kind, Invoice.series_year == year
        )
    ).one()
    if last_date is not None and last_date > issue_date:
        # Chronological: a number never carries an earlier date than the one before it.
        raise NumberingError(_("La dernière facture de la série porte une date postérieure à aujourd'hui."))
    settings = get_settings()
    prefix = settings.invoice_prefix if kind == InvoiceKind.INVOICE else settings.credit_note_prefix
    sequence = (last_sequence or 0) + 1
    return year, sequence, format_number(prefix or "", year, sequence)
