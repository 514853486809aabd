"""Clients: create, edit, archive.

Services hold the rules, write the audit log, flush and never commit: the
view, job or CLI command that called them commits once. Assignments and the
competitor wall are in clients/assignments.py, competitor groups in
clients/groups.py, the errors in clients/errors.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.audit.services import record
from app.auth.models import User
from app.clients.errors import ClientError, require_lead
from app.clients.groups import refuse_group_move
from app.clients.logos import LogoError, normalise_logo
from app.clients.models import Client, CompetitorGroup
from app.documents.services import store_document
from app.extensions import db
from app.timeutil import utcnow
from app.validators import InvalidIdentifier, check_fr_vat, is_valid_siren, normalise_code, normalise_digits

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
