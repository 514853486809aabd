"""Clients and CM assignments, with the competitor wall.

Services hold the rules, write the audit log, flush and never commit: the
view, job or CLI command that called them commits once. Competitor groups
themselves are in clients/groups.py, the errors in clients/errors.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, exists, or_, select

from app.audit.services import record
from app.auth.models import Role, User
from app.clients.errors import ClientError, CompetitorConflict, require_lead
from app.clients.groups import create_group, delete_group, refuse_group_move, update_group
from app.clients.logos import LogoError, normalise_logo
from app.clients.models import Client, CMAssignment, CompetitorGroup, WallOverride
from app.documents.services import store_document
from app.extensions import db
from app.timeutil import today, utcnow
from app.validators import InvalidIdentifier, check_fr_vat, is_valid_siren, normalise_code, normalise_digits

__all__ = [
    "MIN_OVERRIDE_REASON",
    "ClientDetails",
    "ClientError",
    "CompetitorConflict",
    "archive_client",
    "assign_cm",
    "check_client_vat",
    "competing_clients_served",
    "create_client",
    "create_group",
    "delete_group",
    "end_assignment",
    "unarchive_client",
    "update_client",
    "update_group",
]

MIN_OVERRIDE_REASON = 10
_FOREIGN_VAT = re.compile(r"[A-Z]{2}[0-9A-Z+*]{2,13}")


# -- clients ----------------------------------------------------------------


@dataclass
class ClientDetails:
    """What the lead edits about a client (the form's data, not yet saved)."""

    name: str
    siren: str | None = None
    vat_number: str | None = None
    address_line: str = ""
    postal_code: str = ""
    city: str = ""
    country_code: str = "FR"
    billing_email: str | None = None
    competitor_group_id: int | None = None
    internal_notes: str = ""

    @classmethod
    def of(cls, client: Client) -> ClientDetails:
        return cls(**{f.name: getattr(client, f.name) for f in fields(cls)})

    def normalised(self) -> ClientDetails:
        return ClientDetails(
            name=(self.name or "").strip(),
            siren=normalise_digits(self.siren) or None,
            vat_number=normalise_code(self.vat_number) or None,
            address_line=(self.address_line or "").strip(),
            postal_code=(self.postal_code or "").strip().replace(" ", ""),
            city=(self.city or "").strip(),
            country_code=(self.country_code or "FR").strip().upper(),
            billing_email=(self.billing_email or "").strip().lower() or None,
            competitor_group_id=self.competitor_group_id or None,
            internal_notes=(self.internal_notes or "").strip(),
        )


def check_client_vat(value: str | None, siren: str | None, country_code: str = "FR") -> str:
    """The client's VAT number, normalised, or InvalidIdentifier saying why not.

    A French number (or any number of a French client) follows the French
    rule and must belong to `siren` when given; a foreign client's number
    needs only the EU shape (country code, then 2 to 13 characters).
    """
    vat = normalise_code(value)
    if vat.startswith("FR") or country_code == "FR":
        return check_fr_vat(vat, siren if is_valid_siren(siren) else None)
    if not _FOREIGN_VAT.fullmatch(vat):
        raise InvalidIdentifier(
            _("Ce numéro de TVA n'a pas un format valide : code pays, puis 2 à 13 lettres ou chiffres.")
        )
    return vat


def _check_details(details: ClientDetails, client: Client | None) -> None:
    if not details.name:
        raise ClientError(_("Indiquez le nom de l'entreprise."), field="name")
    if details.siren is not None and not is_valid_siren(details.siren):
        raise ClientError(_("Ce SIREN n'est pas valide."), field="siren")
    if details.vat_number is not None:
        try:
            check_client_vat(details.vat_number, details.siren, details.country_code)
        except InvalidIdentifier as error:
            raise ClientError(str(error), field="vat_number") from error
    if details.siren is not None:
        same = select(Client.id).where(Client.siren == details.siren)
        if client is not None:
            same = same.where(Client.id != client.id)
        if db.session.scalar(same.limit(1)) is not None:
            raise ClientError(_("Un autre client a déjà ce SIREN."), field="siren")
    if details.competitor_group_id is not None:
        if db.session.get(CompetitorGroup, details.competitor_group_id) is None:
            raise ClientError(_("Ce groupe de concurrents n'existe pas."), field="competitor_group")
        if client is not None and details.competitor_group_id != client.competitor_group_id:
            refuse_group_move(client, details.competitor_group_id)


def _attach_logo(client: Client, logo: bytes) -> None:
    try:
        png = normalise_logo(logo, current_app.config["LOGO_MAX_BYTES"])
    except LogoError as error:
        raise ClientError(str(error), field="logo") from error
    client.logo_sha256 = store_document(png, "image/png").sha256


def create_client(actor: User, details: ClientDetails, logo: bytes | None = None) -> Client:
    require_lead(actor)
    details = details.normalised()
    _check_details(details, None)
    client = Client(**{f.name: getattr(details, f.name) for f in fields(ClientDetails)})
    db.session.add(client)
    if logo:
        _attach_logo(client, logo)
    db.session.flush()
    record(
        actor,
        "client.created",
        client,
        client_id=client.id,
        summary=_("Client créé : %(name)s", name=client.name),
        data={"siren": client.siren, "logo": client.logo_sha256},
    )
    return client


def update_client(
    actor: User,
    client: Client,
    details: ClientDetails,
    logo: bytes | None = None,
    remove_logo: bool = False,
) -> Client:
    """Apply the lead's edit; the audit entry lists what changed (the notes'
    text stays out of the log)."""
    require_lead(actor)
    details = details.normalised()
    _check_details(details, client)
    changes: dict[str, Any] = {}
    for f in fields(ClientDetails):
        old, new = getattr(client, f.name), getattr(details, f.name)
        if old != new:
            changes[f.name] = True if f.name == "internal_notes" else {"from": old, "to": new}
            setattr(client, f.name, new)
    old_logo = client.logo_sha256
    if logo:
        _attach_logo(client, logo)
    elif remove_logo:
        client.logo_sha256 = None
    if client.logo_sha256 != old_logo:
        changes["logo"] = {"from": old_logo, "to": client.logo_sha256}
    db.session.flush()
    if changes:
        record(
            actor,
            "client.updated",
            client,
            client_id=client.id,
            summary=_("Client modifié : %(name)s", name=client.name),
            data={"changes": changes},
        )
    return client


def archive_client(actor: User, client: Client) -> None:
    """Hide the client from CMs and from the default list; nothing is deleted."""
    require_lead(actor)
    if client.archived:
        raise ClientError(_("Ce client est déjà archivé."))
    client.archived_at = utcnow()
    record(
        actor,
        "client.archived",
        client,
        client_id=client.id,
        summary=_("Client archivé : %(name)s", name=client.name),
    )
    db.session.flush()


def unarchive_client(actor: User, client: Client) -> None:
    require_lead(actor)
    if not client.archived:
        raise ClientError(_("Ce client n'est pas archivé."))
    client.archived_at = None
    record(
        actor,
        "client.unarchived",
        client,
        client_id=client.id,
        summary=_("Client réactivé : %(name)s", name=client.name),
    )
    db.session.flush()


# -- assignments and the competitor wall -------------------------------------


def _overlaps(since: date, until: date | None) -> ColumnElement[bool]:
    """The CMAssignment's period meets [since, until] (until None: open-ended)."""
    meets = or_(CMAssignment.until.is_(None), CMAssignment.until >= since)
    if until is not None:
        meets = and_(meets, CMAssignment.since <= until)
    return meets


def competing_clients_served(client: Client, cm: User, since: date, until: date | None) -> list[Client]:
    """The other clients of `client`'s competitor group that `cm` serves at
    some point of [since, until]."""
    if client.competitor_group_id is None:
        return []
    stmt = (
        select(Client)
        .where(
            Client.competitor_group_id == client.competitor_group_id,
            Client.id != client.id,
            exists().where(
                CMAssignment.client_id == Client.id,
                CMAssignment.cm_id == cm.id,
                _overlaps(since, until),
            ),
        )
        .order_by(Client.name)
    )
    return list(db.session.scalars(stmt))


def assign_cm(
    actor: User,
    client: Client,
    cm: User,
    since: date,
    until: date | None = None,
    override_reason: str | None = None,
) -> CMAssignment:
    """Assign `cm` to `client` from `since` to `until` (inclusive).

    Raises ClientError (not a CM, inactive, archived client, bad period,
    overlapping duplicate) or CompetitorConflict (the CM serves a competitor
    over the period and no reason of at least MIN_OVERRIDE_REASON characters
    was given). With a reason, the lead's override is recorded: one
    WallOverride per competitor and audit entries on both clients.
    """
    require_lead(actor)
    if cm.role != Role.CM:
        raise ClientError(_("Seul un community manager peut être affecté à un client."), field="cm")
    if not cm.active:
        raise ClientError(_("Le compte de %(name)s est désactivé.", name=cm.name), field="cm")
    if client.archived:
        raise ClientError(_("Ce client est archivé : réactivez-le avant d'y affecter quelqu'un."))
    if until is not None and until < since:
        raise ClientError(_("La date de fin précède la date de début."), field="until")
    duplicate = select(CMAssignment.id).where(
        CMAssignment.client_id == client.id, CMAssignment.cm_id == cm.id, _overlaps(since, until)
    )
    if db.session.scalar(duplicate.limit(1)) is not None:
        raise ClientError(
            _("%(name)s est déjà affecté(e) à ce client sur cette période.", name=cm.name), field="cm"
        )
    competitors = competing_clients_served(client, cm, since, until)
    reason = (override_reason or "").strip()
    if competitors and len(reason) < MIN_OVERRIDE_REASON:
        raise CompetitorConflict(cm, client, competitors)

    assignment = CMAssignment(client=client, cm=cm, since=since, until=until, created_by_id=actor.id)
    db.session.add(assignment)
    db.session.flush()
    period = {"since": since.isoformat(), "until": until.isoformat() if until else None}
    record(
        actor,
        "assignment.created",
        assignment,
        client_id=client.id,
        summary=_("%(cm)s affecté(e) à %(client)s", cm=cm.name, client=client.name),
        reason=reason if competitors else None,
        data={"cm_id": cm.id, **period},
    )
    for other in competitors:
        override = WallOverride(
            assignment=assignment, competitor_client_id=other.id, reason=reason, created_by_id=actor.id
        )
        db.session.add(override)
        db.session.flush()
        summary = _(
            "Dérogation au mur éthique : %(cm)s sert %(client)s et %(other)s, concurrents",
            cm=cm.name,
            client=client.name,
            other=other.name,
        )
        data = {"cm_id": cm.id, "assignment_id": assignment.id, "clients": [client.id, other.id], **period}
        for concerned in (client, other):
            record(
                actor,
                "wall.override",
                override,
                client_id=concerned.id,
                summary=summary,
                reason=reason,
                data=data,
            )
    return assignment


def end_assignment(
    actor: User, client: Client, assignment: CMAssignment, until: date | None = None
) -> CMAssignment | None:
    """End `assignment` after `until`, its last day of service (inclusive).

    Without `until`, the CM loses access now: the last day becomes
    yesterday, or, for an assignment that starts today or later, it is
    cancelled (removed, the audit log keeps it). Returns the assignment, or
    None when cancelled.
    """
    require_lead(actor)
    if assignment.client_id != client.id:
        raise ClientError(_("Cette affectation ne concerne pas ce client."))
    day = today()
    if assignment.until is not None and assignment.until < day:
        raise ClientError(_("Cette affectation est déjà terminée."))
    cm_name = assignment.cm.name
    if until is None:
        until = day - timedelta(days=1)
        if until < assignment.since:
            record(
                actor,
                "assignment.cancelled",
                assignment,
                client_id=client.id,
                summary=_("Affectation de %(cm)s à %(client)s annulée", cm=cm_name, client=client.name),
                data={"cm_id": assignment.cm_id, "since": assignment.since.isoformat()},
            )
            db.session.delete(assignment)
            db.session.flush()
            return None
    if until < assignment.since:
        raise ClientError(
            _(
                "La fin ne peut pas précéder le début de l'affectation (%(since)s).",
                since=format_date(assignment.since, "medium"),
            ),
            field="until",
        )
    if assignment.until is not None and until > assignment.until:
        raise ClientError(
            _(
                "Cette affectation se termine déjà le %(until)s.",
                until=format_date(assignment.until, "medium"),
            ),
            field="until",
        )
    previous = assignment.until
    assignment.until = until
    record(
        actor,
        "assignment.ended",
        assignment,
        client_id=client.id,
        summary=_(
            "Fin de l'affectation de %(cm)s à %(client)s (dernier jour : %(until)s)",
            cm=cm_name,
            client=client.name,
            until=format_date(until, "medium"),
        ),
        data={
            "cm_id": assignment.cm_id,
            "until": until.isoformat(),
            "previous_until": previous.isoformat() if previous else None,
        },
    )
    db.session.flush()
    return assignment
