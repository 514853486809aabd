"""How long a former client's personal data is kept, and erasing it.

Personal data is kept for the agency's retention period (setting
`retention_personal_years`) after the client's last activity; then a lead
may erase it. Erasing anonymises the client's contacts and blanks what was
written about people and the work (time notes, report highlights and
messages, share links, internal notes, billing e-mail, logo). It keeps what
the law or the accounts need: issued invoices and credit notes with their
frozen buyer, payments, contracts and their money terms, the published
report PDFs (the record of the invoiced work, immutable like every stored
document) and the audit log, which records the erasure.

Services flush, never commit: the view commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, func, select, update

from app.agency.services import get_settings
from app.audit.models import AuditEntry
from app.audit.services import record
from app.auth.models import Role, User
from app.clients.models import Client, ClientMember
from app.contracts.models import Contract
from app.extensions import db
from app.formatting import long_day
from app.invoices.models import Invoice, InvoiceStatus, Payment
from app.payments.models import StripeEvent
from app.reports.models import Report, ReportMessage, ReportVersion, ShareLink
from app.timesheets.models import TimeEntry
from app.timeutil import PARIS, utcnow
from app.timeutil import today as agency_today

# Issued invoices and credit notes: 10 years (art. L123-22 of the Code de commerce).
INVOICE_RETENTION_YEARS = 10

ERASED_ACTION = "client.personal_data_erased"
EXPORTED_ACTION = "client.exported"
ERASED_CONTACT_NAME = "Contact supprimé"


class LifecycleError(ValueError):
    """A refused export or erasure, with a message for the user (and the
    form field it concerns, if any)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def require_lead(actor: User | None) -> None:
    if actor is None or actor.role != Role.LEAD or not actor.active:
        raise LifecycleError(_("Seul un responsable d'agence peut faire cela."))


def local_day(moment: datetime | None) -> date | None:
    """The agency's calendar day of a stored moment (SQLite gives it naive, in UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS).date()


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# -- retention ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Retention:
    last_activity: date  # the day the retention period starts
    years: int
    erasable_from: date  # personal data may be erased from this day on
    invoices_kept_until: date | None  # the last issued invoice's 10 years


def last_activity(client: Client) -> date:
    """The client's last day of business with the agency: the latest of its
    contracts' ends (an open contract ends when the client is archived),
    its time, its published reports and messages, its invoices and payments.
    A client with none of these: the day it was archived (or created)."""
    archived = local_day(client.archived_at)
    days: list[date | None] = [
        db.session.scalar(select(func.max(TimeEntry.day)).where(TimeEntry.client_id == client.id)),
        db.session.scalar(
            select(func.max(Invoice.issue_date)).where(
                Invoice.client_id == client.id, Invoice.status != InvoiceStatus.DRAFT
            )
        ),
        db.session.scalar(select(func.max(Payment.received_on)).where(Payment.client_id == client.id)),
        local_day(
            db.session.scalar(
                select(func.max(ReportVersion.published_at)).where(ReportVersion.client_id == client.id)
            )
        ),
        local_day(
            db.session.scalar(
                select(func.max(ReportMessage.created_at)).where(ReportMessage.client_id == client.id)
            )
        ),
    ]
    for start, end in db.session.execute(
        select(Contract.start_date, Contract.end_date).where(Contract.client_id == client.id)
    ):
        days.append(end if end is not None else (archived or agency_today()))
        days.append(start)
    known = [d for d in days if d is not None]
    if known:
        return max(known)
    return archived or local_day(client.created_at) or agency_today()


def retention(client: Client) -> Retention:
    years = get_settings().retention_personal_years
    last = last_activity(client)
    last_invoice = db.session.scalar(
        select(func.max(Invoice.issue_date)).where(
            Invoice.client_id == client.id, Invoice.status != InvoiceStatus.DRAFT
        )
    )
    return Retention(
        last_activity=last,
        years=years,
        erasable_from=add_years(last, years) + timedelta(days=1),
        invoices_kept_until=add_years(last_invoice, INVOICE_RETENTION_YEARS) if last_invoice else None,
    )


def erasure_refusal(client: Client, today: date | None = None) -> str | None:
    """Why the client's personal data cannot be erased today (None: it can)."""
    today = today or agency_today()
    if not client.archived:
        return _(
            "« %(name)s » est un client actif : archivez-le d'abord. Seules les données d'un ancien "
            "client peuvent être effacées, une fois la durée de conservation écoulée.",
            name=client.name,
        )
    kept = retention(client)
    if today < kept.erasable_from:
        return ngettext(
            "La durée de conservation n'est pas écoulée (%(num)d an après la dernière activité, "
            "le %(last)s) : les données personnelles de « %(name)s » pourront être effacées à partir "
            "du %(day)s.",
            "La durée de conservation n'est pas écoulée (%(num)d ans après la dernière activité, "
            "le %(last)s) : les données personnelles de « %(name)s » pourront être effacées à partir "
            "du %(day)s.",
            kept.years,
            last=long_day(kept.last_activity),
            name=client.name,
            day=long_day(kept.erasable_from),
        )
    return None


def last_event(client: Client, action: str) -> AuditEntry | None:
    return db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.client_id == client.id, AuditEntry.action == action)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


# -- erasure -----------------------------------------------------------------------------


def confirmation_matches(client: Client, typed: str | None) -> bool:
    """The lead typed the client's name (case and extra spaces aside)."""

    def norm(text: str | None) -> str:
        return " ".join((text or "").split()).casefold()

    return bool(norm(typed)) and norm(typed) == norm(client.name)


def placeholder_email(user: User) -> str:
    """A unique address that can receive nothing (.invalid, RFC 2606)."""
    return f"contact-supprime-{user.id}@anonyme.invalid"


def erase_personal_data(
    actor: User, client: Client, confirmation: str | None, today: date | None = None
) -> dict[str, int]:
    """Erase the personal data of a former client whose retention period has
    passed; returns what was erased, by kind. LifecycleError says why not."""
    require_lead(actor)
    refusal = erasure_refusal(client, today)
    if refusal:
        raise LifecycleError(refusal)
    if not confirmation_matches(client, confirmation):
        raise LifecycleError(
            _("Recopiez le nom du client, « %(name)s », pour confirmer l'effacement.", name=client.name),
            field="confirm_name",
        )
    counts = {
        "contacts": _anonymise_contacts(client),
        "time_notes": _execute(
            update(TimeEntry).where(TimeEntry.client_id == client.id, TimeEntry.note != "").values(note="")
        ),
        "highlights": _execute(
            update(Report)
            .where(
                Report.client_id == client.id, (Report.highlights != "") | Report.draft_sha256.is_not(None)
            )
            .values(highlights="", draft_sha256=None)
        ),
        "messages": _execute(
            update(ReportMessage)
            .where(ReportMessage.client_id == client.id, ReportMessage.body != "")
            .values(body="")
        ),
        "share_links": _execute(delete(ShareLink).where(ShareLink.client_id == client.id)),
        "stripe_events": _redact_stripe_events(client),
    }
    client.internal_notes = ""
    client.billing_email = None
    client.logo_sha256 = None
    record(
        actor,
        ERASED_ACTION,
        client,
        client_id=client.id,
        summary=_("Données personnelles effacées : %(name)s", name=client.name),
        data=counts,
    )
    db.session.flush()
    db.session.expire_all()
    return counts


def _execute(statement: Any) -> int:
    result = db.session.execute(statement, execution_options={"synchronize_session": False})
    return result.rowcount or 0


def _anonymise_contacts(client: Client) -> int:
    members = db.session.scalars(select(ClientMember).where(ClientMember.client_id == client.id)).all()
    for member in members:
        user = member.user
        member.job_title = ""
        user.name = ERASED_CONTACT_NAME
        user.email = placeholder_email(user)
        user.password_hash = None
        user.active = False
        user.invited_at = None
        user.last_login_at = None
        user.session_version = (user.session_version or 1) + 1  # its sessions and links end
    return len(members)


def _redact_stripe_events(client: Client) -> int:
    """Keep of each handled webhook event what the payments need (ids,
    amounts, metadata), not the payer's name, e-mail or card details."""
    events = db.session.scalars(
        select(StripeEvent).where(StripeEvent.client_id == client.id, StripeEvent.processed_at.is_not(None))
    ).all()
    kept = ("id", "object", "amount", "amount_received", "currency", "status", "metadata", "payment_intent")
    for event in events:
        payload = event.payload or {}
        obj = (payload.get("data") or {}).get("object") or {}
        event.payload = {
            "id": payload.get("id"),
            "type": payload.get("type"),
            "created": payload.get("created"),
            "data": {"object": {key: obj[key] for key in kept if key in obj}},
            "redacted_at": utcnow().isoformat(),
        }
    return len(events)
