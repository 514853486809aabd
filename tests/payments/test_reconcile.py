"""Reconciliation: a webhook lost (Relais down, a misconfigured endpoint) is
made good by re-reading at Stripe the PaymentIntents of invoices still
waiting; events left unhandled are handled again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.invoices.models import InvoiceStatus, Payment
from app.payments.jobs import reconcile_pending
from app.payments.models import CardPaymentIntent, StripeEvent
from app.payments.services import start_card_payment
from app.timeutil import utcnow
from tests.localstripe import make_event
from tests.payments.conftest import TTC, make_billing


def payments_of(invoice) -> list[Payment]:
    return list(db.session.scalars(select(Payment).where(Payment.invoice_id == invoice.id)))


def started(billing) -> str:
    intent_id = start_card_payment(billing.member, billing.invoice).row.intent_id
    db.session.commit()
    return intent_id


def test_a_payment_whose_webhook_never_came_is_recorded_once(stripe_on, billing, outbox):
    paid = started(billing)
    stripe_on.pay(paid)
    waiting = make_billing("Fournil Abadie")
    still_open = started(waiting)

    counts = reconcile_pending()
    assert counts == {"checked": 2, "recorded": 1, "failed": 0, "events": 0}
    db.session.refresh(billing.invoice)
    assert billing.invoice.status == InvoiceStatus.PAID
    assert [(p.amount, p.external_id) for p in payments_of(billing.invoice)] == [(TTC, paid)]
    assert payments_of(waiting.invoice) == []
    statuses = dict(db.session.execute(select(CardPaymentIntent.intent_id, CardPaymentIntent.status)).all())
    assert statuses == {paid: "succeeded", still_open: "requires_payment_method"}
    assert [m["To"] for m in outbox.messages] == [billing.lead.email, waiting.lead.email]

    # Run again: the paid invoice is no longer pending; nothing twice.
    assert reconcile_pending() == {"checked": 1, "recorded": 0, "failed": 0, "events": 0}
    assert len(payments_of(billing.invoice)) == 1


def test_an_event_left_unhandled_is_handled_again(stripe_on, billing):
    intent_id = started(billing)
    stripe_on.pay(intent_id)
    event = make_event("payment_intent.succeeded", stripe_on.intent(intent_id))
    recent = make_event("payment_intent.succeeded", stripe_on.intent(intent_id), event_id="evt_just_now")
    db.session.add(
        StripeEvent(
            id=event["id"], type=event["type"], payload=event, received_at=utcnow() - timedelta(minutes=10)
        )
    )
    db.session.add(StripeEvent(id=recent["id"], type=recent["type"], payload=recent))
    db.session.commit()

    counts = reconcile_pending()
    assert counts["events"] == 1  # the recent one is left to its own job
    stored = db.session.get(StripeEvent, event["id"])
    assert stored.processed_at is not None and stored.error is None
    assert db.session.get(StripeEvent, recent["id"]).processed_at is None
    assert len(payments_of(billing.invoice)) == 1


def test_the_command_reports_what_it_did(app, stripe_on, billing):
    stripe_on.pay(started(billing))
    result = app.test_cli_runner().invoke(args=["reconcile-payments"])
    assert result.exit_code == 0, result.output
    assert "Paiements relus : 1, enregistrés : 1" in result.output
    assert len(payments_of(billing.invoice)) == 1


def test_the_command_without_stripe_does_nothing(app, db):
    result = app.test_cli_runner().invoke(args=["reconcile-payments"])
    assert result.exit_code == 0
    assert "non configuré" in result.output


def test_the_command_fails_when_stripe_cannot_be_read(app, stripe_on, billing):
    started(billing)
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    result = app.test_cli_runner().invoke(args=["reconcile-payments"])
    assert result.exit_code == 1
    assert "en échec : 1" in result.output
