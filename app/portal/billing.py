"""Invoices and credit notes as the client's space shows them: only the
issued ones whose PDF exists (`Invoice.available`), with what is left to
pay; never a draft, a ceiling decision, nor who issued it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from app.agency.services import get_settings
from app.auth.models import User
from app.clients.models import Client
from app.extensions import db
from app.invoices.models import Invoice, InvoiceKind, InvoiceStatus, PaymentMethod
from app.invoices.services import credit_notes_of, get_invoice_or_404, vat_groups

STATUS_LABELS = {
    "issued": _l("À payer"),
    "partly_paid": _l("Partiellement payée"),
    "paid": _l("Payée"),
    "overdue": _l("En retard"),
    "cancelled": _l("Annulée"),
    "credit_note": _l("Avoir"),
}
STATUS_BADGES = {
    "issued": "info",
    "partly_paid": "warn",
    "paid": "ok",
    "overdue": "danger",
    "cancelled": "neutral",
    "credit_note": "neutral",
}
METHOD_LABELS = {
    PaymentMethod.TRANSFER: _l("Virement"),
    PaymentMethod.CARD: _l("Carte bancaire"),
    PaymentMethod.CHEQUE: _l("Chèque"),
    PaymentMethod.OTHER: _l("Autre"),
}


@dataclass(frozen=True)
class PortalInvoice:
    id: int
    number: str
    is_credit_note: bool
    title: str
    issue_date: date
    due_date: date
    total_ht: Decimal
    total_ttc: Decimal
    amount_paid: Decimal
    amount_credited: Decimal
    amount_due: Decimal
    status: str  # issued, partly_paid, paid, overdue, cancelled or credit_note
    days_overdue: int

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def badge(self) -> str:
        return STATUS_BADGES[self.status]


def portal_invoice(invoice: Invoice, day: date) -> PortalInvoice:
    return PortalInvoice(
        id=invoice.id,
        number=invoice.number or "",
        is_credit_note=invoice.is_credit_note,
        title=invoice.title,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        total_ht=invoice.total_ht,
        total_ttc=invoice.total_ttc,
        amount_paid=invoice.amount_paid,
        amount_credited=invoice.amount_credited,
        amount_due=invoice.amount_due,
        status="credit_note" if invoice.is_credit_note else invoice.display_status(day),
        days_overdue=invoice.days_overdue(day),
    )


def available_invoices_query(client: Client) -> Select[tuple[Invoice]]:
    """What the client may see of its invoices (`Invoice.available`: issued,
    PDF rendered), newest first, whoever looks (a lead's preview too)."""
    return (
        select(Invoice)
        .where(
            Invoice.client_id == client.id,
            Invoice.status != InvoiceStatus.DRAFT,
            Invoice.pdf_sha256.is_not(None),
        )
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
    )


def recent_invoices(client: Client, day: date, limit: int) -> list[PortalInvoice]:
    rows = db.session.scalars(available_invoices_query(client).limit(limit))
    return [portal_invoice(i, day) for i in rows]


def unpaid_invoices(client: Client, day: date) -> list[PortalInvoice]:
    """The invoices with something left to pay, the oldest due first."""
    stmt = (
        available_invoices_query(client)
        .where(
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status.in_((InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)),
        )
        .order_by(None)
        .order_by(Invoice.due_date, Invoice.id)
    )
    return [portal_invoice(i, day) for i in db.session.scalars(stmt) if i.amount_due > 0]


# -- one invoice --------------------------------------------------------------------------


def get_portal_invoice_or_404(client: Client, invoice_id: int, user: User) -> Invoice:
    """An invoice of `client` as its space shows it: the access rules first,
    then only what a client may see (a lead's preview shows no draft)."""
    invoice = get_invoice_or_404(client, invoice_id, user)
    if not invoice.available:
        abort(404)
    return invoice


@dataclass(frozen=True)
class PortalLine:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    total_ht: Decimal


@dataclass(frozen=True)
class PortalPayment:
    received_on: date
    method: str
    amount: Decimal

    @property
    def method_label(self) -> str:
        return str(METHOD_LABELS.get(self.method, self.method))


@dataclass(frozen=True)
class InvoicePage:
    invoice: PortalInvoice
    period_start: date | None
    period_end: date | None
    seller: dict
    buyer: dict
    franchise: bool
    lines: list[PortalLine]
    vat: list  # VatGroup: rate, base, vat
    total_vat: Decimal
    payments: list[PortalPayment]
    credit_notes: list[PortalInvoice]  # the available ones against this invoice
    credited: PortalInvoice | None  # the invoice a credit note corrects, if available
    bank: dict  # holder, iban, bic: where to send a transfer


SELLER_FIELDS = ("name", "legal_form_label", "address_line", "postal_code", "city", "siren", "vat_number")
BUYER_FIELDS = ("name", "address_line", "postal_code", "city", "siren", "vat_number")


def bank_details(invoice: Invoice) -> dict:
    """Where to send a transfer: the agency's account as it is now (it may
    have changed banks since), else the one the invoice was issued with."""
    settings, seller = get_settings(), invoice.seller or {}
    if settings.iban:
        return {"holder": settings.legal_name, "iban": settings.iban, "bic": settings.bic}
    return {
        "holder": seller.get("name") or "",
        "iban": seller.get("iban") or "",
        "bic": seller.get("bic") or "",
    }


def invoice_page(invoice: Invoice, day: date) -> InvoicePage:
    seller, buyer = invoice.seller or {}, invoice.buyer or {}
    credited = invoice.credited_invoice if invoice.is_credit_note else None
    return InvoicePage(
        invoice=portal_invoice(invoice, day),
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        seller={k: seller.get(k) or "" for k in SELLER_FIELDS},
        buyer={k: buyer.get(k) or "" for k in BUYER_FIELDS},
        franchise=invoice.vat_franchise,
        lines=[
            PortalLine(
                line.description, line.quantity, line.unit, line.unit_price, line.vat_rate, line.total_ht
            )
            for line in invoice.lines
        ],
        vat=vat_groups(invoice.lines, invoice.vat_franchise),
        total_vat=invoice.total_vat,
        payments=[PortalPayment(p.received_on, p.method, p.amount) for p in invoice.payments],
        credit_notes=[
            portal_invoice(c, day) for c in ([] if credited else credit_notes_of(invoice)) if c.available
        ],
        credited=portal_invoice(credited, day) if credited is not None and credited.available else None,
        bank=bank_details(invoice),
    )


def card_payment_possible(invoice: Invoice) -> bool:
    """Whether the client may pay `invoice` by card now: something left to
    pay, Stripe configured and the payment route there."""
    from flask import current_app

    if invoice.is_credit_note or invoice.amount_due <= 0:
        return False
    if "payments.start" not in current_app.view_functions:
        return False
    try:
        from app.payments.services import card_payments_enabled
    except ImportError:
        return False
    return bool(card_payments_enabled())
