"""Read-side of the team and access pages: the filtered account list and the
company of each client user (one query per page, not one per row)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from app.access import client_scope
from app.auth.models import Role, User
from app.clients.models import Client, ClientMember
from app.extensions import db

STATUSES = ("active", "pending", "deactivated")
ROLES = (Role.LEAD.value, Role.CM.value, Role.CLIENT.value)


@dataclass
class UserFilters:
    q: str = ""
    role: str = ""
    status: str = ""

    @classmethod
    def from_args(cls, args: Any) -> UserFilters:
        role = args.get("role", "")
        status = args.get("status", "")
        return cls(
            q=(args.get("q") or "").strip()[:100],
            role=role if role in ROLES else "",
            status=status if status in STATUSES else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.role or self.status)


def status_clause(status: str):
    if status == "deactivated":
        return User.active.is_(False)
    if status == "pending":
        return User.active.is_(True) & User.password_hash.is_(None)
    return User.active.is_(True) & User.password_hash.is_not(None)


def user_status(user: User) -> str:
    """ "pending" (invited, no password yet), "deactivated" or "active"."""
    if not user.active:
        return "deactivated"
    if user.is_pending:
        return "pending"
    return "active"


def user_list(filters: UserFilters) -> Select[tuple[User]]:
    stmt = select(User)
    if filters.role:
        stmt = stmt.where(User.role == filters.role)
    if filters.status:
        stmt = stmt.where(status_clause(filters.status))
    if filters.q:
        of_company = (
            select(ClientMember.user_id)
            .join(Client, Client.id == ClientMember.client_id)
            .where(Client.name.icontains(filters.q, autoescape=True))
        )
        stmt = stmt.where(
            or_(
                User.name.icontains(filters.q, autoescape=True),
                User.email.icontains(filters.q, autoescape=True),
                User.id.in_(of_company),
            )
        )
    return stmt.order_by(User.active.desc(), User.name, User.id)


def memberships(user_ids: list[int]) -> dict[int, ClientMember]:
    """The company (and job title) of each client user among `user_ids`."""
    if not user_ids:
        return {}
    rows = db.session.scalars(
        select(ClientMember)
        .options(joinedload(ClientMember.client))
        .where(ClientMember.user_id.in_(user_ids), client_scope(ClientMember.client_id))
    )
    return {m.user_id: m for m in rows}


def membership(user: User) -> ClientMember | None:
    return memberships([user.id]).get(user.id)
