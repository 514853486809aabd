"""What a client's space shows: its own company, the CMs who serve it (names
only) and the agency's details. Never internal notes, competitors, costs nor
anything of another client: each value here is picked, not passed whole."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from app.agency.models import AgencySettings
from app.agency.services import get_settings
from app.auth.models import User
from app.clients.models import Client, CMAssignment
from app.extensions import db
from app.timeutil import today


@dataclass(frozen=True)
class PortalHome:
    client: Client
    cm_names: list[str]
    agency: AgencySettings


def serving_cm_names(client: Client) -> list[str]:
    """Names of the active CMs assigned to `client` today, each once."""
    day = today()
    stmt = (
        select(User.name)
        .join(CMAssignment, CMAssignment.cm_id == User.id)
        .where(
            CMAssignment.client_id == client.id,
            CMAssignment.since <= day,
            or_(CMAssignment.until.is_(None), CMAssignment.until >= day),
            User.active.is_(True),
        )
        .distinct()
        .order_by(User.name)
    )
    return list(db.session.scalars(stmt))


def portal_home(client: Client) -> PortalHome:
    return PortalHome(client=client, cm_names=serving_cm_names(client), agency=get_settings())
