"""Payment pages and the Stripe webhook.

A client user starts a card payment from its invoice (POST), then confirms
it on the payment page with Stripe.js; Stripe's signed webhook records the
money. Without Stripe configured the page shows the bank-transfer details.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import access
from app.access import install_client_scope, public, roles_required
from app.agency.services import get_settings
from app.auth.models import Role
from app.extensions import csrf, db
from app.formatting import money
from app.invoices.models import Invoice, InvoiceStatus
from app.invoices.services import InvoiceError, get_invoice_or_404
from app.jobs import enqueue
from app.payments import bp
from app.payments import stripe_adapter as adapter
from app.payments.services import (
    card_payments_enabled,
    current_card_payment,
    payable,
    start_card_payment,
    store_event,
)
from app.validators import format_iban

install_client_scope(bp)


def _invoice(invoice_id: int) -> Invoice:
    return get_invoice_or_404(g.client, invoice_id, current_user)


def back_url(invoice: Invoice) -> str:
    """The invoice in the client's portal (its home until that page exists)."""
    if "portal.invoice" in current_app.view_functions:
        return url_for("portal.invoice", client_id=invoice.client_id, invoice_id=invoice.id)
    return url_for("portal.home", client_id=invoice.client_id)


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def payment_csp() -> str:
    """The page's Content-Security-Policy: ours, plus what Stripe.js needs
    (its script, its card iframes, its API)."""
    config = current_app.config
    js = _origin(config.get("STRIPE_JS_URL")) or "https://js.stripe.com"
    api = _origin(config.get("STRIPE_API_BASE")) or "https://api.stripe.com"
    frames = " ".join(dict.fromkeys([js, "https://js.stripe.com", "https://hooks.stripe.com"]))
    connect = " ".join(dict.fromkeys(["'self'", js, api]))
    return (
        f"default-src 'self'; script-src 'self' {js}; frame-src {frames}; connect-src {connect}; "
        "img-src 'self' data: https://*.stripe.com; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/pay", methods=["POST"])
@roles_required(Role.CLIENT)
def start(invoice_id: int):
    """Start (or take up again) the card payment of an invoice."""
    invoice = _invoice(invoice_id)
    try:
        start_card_payment(current_user, invoice)
    except InvoiceError as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(back_url(invoice))
    except adapter.PaymentProviderError:
        db.session.rollback()
        current_app.logger.exception("card payment of invoice %s could not start", invoice_id)
        flash(_("Le paiement par carte est momentanément indisponible : réessayez plus tard."), "error")
        return redirect(back_url(invoice))
    db.session.commit()
    return redirect(url_for("payments.pay", invoice_id=invoice.id))


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/pay")
@roles_required(Role.CLIENT)
def pay(invoice_id: int):
    """The card form for the payment under way (nothing is created here: a
    page without one offers the button that starts it)."""
    invoice = _invoice(invoice_id)
    enabled = card_payments_enabled()
    payment, unavailable = None, False
    if enabled and payable(invoice):
        try:
            payment = current_card_payment(invoice)
        except adapter.PaymentProviderError:
            current_app.logger.exception("card payment of invoice %s could not be read", invoice_id)
            unavailable = True
    response = current_app.make_response(
        render_template(
            "payments/pay.html",
            invoice=invoice,
            enabled=enabled,
            payable=payable(invoice),
            payment=payment,
            unavailable=unavailable,
            agency=get_settings(),
            format_iban=format_iban,
            back_url=back_url(invoice),
        )
    )
    if payment is not None:
        response.headers["Content-Security-Policy"] = payment_csp()
    return response


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/pay/status")
@roles_required(Role.CLIENT)
def status(invoice_id: int):
    """What the payment page polls until the webhook has done its work."""
    invoice = _invoice(invoice_id)
    paid = invoice.status == InvoiceStatus.PAID
    return jsonify(
        {
            "status": invoice.status,
            "paid": paid,
            "amount_due": money(invoice.amount_due),
            "message": _("La facture est payée. Merci !") if paid else "",
        }
    )


@bp.route("/stripe/webhook", methods=["POST"])
@public
@csrf.exempt
def webhook():
    """Stripe's events: verified on the raw body, kept once by id, handled
    by a job. 400 for anything Stripe did not sign; 200 once stored, also
    for an event seen before (so Stripe stops sending it)."""
    try:
        payload, signature = request.get_data(cache=False), request.headers.get("Stripe-Signature")
        event = adapter.construct_event(payload, signature)
    except adapter.WebhookError as error:
        current_app.logger.warning("stripe webhook refused: %s", error)
        return jsonify({"error": "invalid signature"}), 400
    # Stripe is no user of ours: a signed event is the system's business.
    access.set_scope(access.system_scope("stripe webhook"))
    if store_event(event):
        enqueue(
            "app.payments.jobs.handle_event",
            event["id"],
            queue="default",
            job_id=f"stripe-event-{event['id']}",
        )
    db.session.commit()
    return jsonify({"received": True})
