"""Read side of time entries: the day, the week grid, the lead's filtered list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from app.access import client_scope
from app.auth.models import User
from app.clients.models import Client
from app.contracts.models import Contract
from app.extensions import db
from app.timesheets.models import Activity, TimeEntry


def day_entries(cm: User, day: date) -> list[TimeEntry]:
    stmt = (
        select(TimeEntry)
        .where(TimeEntry.cm_id == cm.id, TimeEntry.day == day, client_scope(TimeEntry.client_id, cm))
        .options(joinedload(TimeEntry.contract).joinedload(Contract.client), joinedload(TimeEntry.activity))
        .order_by(TimeEntry.id)
    )
    return list(db.session.scalars(stmt))


def week_entries(cm: User, start: date) -> dict[tuple[int, date], list[TimeEntry]]:
    stmt = select(TimeEntry).where(
        TimeEntry.cm_id == cm.id,
        TimeEntry.day.between(start, start + timedelta(days=6)),
        client_scope(TimeEntry.client_id, cm),
    )
    cells: dict[tuple[int, date], list[TimeEntry]] = {}
    for entry in db.session.scalars(stmt):
        cells.setdefault((entry.contract_id, entry.day), []).append(entry)
    return cells


def week_contracts(cm: User, start: date) -> list[Contract]:
    """Contracts of the clients `cm` may see, running during the week."""
    end = start + timedelta(days=6)
    stmt = (
        select(Contract)
        .join(Client)
        .where(
            client_scope(Contract.client_id, cm),
            Client.archived_at.is_(None),
            Contract.start_date <= end,
            (Contract.end_date.is_(None)) | (Contract.end_date >= start),
        )
        .options(joinedload(Contract.client))
        .order_by(Client.name, Contract.title)
    )
    return list(db.session.scalars(stmt))


@dataclass
class ClientMonth:
    client: Client
    minutes: int


def my_month_by_client(cm: User, first: date, last: date) -> list[ClientMonth]:
    """The hours `cm` logged per client between two dates."""
    rows = db.session.execute(
        select(Client, func.sum(TimeEntry.minutes))
        .join(TimeEntry, TimeEntry.client_id == Client.id)
        .where(TimeEntry.cm_id == cm.id, TimeEntry.day.between(first, last), client_scope(Client.id, cm))
        .group_by(Client.id)
        .order_by(Client.name)
    ).all()
    return [ClientMonth(client, int(minutes or 0)) for client, minutes in rows]


def filtered_entries(filters: dict[str, Any], user: User | None = None) -> Select[tuple[TimeEntry]]:
    """The lead's list: every filter optional; always scoped by access."""
    stmt = select(TimeEntry).where(client_scope(TimeEntry.client_id, user))
    if filters.get("client"):
        stmt = stmt.where(TimeEntry.client_id == filters["client"])
    if filters.get("contract"):
        stmt = stmt.where(TimeEntry.contract_id == filters["contract"])
    if filters.get("cm"):
        stmt = stmt.where(TimeEntry.cm_id == filters["cm"])
    if filters.get("activity"):
        stmt = stmt.where(TimeEntry.activity_id == filters["activity"])
    if filters.get("channel"):
        stmt = stmt.where(TimeEntry.channel == filters["channel"])
    if filters.get("start"):
        stmt = stmt.where(TimeEntry.day >= filters["start"])
    if filters.get("end"):
        stmt = stmt.where(TimeEntry.day <= filters["end"])
    return stmt


def totals(stmt: Select[tuple[TimeEntry]]) -> tuple[int, int]:
    """(number of entries, minutes) of a filtered list."""
    sub = stmt.subquery()
    count, minutes = db.session.execute(select(func.count(), func.coalesce(func.sum(sub.c.minutes), 0))).one()
    return int(count), int(minutes)


def with_details(stmt: Select[tuple[TimeEntry]]) -> Select[tuple[TimeEntry]]:
    return stmt.options(
        joinedload(TimeEntry.client),
        joinedload(TimeEntry.contract),
        joinedload(TimeEntry.cm),
        joinedload(TimeEntry.activity),
    ).order_by(TimeEntry.day.desc(), TimeEntry.id.desc())


def activities_by_id() -> dict[int, Activity]:
    return {a.id: a for a in db.session.scalars(select(Activity))}


@dataclass
class ClientHours:
    """A CM's own hours at a client this month, and the client's contracts'
    use of their included hours (all CMs together; hours only, no money)."""

    mine: int
    budgets: list[Any]


def month_hours_for_cm(cm: User, client_ids: list[int], month: date | None = None) -> dict[int, ClientHours]:
    from app.contracts.budget import active_contracts_query, month_budgets
    from app.timesheets.calendar import month_end, month_start
    from app.timeutil import today

    month = month_start(month or today())
    if not client_ids:
        return {}
    mine = dict(
        db.session.execute(
            select(TimeEntry.client_id, func.sum(TimeEntry.minutes))
            .where(
                TimeEntry.cm_id == cm.id,
                TimeEntry.client_id.in_(client_ids),
                TimeEntry.day.between(month, month_end(month)),
                client_scope(TimeEntry.client_id, cm),
            )
            .group_by(TimeEntry.client_id)
        ).all()
    )
    contracts = list(
        db.session.scalars(
            active_contracts_query(month).where(
                Contract.client_id.in_(client_ids), client_scope(Contract.client_id, cm)
            )
        )
    )
    result = {client_id: ClientHours(int(mine.get(client_id) or 0), []) for client_id in client_ids}
    for budget in month_budgets(contracts, month, costs=False):  # hours only
        result[budget.contract.client_id].budgets.append(budget)
    return result
