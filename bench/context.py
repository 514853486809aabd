"""What the generator's steps share: the plan of the agency, the context
they write through, and three helpers (bulk insert, timestamps, audit log)."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock
from decimal import Decimal

from sqlalchemy import Connection, insert

from app.audit.models import AuditEntry
from app.timeutil import today as agency_today

PASSWORD = "bench-relais-2026"  # noqa: S105 (a benchmark account, documented)
LEAD_EMAIL = "lead@agence-bench.example"


def cm_email(n: int) -> str:
    return f"cm{n:02d}@agence-bench.example"


def client_email(client_id: int, n: int = 1) -> str:
    return f"contact{n}.client{client_id}@clients-bench.example"


@dataclass
class Plan:
    seed: int = 2026
    clients: int = 200
    cms: int = 50
    months: int = 12  # of time entries, the current one included
    today: date = field(default_factory=agency_today)
    # A CM logs at most this much a day (the app's own limit is 24 h).
    cm_day_limit: int = 10 * 60


@dataclass
class ContractRow:
    id: int
    client_id: int
    start: date
    channels: list[str]
    terms: list[tuple[date, Decimal | None]]  # (effective_from, hourly_rate), in order

    def hourly_rate_on(self, day: date) -> Decimal | None:
        rate = None
        for effective_from, hourly_rate in self.terms:
            if effective_from <= day:
                rate = hourly_rate
        return rate


@dataclass
class Context:
    """Where the steps write, what they made, and what later steps need."""

    conn: Connection
    plan: Plan
    rnd: random.Random
    password_hash: str
    start: date  # first day of the oldest month of entries
    lead_id: int = 0
    cm_ids: list[int] = field(default_factory=list)
    cm_names: dict[int, str] = field(default_factory=dict)
    cm_cost: dict[int, Decimal] = field(default_factory=dict)
    activities: dict[str, int] = field(default_factory=dict)
    groups: dict[tuple[str, str], int] = field(default_factory=dict)
    used_names: set[str] = field(default_factory=set)
    # The batch of clients the client steps work on: how many, then dicts
    # with their id, name and competitor group.
    wanted: int = 0
    batch: list[dict] = field(default_factory=list)
    contracts: list[ContractRow] = field(default_factory=list)  # of the batch
    serving: dict[int, list[int]] = field(default_factory=dict)  # client id -> CM ids
    cm_groups: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    cm_load: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    cm_day: dict[tuple[int, date], int] = field(default_factory=lambda: defaultdict(int))
    made: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def insert_rows(ctx: Context, model, rows: list[dict]) -> list[int]:
    """Bulk insert (executemany); the new ids, in the order of `rows`."""
    if not rows:
        return []
    table = model.__table__
    result = ctx.conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [row[0] for row in result]


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, clock(hour), tzinfo=UTC)


def audit(ctx: Context, rows: list[dict]) -> None:
    for row in rows:
        row.setdefault("actor_id", ctx.lead_id)
        row.setdefault("reason", None)
        row.setdefault("data", None)
    insert_rows(ctx, AuditEntry, rows)
    ctx.made["audit entries"] += len(rows)
