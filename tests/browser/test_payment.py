"""Sophie pays an invoice by card, in a real browser against localstripe:
"Payer par carte" on her invoice, the card form mounted by Stripe.js (here
localstripe's), the card confirmed, and after Stripe's signed webhook the
portal shows the invoice paid.

Each test makes its own unpaid invoice of the demo client (so the demo's
invoices stay as other tests expect them), with the live server configured
for localstripe only while it runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.auth.models import Role, User
from app.clients.models import Client
from app.extensions import db
from app.invoices.models import Invoice
from app.payments.models import CardPaymentIntent
from tests import services
from tests.browser.test_roles import log_in
from tests.localstripe import CARD_3DS, CARD_OK

pytestmark = pytest.mark.browser

SOPHIE = ("sophie.dupont@boulangerie-dupont.example", "demo-client-2026")
COMPANY = "Boulangerie Dupont"


@pytest.fixture
def card_payments(live_server, localstripe) -> Iterator:
    """The live server takes card payments through localstripe, which posts
    its signed webhooks to it."""
    app = live_server.app
    saved = {key: app.config.get(key) for key in localstripe.settings()}
    app.config.update(localstripe.settings())
    localstripe.deliver_to(f"{live_server.url}/stripe/webhook")
    try:
        yield localstripe
    finally:
        localstripe.stop_delivery()
        app.config.update(saved)


def unpaid_invoice(live_server, amount: str = "708.00") -> dict:
    """An issued invoice of the demo client, its PDF there, nothing paid."""
    from tests.factories import make_issued_invoice

    with services.app_context(live_server.app):
        client = db.session.scalar(select(Client).where(Client.name == COMPANY))
        lead = db.session.scalar(select(User).where(User.role == Role.LEAD).order_by(User.id))
        invoice = make_issued_invoice(
            client,
            lead=lead,
            pdf=b"%PDF-1.7 facture de test du paiement",
            lines=(("Community management — forfait mensuel", "1", amount, "20.00"),),
        )
        db.session.commit()
        found = {
            "id": invoice.id,
            "client_id": client.id,
            "number": invoice.number,
            "due": invoice.amount_due,
        }
        db.session.remove()
    return found


def intent_of(live_server, invoice: dict) -> str:
    with services.app_context(live_server.app):
        intent_id = db.session.scalar(
            select(CardPaymentIntent.intent_id).where(CardPaymentIntent.invoice_id == invoice["id"])
        )
        db.session.remove()
    return intent_id


def status_of(live_server, invoice: dict) -> str:
    with services.app_context(live_server.app):
        status = db.session.get(Invoice, invoice["id"]).status
        db.session.remove()
    return status


def open_card_form(page: Page, live_server, invoice: dict) -> None:
    """From the invoice in her portal, "Payer par carte", to the card form."""
    log_in(page, *SOPHIE)
    portal_invoice = "portal.invoice" in live_server.app.view_functions
    if portal_invoice:
        page.goto(f"/clients/{invoice['client_id']}/portal/invoices/{invoice['id']}")
    else:
        page.goto(f"/clients/{invoice['client_id']}/invoices/{invoice['id']}/pay")
    page.get_by_role("button", name="Payer par carte").click()
    expect(page).to_have_url(re.compile(rf"/clients/{invoice['client_id']}/invoices/{invoice['id']}/pay$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Facture {invoice['number']}")
    # The card element, mounted by payment.js with Stripe.js (localstripe's inputs).
    expect(page.locator("#card-payment[data-mounted]")).to_be_attached()
    expect(page.locator("#card-element input").first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Payer 849,60"))).to_be_enabled()


def test_sophie_pays_an_invoice_by_card_and_sees_it_paid(page, live_server, card_payments, screenshot):
    invoice = unpaid_invoice(live_server)
    assert invoice["due"] == Decimal("849.60")
    open_card_form(page, live_server, invoice)
    screenshot(page, "payment-card-form")

    # What her browser gives Stripe.js: test card 4242 4242 4242 4242 on
    # the PaymentIntent Relais made, confirmed.
    intent_id = intent_of(live_server, invoice)
    assert card_payments.pay(intent_id, CARD_OK)["status"] == "succeeded"

    # localstripe's signed webhook reaches Relais, which marks the invoice paid.
    page.reload()
    expect(page.get_by_text("La facture est payée. Merci !")).to_be_visible(timeout=15_000)
    assert status_of(live_server, invoice) == "paid"
    if "portal.invoice" in live_server.app.view_functions:
        page.get_by_role("link", name="Retour à votre espace").first.click()
        expect(page.locator("main")).to_contain_text(re.compile(r"payée", re.IGNORECASE))
        expect(page.get_by_role("button", name="Payer par carte")).to_have_count(0)
        screenshot(page, "payment-portal-paid")


def test_the_page_confirms_the_card_and_waits_for_the_webhook(page, live_server, card_payments, screenshot):
    """The whole page, with its own confirmCardPayment: a card that asks
    for 3D Secure, the authentication passed in localstripe's dialog, the
    thank-you message, then the invoice paid once the webhook came."""
    invoice = unpaid_invoice(live_server)
    page.set_viewport_size({"width": 390, "height": 844})
    open_card_form(page, live_server, invoice)
    intent_id = intent_of(live_server, invoice)
    assert card_payments.pay(intent_id, CARD_3DS)["status"] == "requires_action"

    page.locator("#card-element input").first.fill(CARD_3DS)
    page.get_by_role("button", name=re.compile(r"^Payer 849,60")).click()
    page.get_by_role("button", name="Complete authentication").click()

    expect(
        page.get_by_text("Paiement reçu, merci : la facture sera marquée payée dans un instant.")
    ).to_be_visible()
    screenshot(page, "payment-received-phone")
    expect(page.get_by_text("La facture est payée. Merci !")).to_be_visible(timeout=15_000)
    expect(page.locator("#amount-due")).to_have_text(re.compile(r"^0,00"))
    assert status_of(live_server, invoice) == "paid"
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    screenshot(page, "payment-paid-phone")


def test_a_declined_card_says_so_and_nothing_is_paid(page, live_server, card_payments):
    invoice = unpaid_invoice(live_server)
    open_card_form(page, live_server, invoice)
    intent_id = intent_of(live_server, invoice)
    card_payments.pay(intent_id, "4000008260003178")  # asks for 3D Secure, then declined

    page.get_by_role("button", name=re.compile(r"^Payer 849,60")).click()
    page.get_by_role("button", name="Complete authentication").click()

    expect(page.locator("#card-errors")).to_have_text("Your card was declined.")
    expect(page.get_by_role("button", name=re.compile(r"^Payer 849,60"))).to_be_enabled()
    expect(page.locator("#payment-done")).to_be_hidden()
    assert status_of(live_server, invoice) == "issued"
