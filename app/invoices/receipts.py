"""Money received against issued invoices: payments typed by a lead, and
card payments and refunds reported by Stripe. Flushes, never commits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from app.audit.services import record
from app.auth.models import User
from app.extensions import db
from app.invoices.models import Invoice, InvoiceStatus, Payment, PaymentMethod
from app.invoices.services import MAX_AMOUNT, InvoiceError, _money
from app.money import to_cents
from app.timeutil import today as agency_today


def record_payment(
    actor: User | None,
    invoice: Invoice,
    *,
    amount: Decimal,
    received_on: date,
    method: str = PaymentMethod.TRANSFER,
    reference: str = "",
    external_id: str | None = None,
    strict: bool = True,
) -> Payment | None:
    """Money received (or refunded, `amount` < 0) against an issued invoice.

    `external_id` (a Stripe object) makes it idempotent: seen before, nothing
    happens and None is returned. `strict` (payments typed by a lead) refuses
    more than is left to pay; money that did arrive by card is recorded
    whatever the state (and never moves a paid invoice back).
    """
    if method not in set(PaymentMethod):
        raise InvoiceError(_("Mode de paiement inconnu."))
    amount = to_cents(Decimal(amount))
    if amount == 0:
        raise InvoiceError(_("Indiquez un montant."))
    if abs(amount) > MAX_AMOUNT:
        raise InvoiceError(_("Montant trop élevé."))
    if received_on > agency_today():
        raise InvoiceError(_("La date de réception ne peut pas être dans le futur."))
    locked = db.session.scalar(
        select(Invoice)
        .where(Invoice.id == invoice.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if external_id is not None:
        seen = db.session.scalar(select(Payment.id).where(Payment.external_id == external_id))
        if seen is not None:
            return None
    if locked.is_draft or locked.is_credit_note:
        raise InvoiceError(_("Un paiement se rapporte à une facture émise."))
    if strict:
        if amount > 0 and locked.status in (InvoiceStatus.PAID, InvoiceStatus.CANCELLED):
            raise InvoiceError(_("Cette facture n'a plus rien à payer."))
        if amount > locked.amount_due:
            raise InvoiceError(
                _("Le montant dépasse le reste à payer (%(left)s).", left=_money(locked.amount_due))
            )
    if amount < 0 and -amount > locked.amount_paid:
        raise InvoiceError(_("Un remboursement ne dépasse pas ce qui a été payé."))
    payment = Payment(
        client_id=locked.client_id,
        invoice=locked,
        amount=amount,
        method=method,
        received_on=received_on,
        reference=(reference or "").strip()[:120],
        external_id=external_id,
        recorded_by_id=actor.id if actor else None,
    )
    db.session.add(payment)
    locked.amount_paid = locked.amount_paid + amount
    locked.settle()
    record(
        actor,
        "invoice.payment" if amount > 0 else "invoice.refund",
        locked,
        client_id=locked.client_id,
        summary=_(
            "Paiement de %(amount)s enregistré sur %(number)s", amount=_money(amount), number=locked.number
        )
        if amount > 0
        else _("Remboursement de %(amount)s sur %(number)s", amount=_money(-amount), number=locked.number),
        data={"amount": str(amount), "method": method, "external_id": external_id},
    )
    db.session.flush()
    return payment
