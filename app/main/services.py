"""The lead's dashboard figures, in a fixed number of queries whatever the
size of the agency (later issues add budgets and receivables)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from app.access import visible_clients
from app.agency.models import AgencySettings
from app.agency.services import get_settings
from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.clients.models import Client, CMAssignment, WallOverride
from app.extensions import db
from app.timeutil import today

RECENT_ENTRIES = 8
RECENT_OVERRIDES = 5


@dataclass
class DashboardSummary:
    active_clients: int
    archived_clients: int
    unserved_clients: list[Client]  # active, without any CM today (first few)
    unserved_count: int
    cms: int
    client_users: int
    pending_invitations: int
    overrides: list[WallOverride]
    recent: list[AuditEntry]
    agency: AgencySettings


def _served_today():
    """A condition on Client: some active CM serves it today. The clients
    served are listed once (a hashed subplan), not looked for client by
    client."""
    day = today()
    served = (
        select(CMAssignment.client_id)
        .join(User, User.id == CMAssignment.cm_id)
        .where(
            CMAssignment.since <= day,
            or_(CMAssignment.until.is_(None), CMAssignment.until >= day),
            User.active.is_(True),
        )
    )
    return Client.id.in_(served)


def dashboard_summary(unserved_shown: int = 5) -> DashboardSummary:
    active = Client.archived_at.is_(None)
    unserved = active & ~_served_today()
    clients = db.session.execute(
        visible_clients()
        .with_only_columns(
            func.count().filter(active),
            func.count().filter(~active),
            func.count().filter(unserved),
        )
        .select_from(Client)
    ).one()
    unserved_clients = list(
        db.session.scalars(visible_clients().where(unserved).order_by(Client.name).limit(unserved_shown))
    )
    users = {
        role: (count, pending)
        for role, count, pending in db.session.execute(
            select(User.role, func.count(), func.count().filter(User.password_hash.is_(None)))
            .where(User.active.is_(True))
            .group_by(User.role)
        )
    }
    overrides = list(
        db.session.scalars(
            select(WallOverride)
            .options(
                joinedload(WallOverride.assignment).joinedload(CMAssignment.cm),
                joinedload(WallOverride.assignment).joinedload(CMAssignment.client),
                joinedload(WallOverride.competitor_client),
            )
            .order_by(WallOverride.created_at.desc(), WallOverride.id.desc())
            .limit(RECENT_OVERRIDES)
        )
    )
    recent = list(
        db.session.scalars(
            select(AuditEntry)
            .options(joinedload(AuditEntry.actor))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(RECENT_ENTRIES)
        )
    )
    return DashboardSummary(
        active_clients=clients[0],
        archived_clients=clients[1],
        unserved_clients=unserved_clients,
        unserved_count=clients[2],
        cms=users.get(Role.CM, (0, 0))[0],
        client_users=users.get(Role.CLIENT, (0, 0))[0],
        pending_invitations=sum(pending for _count, pending in users.values()),
        overrides=overrides,
        recent=recent,
        agency=get_settings(),
    )
