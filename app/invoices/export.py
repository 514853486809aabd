"""The accountant's CSV files: issued invoices and credit notes, and payments,
of a month or a year. French Excel format, as the time export
(app/timesheets/export.py): ';' separator, UTF-8 with BOM, decimal commas,
dates dd/mm/yyyy, and no text cell a spreadsheet would run as a formula.
Drafts are never exported: they are not invoices yet."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from app.invoices.listing import status_label
from app.invoices.models import Invoice, InvoiceKind, InvoiceStatus, Payment, PaymentMethod
from app.timesheets.calendar import month_end, month_start
from app.timesheets.export import csv_lines, safe_cell

METHOD_LABELS = {
    PaymentMethod.TRANSFER: "Virement",
    PaymentMethod.CARD: "Carte",
    PaymentMethod.CHEQUE: "Chèque",
    PaymentMethod.OTHER: "Autre",
}


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    slug: str  # "2026-10" or "2026", for the file name


def month_period(month: date) -> Period:
    first = month_start(month)
    return Period(first, month_end(first), f"{first:%Y-%m}")


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), str(year))


def french_amount(amount: Decimal | None) -> str:
    """1234.5 -> "1234,50" (no thousands separator: a spreadsheet reads it)."""
    if amount is None:
        return ""
    return f"{Decimal(amount):.2f}".replace(".", ",")


def french_date(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


# -- invoices and credit notes -------------------------------------------------------------


def issued_documents(period: Period) -> Select[tuple[Invoice]]:
    """Invoices and credit notes issued in `period`, in number order."""
    return (
        select(Invoice)
        .where(Invoice.status != InvoiceStatus.DRAFT, Invoice.issue_date.between(period.first, period.last))
        .options(selectinload(Invoice.credited_invoice))
        .order_by(Invoice.issue_date, Invoice.kind.desc(), Invoice.sequence, Invoice.id)
    )


INVOICE_HEADER = [
    "Numéro",
    "Type",
    "Date d'émission",
    "Échéance",
    "Client",
    "SIREN",
    "N° TVA",
    "Total HT",
    "TVA",
    "Total TTC",
    "Statut",
    "Payé",
    "Reste à payer",
    "Facture corrigée",
]


def invoices_csv(invoices: Iterable[Invoice], today: date) -> Iterator[str]:
    """A line per document; a credit note's amounts are negative (they
    reduce the turnover), its payment columns empty."""

    def row(invoice: Invoice) -> list[str]:
        buyer = invoice.buyer or {}
        credit = invoice.kind == InvoiceKind.CREDIT_NOTE
        sign = Decimal(-1) if credit else Decimal(1)
        return [
            safe_cell(invoice.number),
            "Avoir" if credit else "Facture",
            french_date(invoice.issue_date),
            "" if credit else french_date(invoice.due_date),
            safe_cell(buyer.get("name", "")),
            safe_cell(buyer.get("siren", "")),
            safe_cell(buyer.get("vat_number", "")),
            french_amount(sign * invoice.total_ht),
            french_amount(sign * invoice.total_vat),
            french_amount(sign * invoice.total_ttc),
            safe_cell(status_label(invoice, today)),
            "" if credit else french_amount(invoice.amount_paid),
            "" if credit else french_amount(invoice.amount_due),
            safe_cell(invoice.credited_invoice.number if credit and invoice.credited_invoice else ""),
        ]

    return csv_lines(INVOICE_HEADER, (row(invoice) for invoice in invoices))


# -- payments ----------------------------------------------------------------------------


def payments_in(period: Period) -> Select[tuple[Payment]]:
    """Money received (and refunded) in `period`, in date order."""
    return (
        select(Payment)
        .where(Payment.received_on.between(period.first, period.last))
        .options(selectinload(Payment.invoice))
        .order_by(Payment.received_on, Payment.id)
    )


PAYMENT_HEADER = ["Date", "Facture", "Client", "Mode", "Référence", "Montant"]


def payments_csv(payments: Iterable[Payment]) -> Iterator[str]:
    """A line per payment; a refund's amount is negative."""

    def row(payment: Payment) -> list[str]:
        invoice = payment.invoice
        return [
            french_date(payment.received_on),
            safe_cell(invoice.number),
            safe_cell((invoice.buyer or {}).get("name", "")),
            METHOD_LABELS.get(payment.method, payment.method),
            safe_cell(payment.reference),
            french_amount(payment.amount),
        ]

    return csv_lines(PAYMENT_HEADER, (row(payment) for payment in payments))


def file_name(what: str, period: Period) -> str:
    return f"{what}-{period.slug}.csv"
