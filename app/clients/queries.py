"""Read side of the clients area: what the pages show, in a fixed number of
queries whatever the number of clients (no N+1). Client lists start from
`access.visible_clients()`; a client's own rows are read through it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MultiDict

from app.access import active_assignment_clause, visible_clients
from app.auth.models import User
from app.clients.models import Client, ClientMember, CMAssignment, CompetitorGroup, WallOverride
from app.extensions import db
from app.fields import parse_id
from app.timeutil import today
from app.validators import normalise_digits

STATUSES = ("active", "archived", "all")


def _current_on(day: date) -> ColumnElement[bool]:
    return (CMAssignment.since <= day) & or_(CMAssignment.until.is_(None), CMAssignment.until >= day)


# -- the lead's list ------------------------------------------------------------------


@dataclass
class ClientFilters:
    q: str = ""
    status: str = "active"
    group: str = ""  # "" any, "none" without a group, or a group id

    @classmethod
    def from_args(cls, args: MultiDict) -> ClientFilters:
        status = args.get("status", "active")
        group = args.get("group", "")
        if group not in ("", "none") and parse_id(group) is None:  # text, or beyond the id column
            group = ""
        return cls(
            q=(args.get("q") or "").strip()[:100],
            status=status if status in STATUSES else "active",
            group=group,
        )

    @property
    def active(self) -> bool:
        """Anything narrower than the default list?"""
        return bool(self.q or self.group or self.status != "active")


def client_list(filters: ClientFilters) -> Select[tuple[Client]]:
    stmt = visible_clients().options(joinedload(Client.competitor_group)).order_by(Client.name, Client.id)
    if filters.status == "active":
        stmt = stmt.where(Client.archived_at.is_(None))
    elif filters.status == "archived":
        stmt = stmt.where(Client.archived_at.is_not(None))
    if filters.group == "none":
        stmt = stmt.where(Client.competitor_group_id.is_(None))
    elif filters.group:
        stmt = stmt.where(Client.competitor_group_id == int(filters.group))
    if filters.q:
        matches = [
            Client.name.icontains(filters.q, autoescape=True),
            Client.city.icontains(filters.q, autoescape=True),
        ]
        digits = normalise_digits(filters.q)
        if digits.isdigit():
            matches.append(Client.siren.contains(digits))
        stmt = stmt.where(or_(*matches))
    return stmt


@dataclass
class ListFacts:
    contacts: dict[int, int] = field(default_factory=dict)
    cms: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))


def contacts_count(client_ids: list[int]) -> dict[int, int]:
    """Contacts (client users not deactivated) per client, in one query."""
    if not client_ids:
        return {}
    rows = db.session.execute(
        select(ClientMember.client_id, func.count())
        .join(User, User.id == ClientMember.user_id)
        .where(ClientMember.client_id.in_(client_ids), User.active.is_(True))
        .group_by(ClientMember.client_id)
    )
    return {client_id: n for client_id, n in rows}


def list_facts(client_ids: list[int]) -> ListFacts:
    """Contacts counts and the CMs serving today, for one page of clients."""
    facts = ListFacts(contacts=contacts_count(client_ids))
    if client_ids:
        rows = db.session.execute(
            select(CMAssignment.client_id, User.id, User.name)
            .join(User, User.id == CMAssignment.cm_id)
            .where(CMAssignment.client_id.in_(client_ids), _current_on(today()))
            .distinct()
            .order_by(User.name, User.id)
        )
        for client_id, _cm_id, name in rows:
            facts.cms[client_id].append(name)
    return facts


def all_groups() -> list[CompetitorGroup]:
    return list(db.session.scalars(select(CompetitorGroup).order_by(CompetitorGroup.name)))


# -- a client's page ------------------------------------------------------------------


STATUS_ORDER = {"active": 0, "pending": 1, "deactivated": 2}


def contact_status(user: User) -> str:
    """ "pending" (invited, no password yet), "deactivated" or "active"."""
    if not user.active:
        return "deactivated"
    if user.is_pending:
        return "pending"
    return "active"


def _contacts(client: Client) -> list[ClientMember]:
    """The client's contacts: active ones first, then invited, then deactivated."""
    members = db.session.scalars(
        select(ClientMember)
        .join(User, User.id == ClientMember.user_id)
        .options(joinedload(ClientMember.user))
        .where(ClientMember.client_id == client.id)
        .order_by(User.name)
    )
    return sorted(members, key=lambda m: STATUS_ORDER[contact_status(m.user)])


@dataclass
class LeadPage:
    contacts: list[ClientMember]
    current: list[CMAssignment]  # active today or starting later
    past: list[CMAssignment]
    competitors: list[Client]
    overrides: list[WallOverride]


def lead_page(client: Client) -> LeadPage:
    day = today()
    assignments = list(
        db.session.scalars(
            select(CMAssignment)
            .options(joinedload(CMAssignment.cm))
            .where(CMAssignment.client_id == client.id)
            .order_by(CMAssignment.since.desc(), CMAssignment.id.desc())
        )
    )
    competitors: list[Client] = []
    if client.competitor_group_id is not None:
        competitors = list(
            db.session.scalars(
                visible_clients()
                .where(Client.competitor_group_id == client.competitor_group_id, Client.id != client.id)
                .order_by(Client.name)
            )
        )
    return LeadPage(
        contacts=_contacts(client),
        current=[a for a in assignments if a.until is None or a.until >= day],
        past=[a for a in assignments if a.until is not None and a.until < day],
        competitors=competitors,
        overrides=overrides_concerning(client),
    )


def overrides_concerning(client: Client) -> list[WallOverride]:
    """Wall overrides on either side: an assignment to this client that
    crosses the wall, or one to a competitor that names this client."""
    return list(
        db.session.scalars(
            select(WallOverride)
            .join(CMAssignment, CMAssignment.id == WallOverride.assignment_id)
            .where(or_(CMAssignment.client_id == client.id, WallOverride.competitor_client_id == client.id))
            .options(
                joinedload(WallOverride.assignment).joinedload(CMAssignment.cm),
                joinedload(WallOverride.assignment).joinedload(CMAssignment.client),
                joinedload(WallOverride.competitor_client),
                joinedload(WallOverride.created_by),
            )
            .order_by(WallOverride.created_at.desc(), WallOverride.id.desc())
        )
    )


@dataclass
class CMPage:
    contacts: list[ClientMember]
    team: list[User]


def cm_page(client: Client) -> CMPage:
    """What a CM serving the client may read: its contacts and the CMs serving it."""
    team = db.session.scalars(
        select(User)
        .join(CMAssignment, CMAssignment.cm_id == User.id)
        .where(CMAssignment.client_id == client.id, _current_on(today()), User.active.is_(True))
        .distinct()
        .order_by(User.name)
    )
    return CMPage(contacts=[m for m in _contacts(client) if m.user.active], team=list(team))


# -- the CM's clients -------------------------------------------------------------------


def my_clients() -> Select[tuple[Client]]:
    return visible_clients().order_by(Client.name, Client.id)


@dataclass
class MyClientFacts:
    contacts: dict[int, int]
    since: dict[int, date]


def my_client_facts(cm: User, client_ids: list[int]) -> MyClientFacts:
    since: dict[int, date] = {}
    if client_ids:
        rows = db.session.execute(
            select(CMAssignment.client_id, func.min(CMAssignment.since))
            .where(active_assignment_clause(cm.id), CMAssignment.client_id.in_(client_ids))
            .group_by(CMAssignment.client_id)
        )
        since = {client_id: day for client_id, day in rows}
    return MyClientFacts(contacts=contacts_count(client_ids), since=since)


# -- competitor groups ----------------------------------------------------------------------


def group_list() -> Select[tuple[CompetitorGroup]]:
    return (
        select(CompetitorGroup)
        .options(selectinload(CompetitorGroup.clients))
        .order_by(CompetitorGroup.name, CompetitorGroup.id)
    )


def group_members(group: CompetitorGroup) -> list[Client]:
    return list(
        db.session.scalars(
            visible_clients().where(Client.competitor_group_id == group.id).order_by(Client.name)
        )
    )


def client_contacts(client_id: int) -> list[User]:
    """The client's people who can log in (active, password set): whom its
    mails go to (a report published, an invoice available, a reminder)."""
    return list(
        db.session.scalars(
            select(User)
            .join(ClientMember, ClientMember.user_id == User.id)
            .where(
                ClientMember.client_id == client_id,
                User.active.is_(True),
                User.password_hash.is_not(None),
            )
            .order_by(User.id)
        )
    )
