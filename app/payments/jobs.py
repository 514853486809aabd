"""Payment jobs (queue "default"): each stored Stripe event is handled once,
and a reconciliation re-reads the PaymentIntents of invoices still waiting.

Both take ids, commit at their end and can run twice (or at once, or out of
order) without doing anything twice: the event row is locked while it is
handled, and a payment is recorded by the Stripe object that moved the money
(`Payment.external_id`, a PaymentIntent or a Refund), under the invoice's lock.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select

from app.auth.models import Role, User
from app.extensions import db
from app.invoices.models import Invoice, InvoiceStatus, Payment, PaymentMethod
from app.invoices.receipts import record_payment
from app.invoices.services import InvoiceError
from app.mail import in_language_of, send_mail
from app.mail_links import external_url
from app.payments import stripe_adapter as adapter
from app.payments.models import CardPaymentIntent, StripeEvent
from app.payments.services import (
    CURRENCY,
    from_stripe_cents,
    invoice_of_intent,
    object_id,
    stripe_day,
    sync_status,
)
from app.timeutil import utcnow

log = logging.getLogger(__name__)

# Events left unhandled this long (a worker down, Stripe unreachable) are
# handled again by the reconciliation.
RETRY_AFTER = timedelta(minutes=5)

INTENT_EVENTS = (
    "payment_intent.created",
    "payment_intent.processing",
    "payment_intent.requires_action",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
)
REFUND_EVENTS = ("refund.created", "refund.updated", "charge.refund.updated")


class Ignored(Exception):
    """An event Relais has nothing to do with (kept, with the reason)."""


def handle_event(event_id: str) -> str | None:
    """Act on a stored event once: a succeeded PaymentIntent records a
    payment, a refund a negative one. Returns what was done (for logs)."""
    event = db.session.scalar(
        select(StripeEvent)
        .where(StripeEvent.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if event is None or event.processed_at is not None:
        db.session.rollback()
        return None
    try:
        outcome = _act(event.type, event.payload)
    except (Ignored, InvoiceError) as refused:
        # Nothing to retry: a refusal stays on the event for the lead to read.
        outcome = f"ignored: {refused}"
        event.error = str(refused)[:1000]
    except Exception as error:
        log.exception("stripe event %s (%s) failed", event_id, event.type)
        db.session.rollback()
        _note_failure(event_id, error)
        raise
    else:
        event.error = None
    event.processed_at = utcnow()
    db.session.commit()
    return outcome


def _note_failure(event_id: str, error: Exception) -> None:
    event = db.session.get(StripeEvent, event_id)
    if event is not None:
        event.error = f"{type(error).__name__}: {error}"[:1000]
        db.session.commit()


def _act(kind: str, payload: dict[str, Any]) -> str:
    obj = payload["data"]["object"]
    day = stripe_day(payload.get("created"))
    if kind == "payment_intent.succeeded":
        payment = record_intent_payment(adapter.intent_from(obj), day)
        return f"payment {payment.id}" if payment else "already recorded"
    if kind in INTENT_EVENTS:
        intent = adapter.intent_from(obj)
        row = db.session.scalar(select(CardPaymentIntent).where(CardPaymentIntent.intent_id == intent.id))
        if row is None:
            raise Ignored(f"unknown payment intent {intent.id}")
        sync_status(row, intent)  # never moves a succeeded intent back
        return f"status {row.status}"
    if kind == "charge.refunded":
        intent_id = object_id(obj.get("payment_intent"))
        if not intent_id:
            raise Ignored("a refunded charge without a payment intent")
        recorded = [record_refund(refund, intent_id, day) for refund in adapter.refunds_of(intent_id)]
        return f"{sum(1 for r in recorded if r)} refund(s) recorded"
    if kind in REFUND_EVENTS:
        refund = adapter.refund_from(obj)
        intent_id = refund.payment_intent
        if not intent_id:
            raise Ignored(f"refund {refund.id} without a payment intent")
        payment = record_refund(refund, intent_id, day)
        return f"refund {payment.id}" if payment else "nothing to record"
    raise Ignored(f"event type {kind} is not used")


def record_intent_payment(intent: adapter.Intent, day) -> Payment | None:
    """The payment of a succeeded PaymentIntent, once (None if it was
    recorded before), and the lead told."""
    if intent.status != "succeeded":
        raise Ignored(f"payment intent {intent.id} is {intent.status}")
    invoice = invoice_of_intent(intent.id, intent.metadata)
    if invoice is None:
        raise Ignored(f"payment intent {intent.id} pays no invoice of Relais")
    if intent.currency != CURRENCY:
        raise Ignored(f"payment intent {intent.id} is in {intent.currency}")
    row = db.session.scalar(select(CardPaymentIntent).where(CardPaymentIntent.intent_id == intent.id))
    if row is not None:
        sync_status(row, intent)
    payment = record_payment(
        None,
        invoice,
        amount=from_stripe_cents(intent.amount_received or intent.amount),
        received_on=day,
        method=PaymentMethod.CARD,
        reference=intent.id,
        external_id=intent.id,
        strict=False,
    )
    if payment is not None:
        tell_the_leads(payment)
    return payment


def record_refund(refund: adapter.Refund, intent_id: str, day) -> Payment | None:
    """A succeeded refund as a negative payment, once. Its payment first if
    the refund's event came before the payment's own."""
    if refund.status != "succeeded" or refund.amount <= 0:
        return None
    paid = db.session.scalar(select(Payment).where(Payment.external_id == intent_id))
    if paid is None:
        record_intent_payment(adapter.retrieve_intent(intent_id), day)
        paid = db.session.scalar(select(Payment).where(Payment.external_id == intent_id))
    if paid is None:
        raise Ignored(f"refund {refund.id}: no payment recorded for {intent_id}")
    return record_payment(
        None,
        paid.invoice,
        amount=-from_stripe_cents(refund.amount),
        received_on=day,
        method=PaymentMethod.CARD,
        reference=refund.id,
        external_id=refund.id,
        strict=False,
    )


def tell_the_leads(payment: Payment) -> None:
    """Mail each active lead, in its own language, that a card payment came."""
    invoice = payment.invoice
    leads = db.session.scalars(
        select(User).where(User.role == Role.LEAD, User.active.is_(True)).order_by(User.id)
    )
    link = external_url("invoices.show", client_id=invoice.client_id, invoice_id=invoice.id)
    from app.formatting import money

    for lead in leads:
        with in_language_of(lead):
            send_mail(
                lead.email,
                _(
                    "Paiement reçu : %(amount)s pour la facture %(number)s",
                    amount=money(payment.amount),
                    number=invoice.number,
                ),
                render_template(
                    "payments/mail/payment_received.txt",
                    user=lead,
                    invoice=invoice,
                    payment=payment,
                    link=link,
                ),
            )


def reconcile_pending() -> dict[str, int]:
    """Re-read at Stripe the PaymentIntents still open of invoices still
    waiting for money, record those that succeeded, and handle again the
    events a failure left unhandled. Returns counts for the command."""
    counts = {"checked": 0, "recorded": 0, "failed": 0, "events": 0}
    pending = db.session.execute(
        select(CardPaymentIntent.id, CardPaymentIntent.intent_id)
        .join(Invoice, Invoice.id == CardPaymentIntent.invoice_id)
        .where(
            CardPaymentIntent.status.not_in(adapter.FINAL_STATUSES),
            Invoice.status.in_((InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)),
        )
        .order_by(CardPaymentIntent.id)
    ).all()
    db.session.rollback()
    for row_id, intent_id in pending:
        counts["checked"] += 1
        try:
            intent = adapter.retrieve_intent(intent_id)
            row = db.session.get(CardPaymentIntent, row_id)
            if intent.status == "succeeded":
                if record_intent_payment(intent, stripe_day(None)) is not None:
                    counts["recorded"] += 1
            else:
                sync_status(row, intent)
            db.session.commit()
        except (adapter.PaymentProviderError, Ignored, InvoiceError) as error:
            db.session.rollback()
            counts["failed"] += 1
            log.warning("reconciling payment intent %s: %s", intent_id, error)
    stale = list(
        db.session.scalars(
            select(StripeEvent.id)
            .where(StripeEvent.processed_at.is_(None), StripeEvent.received_at < utcnow() - RETRY_AFTER)
            .order_by(StripeEvent.received_at)
        )
    )
    db.session.rollback()
    for event_id in stale:
        counts["events"] += 1
        try:
            handle_event(event_id)
        except Exception:  # noqa: BLE001 - logged by handle_event, kept for the next run
            db.session.rollback()
            counts["failed"] += 1
    return counts
