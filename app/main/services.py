"""The lead's dashboard figures (later issues add budgets and receivables)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.auth.models import Role, User
from app.clients.models import Client, WallOverride
from app.extensions import db


@dataclass
class DashboardSummary:
    active_clients: int
    archived_clients: int
    cms: int
    client_users: int
    pending_invitations: int
    overrides: list[WallOverride]
    recent: list[AuditEntry]


def dashboard_summary() -> DashboardSummary:
    clients = dict(
        db.session.execute(
            select(Client.archived_at.is_(None), func.count()).group_by(Client.archived_at.is_(None))
        ).all()
    )
    users = dict(
        db.session.execute(
            select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)
        ).all()
    )
    pending = db.session.scalar(
        select(func.count()).select_from(User).where(User.password_hash.is_(None), User.active.is_(True))
    )
    overrides = list(
        db.session.scalars(select(WallOverride).order_by(WallOverride.created_at.desc()).limit(5))
    )
    recent = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(8)))
    return DashboardSummary(
        active_clients=clients.get(True, 0),
        archived_clients=clients.get(False, 0),
        cms=users.get(Role.CM, 0),
        client_users=users.get(Role.CLIENT, 0),
        pending_invitations=pending or 0,
        overrides=overrides,
        recent=recent,
    )
