"""Reading the audit log: filters from the query string, the page's query,
and the choices of the filter form. A fixed number of queries per page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from app.access import visible_clients
from app.audit.labels import action_label
from app.audit.models import AuditEntry
from app.auth.models import User
from app.clients.models import Client
from app.extensions import db
from app.fields import parse_id
from app.timeutil import PARIS

SYSTEM = "system"  # the actor filter's value for entries without a user


def _int(value: str | None) -> int | None:
    return parse_id(value)  # None for text, and for a number beyond the id column (a 500 otherwise)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


@dataclass
class AuditFilters:
    client_id: int | None = None
    actor: str = ""  # "", SYSTEM or a user id
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    errors: list[Any] = field(default_factory=list)

    @classmethod
    def from_args(cls, args: Any) -> AuditFilters:
        filters = cls(
            client_id=_int(args.get("client")),
            actor=(args.get("actor") or "").strip(),
            action=(args.get("action") or "").strip()[:60],
            date_from=_day(args.get("from")),
            date_to=_day(args.get("to")),
        )
        if filters.actor not in ("", SYSTEM) and _int(filters.actor) is None:
            filters.actor = ""
        for key in ("from", "to"):
            if (args.get(key) or "").strip() and _day(args.get(key)) is None:
                filters.errors.append(_l("Date invalide : utilisez le format JJ/MM/AAAA."))
                break
        if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
            filters.errors.append(
                _l("La date de début est postérieure à la date de fin : rien ne peut correspondre.")
            )
        return filters

    @property
    def active(self) -> bool:
        return bool(self.client_id or self.actor or self.action or self.date_from or self.date_to)


def _start_of(day: date) -> datetime:
    """Midnight in Paris (the agency's day, not the server's), in UTC: the
    way timestamps are stored, SQLite included (it keeps no time zone)."""
    return datetime.combine(day, time.min, tzinfo=PARIS).astimezone(UTC)


def entries(filters: AuditFilters) -> Select[tuple[AuditEntry]]:
    """Newest first, with their actor loaded in the same query."""
    stmt = select(AuditEntry).options(joinedload(AuditEntry.actor))
    if filters.client_id is not None:
        stmt = stmt.where(AuditEntry.client_id == filters.client_id)
    if filters.actor == SYSTEM:
        stmt = stmt.where(AuditEntry.actor_id.is_(None))
    elif filters.actor:
        stmt = stmt.where(AuditEntry.actor_id == int(filters.actor))
    if filters.action:
        stmt = stmt.where(AuditEntry.action == filters.action)
    if filters.date_from:
        stmt = stmt.where(AuditEntry.at >= _start_of(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(AuditEntry.at < _start_of(filters.date_to + timedelta(days=1)))
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def client_names(client_ids: set[int]) -> dict[int, str]:
    """Names of the clients of one page (through access, like every client query)."""
    if not client_ids:
        return {}
    rows = db.session.execute(
        visible_clients().with_only_columns(Client.id, Client.name).where(Client.id.in_(client_ids))
    )
    return {client_id: name for client_id, name in rows}


@dataclass
class FilterChoices:
    clients: list[tuple[int, str, bool]]  # id, name, archived
    actors: list[tuple[int, str]]
    actions: list[tuple[str, str]]


def filter_choices() -> FilterChoices:
    clients = db.session.execute(
        visible_clients()
        .with_only_columns(Client.id, Client.name, Client.archived_at.is_not(None))
        .order_by(Client.name, Client.id)
    ).all()
    actors = db.session.execute(
        select(User.id, User.name)
        .where(User.id.in_(select(AuditEntry.actor_id).where(AuditEntry.actor_id.is_not(None)).distinct()))
        .order_by(User.name, User.id)
    ).all()
    actions = db.session.scalars(select(AuditEntry.action).distinct()).all()
    labelled = sorted(
        ((action, action_label(action)) for action in actions), key=lambda item: item[1].lower()
    )
    return FilterChoices(
        clients=[(row[0], row[1], bool(row[2])) for row in clients],
        actors=[(row[0], row[1]) for row in actors],
        actions=labelled,
    )
