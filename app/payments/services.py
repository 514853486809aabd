"""Card payments: starting one for an invoice (once), finding the one under
way, and keeping each Stripe event once. Services flush, never commit.

"Created once" is Relais' own guarantee: each PaymentIntent made for an
invoice is stored (`CardPaymentIntent`) and reused while the amount left to
pay is the same; the invoice row is locked while deciding, so two clicks at
once make one. The idempotency key sent to Stripe covers a retry of the same
request (a timeout after Stripe made the intent, a rolled-back transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.auth.models import Role, User
from app.extensions import db
from app.fields import parse_id
from app.invoices.models import Invoice, InvoiceKind, InvoiceStatus, Payment
from app.invoices.services import InvoiceError
from app.money import CENT, to_cents
from app.payments import stripe_adapter as adapter
from app.payments.models import CardPaymentIntent, StripeEvent
from app.timeutil import PARIS, utcnow
from app.timeutil import today as agency_today

CURRENCY = "eur"
# Stripe's statuses an intent may still move from; "succeeded" and "canceled" are final.
WAITING_STATUSES = ("processing", "succeeded")  # the money is on its way: never a second intent


def card_payments_enabled() -> bool:
    """Whether clients may pay by card: both Stripe keys and the webhook
    secret are configured (without the webhook no payment would be seen)."""
    config = current_app.config
    return bool(
        config.get("STRIPE_SECRET_KEY")
        and config.get("STRIPE_PUBLISHABLE_KEY")
        and config.get("STRIPE_WEBHOOK_SECRET")
    )


# -- amounts at the Stripe edge ---------------------------------------------------------


def to_stripe_cents(amount: Decimal) -> int:
    """EUR as Stripe counts it: integer cents (708.00 -> 70800)."""
    return int(to_cents(Decimal(amount)) * 100)


def from_stripe_cents(cents: int) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(CENT)


def stripe_day(timestamp: int | None) -> date:
    """The agency's day of a Stripe timestamp (never after today)."""
    today = agency_today()
    if not timestamp:
        return today
    return min(datetime.fromtimestamp(int(timestamp), UTC).astimezone(PARIS).date(), today)


# -- what a client may pay ----------------------------------------------------------------


def payable(invoice: Invoice) -> bool:
    """An issued invoice the client can see, with something left to pay."""
    return (
        invoice.kind == InvoiceKind.INVOICE
        and invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)
        and invoice.available
        and invoice.amount_due > 0
    )


def card_payment_offered(invoice: Invoice) -> bool:
    """Whether the portal offers "Payer par carte" for this invoice."""
    return card_payments_enabled() and payable(invoice)


@dataclass(frozen=True)
class CardPayment:
    """A PaymentIntent under way for an invoice, as the payment page needs it."""

    row: CardPaymentIntent
    intent: adapter.Intent

    @property
    def client_secret(self) -> str | None:
        return self.intent.client_secret

    @property
    def status(self) -> str:
        return self.intent.status

    @property
    def amount(self) -> Decimal:
        return from_stripe_cents(self.intent.amount)

    @property
    def waiting(self) -> bool:
        """Paid (or being paid) at Stripe; the webhook has yet to say so."""
        return self.intent.status in WAITING_STATUSES


def _lock(invoice: Invoice) -> Invoice:
    return db.session.scalar(
        select(Invoice)
        .where(Invoice.id == invoice.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def intents_of(invoice: Invoice) -> list[CardPaymentIntent]:
    return list(
        db.session.scalars(
            select(CardPaymentIntent)
            .where(
                CardPaymentIntent.invoice_id == invoice.id,
                CardPaymentIntent.client_id == invoice.client_id,
            )
            .order_by(CardPaymentIntent.id)
        )
    )


def sync_status(row: CardPaymentIntent, intent: adapter.Intent) -> None:
    """Keep Stripe's status on our row; a final status never moves back."""
    if row.status in adapter.FINAL_STATUSES or row.status == intent.status:
        return
    row.status = intent.status
    row.updated_at = utcnow()


def idempotency_key(invoice: Invoice, amount_cents: int, attempt: int) -> str:
    """The same invoice, amount left and attempt give the same key."""
    return f"relais-invoice-{invoice.id}-{invoice.number}-{amount_cents}-{attempt}"


def _check_payable(user: User, invoice: Invoice) -> None:
    if user.role != Role.CLIENT:
        raise InvoiceError(_("Seul un contact du client règle ses factures."))
    if not card_payments_enabled():
        raise InvoiceError(_("Le paiement par carte n'est pas disponible : réglez par virement."))
    if not payable(invoice):
        raise InvoiceError(_("Cette facture n'a plus rien à payer."))


def start_card_payment(user: User, invoice: Invoice) -> CardPayment:
    """The PaymentIntent the client confirms with its card: the stored one
    for the same amount left while it can still be paid, else a new one (and
    the stale ones, made for another amount, cancelled). Locks the invoice
    row until the caller commits. Raises InvoiceError (a message for the
    client) or adapter.PaymentProviderError (Stripe unreachable)."""
    locked = _lock(invoice)
    _check_payable(user, locked)
    cents = to_stripe_cents(locked.amount_due)
    rows = intents_of(locked)
    for row in reversed(rows):
        if row.status in adapter.FINAL_STATUSES:
            continue
        intent = adapter.retrieve_intent(row.intent_id)
        sync_status(row, intent)
        if intent.status in WAITING_STATUSES:
            # Money is on its way: its webhook will settle the invoice.
            return CardPayment(row, intent)
        if intent.is_final:
            continue
        if row.amount_cents == cents:
            db.session.flush()
            return CardPayment(row, intent)
        # Made for another amount left: it must not be paid any more.
        intent = adapter.cancel_intent(row.intent_id)
        sync_status(row, intent)
    intent = adapter.create_intent(
        amount_cents=cents,
        currency=CURRENCY,
        metadata={
            "invoice_id": str(locked.id),
            "client_id": str(locked.client_id),
            "invoice_number": locked.number or "",
        },
        idempotency_key=idempotency_key(locked, cents, len(rows) + 1),
    )
    row = db.session.scalar(select(CardPaymentIntent).where(CardPaymentIntent.intent_id == intent.id))
    if row is None:
        row = CardPaymentIntent(
            client_id=locked.client_id,
            invoice_id=locked.id,
            intent_id=intent.id,
            amount_cents=intent.amount,
            currency=intent.currency or CURRENCY,
            status=intent.status,
        )
        db.session.add(row)
        record(
            user,
            "payment.card_started",
            locked,
            client_id=locked.client_id,
            summary=_(
                "Paiement par carte commencé : %(number)s (%(amount)s)",
                number=locked.number,
                amount=_money(from_stripe_cents(intent.amount)),
            ),
            data={"intent": intent.id, "amount_cents": intent.amount},
        )
    db.session.flush()
    return CardPayment(row, intent)


def current_card_payment(invoice: Invoice) -> CardPayment | None:
    """The PaymentIntent under way for the amount left (read from Stripe,
    nothing written), or None when a new one must be started."""
    if not card_payments_enabled():
        return None
    cents = to_stripe_cents(invoice.amount_due)
    for row in reversed(intents_of(invoice)):
        if row.status in adapter.FINAL_STATUSES:
            continue
        intent = adapter.retrieve_intent(row.intent_id)
        if intent.status in WAITING_STATUSES or (not intent.is_final and row.amount_cents == cents):
            return CardPayment(row, intent)
    return None


def _money(amount: Decimal) -> str:
    from app.formatting import money

    return money(amount)


# -- webhook events ---------------------------------------------------------------------


def object_id(value: Any) -> str | None:
    """An id from a field Stripe sends expanded (an object) or not (an id)."""
    if value is None or isinstance(value, str):
        return value
    return value.get("id") if isinstance(value, dict) else None


def intent_id_of(event: dict[str, Any]) -> str | None:
    """The PaymentIntent an event concerns (payment, charge or refund)."""
    obj = event["data"]["object"]
    if obj.get("object") == "payment_intent":
        return obj.get("id")
    return object_id(obj.get("payment_intent"))


def invoice_of_intent(intent_id: str | None, metadata: dict[str, Any] | None = None) -> Invoice | None:
    """The invoice a PaymentIntent pays: the one Relais made it for, else the
    one its metadata names (an intent made in Stripe's dashboard), else the
    one its recorded payment went to."""
    if intent_id:
        row = db.session.scalar(select(CardPaymentIntent).where(CardPaymentIntent.intent_id == intent_id))
        if row is not None:
            return row.invoice
        paid = db.session.scalar(select(Payment).where(Payment.external_id == intent_id))
        if paid is not None:
            return paid.invoice
    metadata = metadata or {}
    # Typed by hand in Stripe's dashboard, maybe: an id or nothing (never a query the database refuses).
    invoice_id, client_id = parse_id(metadata.get("invoice_id")), parse_id(metadata.get("client_id"))
    if invoice_id is None or client_id is None:
        return None
    return db.session.scalar(select(Invoice).where(Invoice.id == invoice_id, Invoice.client_id == client_id))


def store_event(event: dict[str, Any]) -> bool:
    """Keep a verified event once, by its id: True if it is new (then its
    job must be enqueued), False for one seen before, even one stored by a
    concurrent request at this very moment."""
    if db.session.get(StripeEvent, event["id"]) is not None:
        return False
    obj = event["data"]["object"]
    invoice = invoice_of_intent(intent_id_of(event), obj.get("metadata"))
    try:
        with db.session.begin_nested():
            db.session.add(
                StripeEvent(
                    id=event["id"][:80],
                    type=str(event["type"])[:80],
                    payload=event,
                    client_id=invoice.client_id if invoice is not None else None,
                )
            )
    except IntegrityError:
        return False
    return True
