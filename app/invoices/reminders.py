"""Payment reminders: a polite mail to the client about an overdue invoice,
at most one a day. Flushes, never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.audit.services import record
from app.auth.models import User
from app.clients.queries import client_contacts
from app.extensions import db
from app.invoices.models import Invoice
from app.invoices.services import InvoiceError
from app.mail import in_language_of, send_mail
from app.mail_links import external_url
from app.timeutil import today as agency_today
from app.timeutil import utcnow
from app.validators import format_iban

# Between two reminders of one invoice.
REMINDER_INTERVAL = timedelta(hours=24)
# The fixed compensation for recovery costs owed by a late professional
# payer (art. L441-10 and D441-5 of the Code de commerce).
RECOVERY_INDEMNITY = Decimal("40.00")


@dataclass(frozen=True)
class Recipient:
    email: str
    user: User | None  # None: the client's billing address (written in French)


def recipients(invoice: Invoice) -> list[Recipient]:
    """The client's billing e-mail, else its users who can log in."""
    if invoice.client.billing_email:
        return [Recipient(invoice.client.billing_email, None)]
    users = client_contacts(invoice.client_id)
    return [Recipient(user.email, user) for user in users]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite keeps no zone


def next_reminder_at(invoice: Invoice) -> datetime | None:
    """When the next reminder may go (None: now)."""
    if invoice.last_reminder_at is None:
        return None
    at = _aware(invoice.last_reminder_at) + REMINDER_INTERVAL
    return at if at > utcnow() else None


def send_reminder(actor: User, invoice: Invoice) -> list[str]:
    """Mail a reminder about the overdue `invoice` to its client; returns the
    addresses written to. InvoiceError says why it is refused."""
    locked = db.session.scalar(
        select(Invoice)
        .where(Invoice.id == invoice.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    today = agency_today()
    if not locked.is_overdue(today):
        raise InvoiceError(_("Seule une facture en retard de paiement se relance."))
    if next_reminder_at(locked) is not None:
        from app.formatting import moment

        raise InvoiceError(
            _(
                "Une relance est déjà partie le %(when)s : attendez 24 heures avant la suivante.",
                when=moment(locked.last_reminder_at),
            )
        )
    to = recipients(locked)
    if not to:
        raise InvoiceError(
            _("Ce client n'a ni e-mail de facturation ni utilisateur actif : impossible de le relancer.")
        )
    seller = locked.seller or {}
    context = {
        "invoice": locked,
        "left": locked.amount_due,
        "days_late": locked.days_overdue(today),
        "penalty_rate": Decimal(seller.get("late_penalty_rate") or "0"),
        "indemnity": RECOVERY_INDEMNITY,
        "iban": seller.get("iban") or "",
        "bic": seller.get("bic") or "",
        "agency": seller.get("name") or "",
        "agency_email": seller.get("email") or "",
        "format_iban": format_iban,
        "link": external_url("portal.home", client_id=locked.client_id),
    }
    for recipient in to:
        if recipient.user is None:
            with force_locale("fr_FR"):
                _mail(recipient, context)
        else:
            with in_language_of(recipient.user):
                _mail(recipient, context)
    locked.last_reminder_at = utcnow()
    record(
        actor,
        "invoice.reminded",
        locked,
        client_id=locked.client_id,
        summary=_("Relance envoyée pour la facture %(number)s", number=locked.number),
        data={"recipients": len(to), "left": str(locked.amount_due), "days_late": context["days_late"]},
    )
    db.session.flush()
    return [r.email for r in to]


def _mail(recipient: Recipient, context: dict) -> None:
    invoice = context["invoice"]
    send_mail(
        recipient.email,
        _("Rappel : facture %(number)s en attente de règlement", number=invoice.number),
        render_template("invoices/mail/reminder.txt", user=recipient.user, **context),
    )
