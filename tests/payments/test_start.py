"""Starting a card payment: one PaymentIntent per invoice and amount left,
made at localstripe, reused by a retry or a second click; the payment page;
and the bank-transfer details when Stripe is not configured."""

from __future__ import annotations

import html
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.invoices.models import InvoiceStatus
from app.invoices.receipts import record_payment
from app.invoices.services import InvoiceError
from app.payments import services, stripe_adapter
from app.payments.models import CardPaymentIntent
from app.payments.services import card_payments_enabled, start_card_payment
from app.timeutil import today
from tests.factories import make_client_user
from tests.localstripe import PUBLISHABLE_KEY
from tests.payments.conftest import TTC


def intents_count(invoice) -> int:
    return db.session.scalar(
        select(func.count()).select_from(CardPaymentIntent).where(CardPaymentIntent.invoice_id == invoice.id)
    )


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_card_payments_need_both_keys_and_the_webhook_secret(app, localstripe):
    with app.app_context():
        assert not card_payments_enabled()
        settings = localstripe.settings()
        for missing in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"):
            app.config.update({**settings, missing: None})
            assert not card_payments_enabled(), missing
        app.config.update(settings)
        try:
            assert card_payments_enabled()
        finally:
            app.config.update(dict.fromkeys(settings))


def test_the_stripe_settings_come_from_the_environment():
    from app.config import from_environment

    settings = from_environment(
        {
            "STRIPE_SECRET_KEY": "sk_live_x",
            "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
            "STRIPE_WEBHOOK_SECRET": "whsec_x",
            "STRIPE_API_BASE": "",
        }
    )
    assert settings["STRIPE_SECRET_KEY"] == "sk_live_x"
    assert settings["STRIPE_PUBLISHABLE_KEY"] == "pk_live_x"
    assert settings["STRIPE_WEBHOOK_SECRET"] == "whsec_x"
    assert "STRIPE_API_BASE" not in settings  # empty counts as unset


def test_a_payment_intent_is_made_for_the_amount_left_in_cents_with_the_invoice(stripe_on, billing):
    payment = start_card_payment(billing.member, billing.invoice)
    db.session.commit()

    at_stripe = stripe_on.intent(payment.row.intent_id)
    assert at_stripe["amount"] == 84960 and at_stripe["currency"] == "eur"
    assert at_stripe["metadata"] == {
        "invoice_id": str(billing.invoice.id),
        "client_id": str(billing.client.id),
        "invoice_number": billing.invoice.number,
    }
    assert payment.client_secret == at_stripe["client_secret"]
    row = db.session.get(CardPaymentIntent, payment.row.id)
    assert (row.invoice_id, row.client_id, row.amount_cents, row.status) == (
        billing.invoice.id,
        billing.client.id,
        84960,
        "requires_payment_method",
    )


def test_a_retry_or_a_second_click_reuses_the_intent(stripe_on, billing):
    first = start_card_payment(billing.member, billing.invoice)
    db.session.commit()
    again = start_card_payment(billing.member, billing.invoice)
    db.session.commit()
    assert again.row.intent_id == first.row.intent_id
    assert again.client_secret == first.client_secret
    assert intents_count(billing.invoice) == 1


def test_the_idempotency_key_is_the_same_when_a_request_is_retried(stripe_on, billing, monkeypatch):
    """A transaction lost after Stripe made the intent (a timeout, a crash):
    the retry asks Stripe with the same key, so Stripe gives back the same
    intent instead of a second one."""
    keys = []
    create = stripe_adapter.create_intent

    def spy(**kwargs):
        keys.append(kwargs["idempotency_key"])
        return create(**kwargs)

    monkeypatch.setattr(stripe_adapter, "create_intent", spy)
    db.session.commit()
    start_card_payment(billing.member, billing.invoice)
    db.session.rollback()  # lost: nothing of it kept on our side
    start_card_payment(billing.member, billing.invoice)
    db.session.commit()
    assert len(keys) == 2 and keys[0] == keys[1]
    assert str(billing.invoice.id) in keys[0] and "84960" in keys[0]


def test_a_new_amount_left_makes_a_new_intent_and_cancels_the_old_one(stripe_on, billing):
    old = start_card_payment(billing.member, billing.invoice)
    db.session.commit()
    record_payment(
        billing.lead, billing.invoice, amount=Decimal("200.00"), received_on=today(), method="transfer"
    )
    db.session.commit()

    new = start_card_payment(billing.member, billing.invoice)
    db.session.commit()
    assert new.row.intent_id != old.row.intent_id
    assert stripe_on.intent(new.row.intent_id)["amount"] == 64960
    assert stripe_on.intent(old.row.intent_id)["status"] == "canceled"
    assert db.session.get(CardPaymentIntent, old.row.id).status == "canceled"
    # And the idempotency key of the new one is not the old one's.
    assert intents_count(billing.invoice) == 2


def test_a_paid_invoice_cannot_be_paid_again(stripe_on, billing, login_as):
    record_payment(billing.lead, billing.invoice, amount=TTC, received_on=today(), method="transfer")
    db.session.commit()
    assert billing.invoice.status == InvoiceStatus.PAID
    with pytest.raises(InvoiceError):
        start_card_payment(billing.member, billing.invoice)

    response = login_as(billing.member).post(
        f"/clients/{billing.client.id}/invoices/{billing.invoice.id}/pay", follow_redirects=True
    )
    assert response.status_code == 200
    assert "Cette facture n'a plus rien à payer." in text_of(response)
    assert intents_count(billing.invoice) == 0


def test_a_draft_or_unrendered_invoice_is_not_payable(stripe_on, billing):
    billing.invoice.pdf_sha256 = None
    assert not services.payable(billing.invoice)


def test_the_start_button_leads_to_the_card_form(stripe_on, billing, login_as, csrf_enabled):
    client = login_as(billing.member)
    url = f"/clients/{billing.client.id}/invoices/{billing.invoice.id}/pay"
    page = client.get(url)
    assert page.status_code == 200
    assert 'id="card-payment"' not in page.get_data(as_text=True)  # nothing made by a GET
    assert intents_count(billing.invoice) == 0
    # The start form carries its CSRF token; without it the POST is refused.
    assert client.post(url).status_code == 400
    token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]

    response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    page = client.get(url)
    body = page.get_data(as_text=True)
    row = db.session.scalar(
        select(CardPaymentIntent).where(CardPaymentIntent.invoice_id == billing.invoice.id)
    )
    secret = stripe_on.intent(row.intent_id)["client_secret"]
    assert f'data-client-secret="{secret}"' in body
    assert f'data-publishable-key="{PUBLISHABLE_KEY}"' in body
    assert f'src="{stripe_on.url}/js.stripe.com/v3/"' in body
    assert "/static/js/payment.js" in body and "<script>" not in body  # no inline script
    assert "Payer 849,60" in text_of(page)
    csp = page.headers["Content-Security-Policy"]
    assert f"script-src 'self' {stripe_on.url}" in csp and f"connect-src 'self' {stripe_on.url}" in csp


def test_a_lead_may_not_pay_for_a_client(stripe_on, billing, login_as):
    url = f"/clients/{billing.client.id}/invoices/{billing.invoice.id}/pay"
    assert login_as(billing.lead).post(url).status_code == 403
    assert login_as(billing.lead).get(url).status_code == 403
    assert intents_count(billing.invoice) == 0


def test_a_user_of_another_client_sees_nothing(stripe_on, billing, login_as):
    from tests.factories import make_client

    stranger = make_client_user(make_client("Fournil Abadie"))
    url = f"/clients/{billing.client.id}/invoices/{billing.invoice.id}/pay"
    assert login_as(stranger).post(url).status_code == 404
    assert login_as(stranger).get(f"{url}/status").status_code == 404
    assert intents_count(billing.invoice) == 0


def test_without_stripe_the_page_shows_the_bank_transfer_details(app, billing, login_as):
    assert not card_payments_enabled()
    client = login_as(billing.member)
    url = f"/clients/{billing.client.id}/invoices/{billing.invoice.id}/pay"
    page = client.get(url)
    text = text_of(page)
    assert page.status_code == 200
    assert "Payer par virement" in text and "FR76 3000 6000 0112 3456 7890 189" in text
    assert billing.invoice.number in text
    assert "card-payment" not in text and "js.stripe.com" not in text
    response = client.post(url, follow_redirects=True)
    assert "Le paiement par carte n'est pas disponible" in text_of(response)
    assert intents_count(billing.invoice) == 0


def test_stripe_unreachable_is_a_clear_message(stripe_on, billing, login_as, app):
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    client = login_as(billing.member)
    url = f"/clients/{billing.client.id}/invoices/{billing.invoice.id}/pay"
    response = client.post(url, follow_redirects=True)
    assert "momentanément indisponible" in text_of(response)
    assert intents_count(billing.invoice) == 0


def test_the_status_endpoint_says_when_the_invoice_is_paid(stripe_on, billing, login_as):
    client = login_as(billing.member)
    url = f"/clients/{billing.client.id}/invoices/{billing.invoice.id}/pay/status"
    assert client.get(url).get_json() == {
        "status": "issued",
        "paid": False,
        "amount_due": "849,60\xa0€",
        "message": "",
    }
    record_payment(billing.lead, billing.invoice, amount=TTC, received_on=today() - timedelta(days=1))
    db.session.commit()
    answer = client.get(url).get_json()
    assert answer["paid"] is True and answer["status"] == "paid" and answer["message"]
