"""The webhook: Stripe's signature checked on the raw body, each event kept
once, payments and refunds recorded once whatever the order or the number
of deliveries, the lead told. The events are localstripe's own (read back
from its API) or, for refunds, which localstripe never announces, built from
its objects as Stripe sends them."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.invoices.models import InvoiceStatus, Payment
from app.payments.jobs import handle_event
from app.payments.models import CardPaymentIntent, StripeEvent
from app.payments.services import start_card_payment
from tests.localstripe import event_body, make_event, signature, signed
from tests.payments.conftest import TTC, make_billing

WEBHOOK = "/stripe/webhook"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def payments_of(invoice) -> list[Payment]:
    return list(
        db.session.scalars(select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.id))
    )


def paid_event(stripe_on, billing) -> dict:
    """Relais starts the payment, the card pays it at localstripe: the
    payment_intent.succeeded event localstripe made of it."""
    intent_id = start_card_payment(billing.member, billing.invoice).row.intent_id
    db.session.commit()  # and nothing read since: no savepoint of the test's left open
    stripe_on.pay(intent_id)
    (event,) = stripe_on.events_of(intent_id, "payment_intent.succeeded")
    return event


def test_a_succeeded_payment_intent_marks_the_invoice_paid_and_tells_the_lead(
    stripe_on, billing, client, outbox
):
    event = paid_event(stripe_on, billing)

    response = client.post(WEBHOOK, **signed(event))
    assert response.status_code == 200

    db.session.refresh(billing.invoice)
    assert billing.invoice.status == InvoiceStatus.PAID
    assert billing.invoice.amount_paid == TTC and billing.invoice.amount_due == 0
    (payment,) = payments_of(billing.invoice)
    intent_id = event["data"]["object"]["id"]
    assert (payment.amount, payment.method, payment.external_id) == (TTC, "card", intent_id)
    stored = db.session.get(StripeEvent, event["id"])
    assert stored.processed_at is not None and stored.error is None
    assert stored.client_id == billing.client.id and stored.type == "payment_intent.succeeded"
    assert db.session.scalar(
        select(CardPaymentIntent.status).where(CardPaymentIntent.intent_id == intent_id)
    ) == ("succeeded")
    (mail,) = outbox.messages
    assert mail["To"] == billing.lead.email
    assert billing.invoice.number in mail["Subject"] and "849,60" in mail["Subject"]
    body = outbox.body(mail)
    assert "Boulangerie Dupont a payé 849,60" in body and "La facture est entièrement payée." in body
    assert f"/clients/{billing.client.id}/invoices/{billing.invoice.id}" in body


def test_the_mail_to_each_lead_is_in_its_language(stripe_on, billing, client, outbox):
    from tests.factories import make_lead

    english = make_lead(name="Ann Lead")
    english.locale = "en"
    make_lead(name="Gone Lead", active=False)
    event = paid_event(stripe_on, billing)
    assert client.post(WEBHOOK, **signed(event)).status_code == 200
    mails = {m["To"]: m for m in outbox.messages}
    assert set(mails) == {billing.lead.email, english.email}  # active leads only
    # Amounts (and, once translated, the words) in the lead's language.
    assert "849,60\xa0€" in mails[billing.lead.email]["Subject"]
    assert "€849.60" in mails[english.email]["Subject"]


def test_the_same_event_delivered_five_times_records_one_payment(stripe_on, billing, client, outbox):
    event = paid_event(stripe_on, billing)
    for _ in range(5):
        assert client.post(WEBHOOK, **signed(event)).status_code == 200
    assert len(payments_of(billing.invoice)) == 1
    assert count(StripeEvent, StripeEvent.id == event["id"]) == 1
    assert len(outbox.messages) == 1
    db.session.refresh(billing.invoice)
    assert billing.invoice.amount_paid == TTC


def test_two_events_for_one_intent_record_one_payment(stripe_on, billing, client):
    """Stripe may send the same news under two event ids (a retry after a
    timeout, a replay from the dashboard): the intent is paid once."""
    event = paid_event(stripe_on, billing)
    twin = {**event, "id": event["id"] + "_twin"}
    assert client.post(WEBHOOK, **signed(event)).status_code == 200
    assert client.post(WEBHOOK, **signed(twin)).status_code == 200
    assert len(payments_of(billing.invoice)) == 1


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda body, headers: (body, {"Stripe-Signature": signature(body, secret="whsec_other")}),
            id="bad",
        ),
        pytest.param(lambda body, headers: (body + b" ", headers), id="body-changed"),
        pytest.param(lambda body, headers: (body, {}), id="missing-header"),
        pytest.param(lambda body, headers: (body, {"Stripe-Signature": "t=1,v1=nope"}), id="garbage"),
        pytest.param(
            lambda body, headers: (body, {"Stripe-Signature": signature(body, int(time.time()) - 301)}),
            id="stale",
        ),
    ],
)
def test_an_event_stripe_did_not_sign_answers_400_and_records_nothing(
    stripe_on, billing, client, outbox, tamper
):
    event = paid_event(stripe_on, billing)
    body = event_body(event)
    body, headers = tamper(body, {"Stripe-Signature": signature(body)})

    response = client.post(WEBHOOK, data=body, headers=headers, content_type="application/json")
    assert response.status_code == 400
    assert count(StripeEvent) == 0
    assert payments_of(billing.invoice) == []
    assert outbox.messages == []
    db.session.refresh(billing.invoice)
    assert billing.invoice.status == InvoiceStatus.ISSUED


def test_a_recent_enough_event_is_accepted(stripe_on, billing, client):
    """The positive control of the stale case: four minutes old is fine."""
    event = paid_event(stripe_on, billing)
    assert client.post(WEBHOOK, **signed(event, timestamp=int(time.time()) - 240)).status_code == 200
    assert len(payments_of(billing.invoice)) == 1


def test_without_a_webhook_secret_every_event_is_refused(stripe_on, billing, client, app):
    event = paid_event(stripe_on, billing)
    app.config["STRIPE_WEBHOOK_SECRET"] = None
    assert client.post(WEBHOOK, **signed(event)).status_code == 400
    assert count(StripeEvent) == 0


def test_a_late_failure_event_never_moves_a_paid_invoice_back(stripe_on, billing, client):
    event = paid_event(stripe_on, billing)
    intent = event["data"]["object"]
    assert client.post(WEBHOOK, **signed(event)).status_code == 200
    for kind in ("payment_intent.processing", "payment_intent.payment_failed", "payment_intent.created"):
        late = make_event(kind, {**intent, "status": "requires_payment_method"})
        assert client.post(WEBHOOK, **signed(late)).status_code == 200
    db.session.refresh(billing.invoice)
    assert billing.invoice.status == InvoiceStatus.PAID
    assert db.session.scalar(select(CardPaymentIntent.status)) == "succeeded"
    assert len(payments_of(billing.invoice)) == 1


def test_a_partial_payment_leaves_the_invoice_partly_paid(stripe_on, billing, client):
    """An intent for part of the amount (made in Stripe's dashboard for this
    invoice): the invoice is partly paid, the rest left to pay."""
    intent = stripe_on.create_intent(
        30000, {"invoice_id": str(billing.invoice.id), "client_id": str(billing.client.id)}
    )
    stripe_on.pay(intent["id"])
    (event,) = stripe_on.events_of(intent["id"], "payment_intent.succeeded")

    assert client.post(WEBHOOK, **signed(event)).status_code == 200
    db.session.refresh(billing.invoice)
    assert billing.invoice.status == InvoiceStatus.PARTLY_PAID
    assert billing.invoice.amount_paid == Decimal("300.00")
    assert billing.invoice.amount_due == Decimal("549.60")

    # The next card payment is for what is left.
    rest = start_card_payment(billing.member, billing.invoice)
    db.session.commit()
    assert stripe_on.intent(rest.row.intent_id)["amount"] == 54960


def test_an_intent_naming_another_clients_invoice_records_nothing(stripe_on, billing, client):
    other = make_billing("Fournil Abadie")
    intent = stripe_on.create_intent(
        30000, {"invoice_id": str(other.invoice.id), "client_id": str(billing.client.id)}
    )
    stripe_on.pay(intent["id"])
    (event,) = stripe_on.events_of(intent["id"], "payment_intent.succeeded")
    assert client.post(WEBHOOK, **signed(event)).status_code == 200
    assert payments_of(other.invoice) == [] and payments_of(billing.invoice) == []
    assert "pays no invoice" in db.session.get(StripeEvent, event["id"]).error


def refund_events(stripe_on, intent_id: str, amount_cents: int) -> tuple[dict, dict]:
    """A refund made at localstripe, and the two events Stripe sends of it."""
    refund = stripe_on.refund(intent_id, amount_cents)
    charge = stripe_on.charge(refund["charge"])
    return make_event("charge.refunded", charge), make_event("refund.created", refund)


def test_a_refund_records_a_negative_payment_once(stripe_on, billing, client):
    event = paid_event(stripe_on, billing)
    intent_id = event["data"]["object"]["id"]
    assert client.post(WEBHOOK, **signed(event)).status_code == 200
    charge_refunded, refund_created = refund_events(stripe_on, intent_id, 10000)

    for delivery in (charge_refunded, refund_created, charge_refunded):
        assert client.post(WEBHOOK, **signed(delivery)).status_code == 200

    payments = payments_of(billing.invoice)
    assert [p.amount for p in payments] == [TTC, Decimal("-100.00")]
    assert payments[1].external_id == refund_created["data"]["object"]["id"]
    assert payments[1].method == "card"
    db.session.refresh(billing.invoice)
    assert billing.invoice.status == InvoiceStatus.PARTLY_PAID
    assert billing.invoice.amount_due == Decimal("100.00")


def test_a_refund_seen_before_its_payment_records_both_in_order(stripe_on, billing, client):
    event = paid_event(stripe_on, billing)
    intent_id = event["data"]["object"]["id"]
    _charge_refunded, refund_created = refund_events(stripe_on, intent_id, 84960)

    assert client.post(WEBHOOK, **signed(refund_created)).status_code == 200
    assert client.post(WEBHOOK, **signed(event)).status_code == 200  # late: changes nothing

    assert [p.amount for p in payments_of(billing.invoice)] == [TTC, -TTC]
    db.session.refresh(billing.invoice)
    assert billing.invoice.status == InvoiceStatus.ISSUED and billing.invoice.amount_due == TTC


def test_an_event_of_no_interest_is_kept_and_acknowledged(stripe_on, billing, client):
    event = make_event("customer.created", {"id": "cus_123", "object": "customer"})
    assert client.post(WEBHOOK, **signed(event)).status_code == 200
    stored = db.session.get(StripeEvent, event["id"])
    assert stored.processed_at is not None and "not used" in stored.error


def test_handling_an_event_twice_does_nothing_twice(stripe_on, billing, client):
    event = paid_event(stripe_on, billing)
    assert client.post(WEBHOOK, **signed(event)).status_code == 200
    assert handle_event(event["id"]) is None  # already done
    assert len(payments_of(billing.invoice)) == 1


def test_a_failure_is_kept_on_the_event_and_retried_later(stripe_on, billing, client, app):
    """Stripe unreachable while a refund is handled: the event stays
    unhandled with the error, and handling it again later records it."""
    event = paid_event(stripe_on, billing)
    intent_id = event["data"]["object"]["id"]
    assert client.post(WEBHOOK, **signed(event)).status_code == 200
    charge_refunded, _refund_created = refund_events(stripe_on, intent_id, 5000)
    api_base = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    assert client.post(WEBHOOK, **signed(charge_refunded)).status_code == 200
    stored = db.session.get(StripeEvent, charge_refunded["id"])
    assert stored.processed_at is None and stored.error
    assert len(payments_of(billing.invoice)) == 1

    app.config["STRIPE_API_BASE"] = api_base
    handle_event(charge_refunded["id"])
    assert [p.amount for p in payments_of(billing.invoice)] == [TTC, Decimal("-50.00")]
