"""Against real peers: localstripe posts its signed webhooks over HTTP to a
live Relais (its own database, rows committed), deliveries arrive at once,
two clicks race for one PaymentIntent."""

from __future__ import annotations

import email
import email.policy
import itertools
import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.invoices.models import Invoice, InvoiceStatus, Payment
from app.payments.models import CardPaymentIntent, StripeEvent
from app.payments.services import start_card_payment
from tests import services
from tests.payments.conftest import TTC, make_billing, wait_for

_names = itertools.count(1)


def new_billing(server) -> dict:
    """A client, its user and an unpaid invoice in the live server's database."""
    with services.app_context(server.app):
        billing = make_billing(f"Boulangerie n° {next(_names)}")
        db.session.commit()
        ids = {
            "invoice": billing.invoice.id,
            "number": billing.invoice.number,
            "member": billing.member.id,
            "lead": billing.lead.email,
        }
        db.session.remove()
    return ids


def start(server, ids) -> str:
    from app.auth.models import User

    with services.app_context(server.app):
        invoice = db.session.get(Invoice, ids["invoice"])
        intent_id = start_card_payment(db.session.get(User, ids["member"]), invoice).row.intent_id
        db.session.commit()
        db.session.remove()
    return intent_id


def read(server, query):
    with services.app_context(server.app):
        try:
            return query()
        finally:
            db.session.remove()


def payments(server, ids) -> list[tuple]:
    return read(
        server,
        lambda: db.session.execute(
            select(Payment.amount, Payment.external_id).where(Payment.invoice_id == ids["invoice"])
        ).all(),
    )


def invoice_status(server, ids) -> str:
    return read(server, lambda: db.session.get(Invoice, ids["invoice"]).status)


def mails_about(server, number: str) -> list:
    found = []
    for path in sorted(server.outbox.glob("*.eml")) if server.outbox.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if number in message["Subject"]:
            found.append(message)
    return found


@pytest.fixture
def delivering(localstripe) -> Iterator:
    """deliver(url): localstripe posts its events to `url` for this test only."""
    yield localstripe.deliver_to
    localstripe.stop_delivery()


def test_localstripe_sends_its_signed_webhook_and_the_invoice_is_paid(
    payments_server, localstripe, delivering
):
    ids = new_billing(payments_server)
    intent_id = start(payments_server, ids)
    delivering(payments_server.webhook_url)

    localstripe.pay(intent_id)

    wait_for(lambda: invoice_status(payments_server, ids) == InvoiceStatus.PAID)
    assert payments(payments_server, ids) == [(TTC, intent_id)]
    event = read(
        payments_server,
        lambda: (
            db.session.scalars(select(StripeEvent).where(StripeEvent.type == "payment_intent.succeeded"))
            .all()[-1]
            .payload["data"]["object"]["id"]
        ),
    )
    assert event == intent_id
    mails = wait_for(lambda: mails_about(payments_server, ids["number"]))
    assert [m["To"] for m in mails].count(ids["lead"]) == 1


class Capture(BaseHTTPRequestHandler):
    """Stands where Relais would: keeps what localstripe posts."""

    received: list[tuple[bytes, dict[str, str]]] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Capture.received.append((body, dict(self.headers)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def capture() -> Iterator[str]:
    Capture.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 (our live server)
    request.add_header("Content-Type", headers["Content-Type"])
    request.add_header("Stripe-Signature", headers["Stripe-Signature"])
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (our live server)
        return response.status


def test_the_same_webhook_five_times_two_at_once_records_one_payment(
    payments_server, localstripe, delivering, capture
):
    ids = new_billing(payments_server)
    intent_id = start(payments_server, ids)
    delivering(capture)
    localstripe.pay(intent_id)
    wait_for(lambda: [r for r in Capture.received if b"payment_intent.succeeded" in r[0]])
    (body, headers) = next(r for r in Capture.received if b"payment_intent.succeeded" in r[0])
    assert headers["Stripe-Signature"].startswith("t=")

    # Localstripe's own bytes and signature, delivered five times: the first
    # two at the same moment, then three more.
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def deliver():
        barrier.wait()
        statuses.append(post(payments_server.webhook_url, body, headers))

    racers = [threading.Thread(target=deliver) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=30)
    statuses += [post(payments_server.webhook_url, body, headers) for _ in range(3)]

    assert statuses == [200] * 5
    assert invoice_status(payments_server, ids) == InvoiceStatus.PAID
    assert payments(payments_server, ids) == [(TTC, intent_id)]
    event_id = json.loads(body)["id"]
    stored = read(
        payments_server,
        lambda: db.session.scalar(
            select(func.count()).select_from(StripeEvent).where(StripeEvent.id == event_id)
        ),
    )
    assert stored == 1
    # One mail per active lead (the database has the leads of earlier tests too).
    mails = wait_for(lambda: mails_about(payments_server, ids["number"]))
    assert [m["To"] for m in mails].count(ids["lead"]) == 1


def test_two_clicks_at_once_make_one_payment_intent(payments_server, localstripe):
    ids = new_billing(payments_server)
    barrier = threading.Barrier(2)
    made: list[str] = []
    errors: list[Exception] = []

    def click():
        from app.auth.models import User

        try:
            with services.app_context(payments_server.app):
                invoice = db.session.get(Invoice, ids["invoice"])
                user = db.session.get(User, ids["member"])
                barrier.wait()
                made.append(start_card_payment(user, invoice).row.intent_id)
                db.session.commit()
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join(timeout=30)

    assert not errors
    assert len(made) == 2 and made[0] == made[1]
    rows = read(
        payments_server,
        lambda: db.session.scalars(
            select(CardPaymentIntent.intent_id).where(CardPaymentIntent.invoice_id == ids["invoice"])
        ).all(),
    )
    assert rows == [made[0]]
