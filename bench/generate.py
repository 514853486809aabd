"""A large agency for the benchmarks, reproducible from a seed.

    python -m bench.generate [--seed 2026] [--database-url URL] [--regenerate]

(Re)creates the database (default: relais_bench on 127.0.0.1), migrates it
(`flask_migrate.upgrade()`), and fills it with bulk inserts (Core
executemany, COPY for the time entries): 200 clients with one or two contact
users each, 50 CMs, one lead, 200 running contracts (the three billing models,
some with a second version of their terms), one to three CMs per client (the
competitor wall respected, or overridden with a recorded reason), twelve
months of time entries (one to two hours a day per contract on working days,
about 150 000 entries, with the rates of their day), the past months closed,
the current month's budget alerts already sent, and the audit log lines that
go with all of it. What it made is kept as a comment on the database
(`read_meta`), which bench/run reads to decide whether to make it again.

Every account's password is PASSWORD (one argon2 hash, computed once).
The same seed on the same day gives the same agency: the twelve months end
today, so the current month is being logged, as on a real agency's dashboard.

Each kind of row has its own step, a function of the Context. AGENCY_STEPS
run once; CLIENT_STEPS run for each batch of new clients (`grow`), which is
also how tests/test_query_counts.py builds its agencies of 10 and 100 clients.
Issue 4 (reports) and issue 5 (invoices) add their steps to CLIENT_STEPS,
after month_locks: a closed month then has its report and its invoice.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from datetime import date

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from app.timesheets.calendar import add_months, month_start
from bench.agency import activities, agency_settings, assignments, client_users, clients, contracts, team
from bench.context import LEAD_EMAIL, PASSWORD, Context, Plan, client_email, cm_email
from bench.timesheet import month_locks, sent_budget_alerts, time_entries

__all__ = ["LEAD_EMAIL", "PASSWORD", "Plan", "client_email", "cm_email", "fill", "grow", "new_context"]

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/relais_bench"
# Bumped when the generator makes different data: bench/run regenerates.
VERSION = 5  # 3: capital and RCS (invoices); 4: row-level security, the app's role; 5: accounts under it too


Step = Callable[[Context], None]
AGENCY_STEPS: tuple[Step, ...] = (agency_settings, activities, team)
# Issue 4 adds `reports` and issue 5 `invoices` here, after month_locks.
CLIENT_STEPS: tuple[Step, ...] = (clients, client_users, contracts, assignments, time_entries, month_locks)


def new_context(conn: Connection, plan: Plan, password_hash: str | None = None) -> Context:
    from app.auth.services import hash_password

    return Context(
        conn=conn,
        plan=plan,
        rnd=random.Random(plan.seed),
        password_hash=password_hash or hash_password(PASSWORD),
        start=add_months(month_start(plan.today), -(plan.months - 1)),
    )


def fill(ctx: Context, report: Callable[[str, float], None] | None = None) -> Context:
    """The agency, then its clients."""
    for step in AGENCY_STEPS:
        _run(step, ctx, report)
    return grow(ctx, ctx.plan.clients, report)


def grow(ctx: Context, count: int, report: Callable[[str, float], None] | None = None) -> Context:
    """`count` more clients, with everything that hangs on them."""
    ctx.wanted, ctx.batch, ctx.contracts = count, [], []
    for step in CLIENT_STEPS:
        _run(step, ctx, report)
    return ctx


def _run(step: Step, ctx: Context, report: Callable[[str, float], None] | None) -> None:
    started = time.perf_counter()
    step(ctx)
    if report is not None:
        report(step.__name__, time.perf_counter() - started)


# -- the database -----------------------------------------------------------------------------


def sqlalchemy_url(url: str) -> str:
    from app import normalise_database_url

    return normalise_database_url(url)


def database_exists(url: str) -> bool:
    target = make_url(sqlalchemy_url(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database})
    finally:
        admin.dispose()
    return found is not None


def recreate_database(url: str) -> None:
    target = make_url(sqlalchemy_url(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def bench_app(url: str):
    """The app on `url`, for the steps that go through it (no Redis, no mail)."""
    from app import create_app
    from app.config import Config

    return create_app(Config, {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "REDIS_URL": None})


def migrate(url: str) -> None:
    """`flask db upgrade` against `url`."""
    from flask_migrate import upgrade

    from app.extensions import db

    with bench_app(url).app_context():
        upgrade()
        db.engine.dispose()


def grant_app_role(url: str) -> None:
    """Relais connects as rls.APP_ROLE, held to row-level security, as in
    production; the generator, the migrations and the bare app as the owner."""
    from app.rls import APP_ROLE
    from app.rls import grant_app_role as grant

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            grant(conn, APP_ROLE)
    finally:
        engine.dispose()


def app_url(url: str) -> str:
    """`url` (the owner's) as the app's role: what Relais connects with."""
    from app.rls import as_role

    return as_role(sqlalchemy_url(url))


def app_settings(url: str) -> dict[str, str]:
    """The app's database settings for the benchmark database at `url`."""
    return {"SQLALCHEMY_DATABASE_URI": app_url(url), "DATABASE_OWNER_URL": sqlalchemy_url(url)}


def record_sent_alerts(url: str, day: date) -> tuple[int, int]:
    """The current month's budget alerts already sent (see
    bench.timesheet.sent_budget_alerts): how many, and the last id, so that
    the benchmarks can delete those their own entries raise."""
    from sqlalchemy import func, select

    from app import access
    from app.extensions import db
    from app.timesheets.models import BudgetAlert

    with bench_app(url).app_context():
        access.set_scope(access.system_scope("bench"))
        count = sent_budget_alerts(day)
        db.session.commit()
        last = db.session.scalar(select(func.coalesce(func.max(BudgetAlert.id), 0)))
        db.engine.dispose()
    return count, last


def read_meta(url: str) -> dict | None:
    """What the generator wrote about the data it made (a database comment)."""
    if not database_exists(url):
        return None
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            comment = conn.scalar(
                text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
                    " WHERE datname = current_database()"
                )
            )
    finally:
        engine.dispose()
    try:
        return json.loads(comment) if comment else None
    except ValueError:
        return None


def is_current(meta: dict | None, seed: int, day: date) -> bool:
    """Data of this generator, this seed and this month (the dashboard shows the current one)."""
    return (
        meta is not None
        and meta.get("version") == VERSION
        and meta.get("seed") == seed
        and meta.get("today", "")[:7] == day.isoformat()[:7]
    )


def generate(
    url: str = DEFAULT_URL, plan: Plan | None = None, *, echo: Callable[[str], None] = print
) -> dict:
    """Drop and recreate the database at `url`, migrate it and fill it."""
    plan = plan or Plan()
    started = time.perf_counter()
    recreate_database(url)
    migrate(url)
    grant_app_role(url)
    echo(f"Database {make_url(url).database} created and migrated ({time.perf_counter() - started:.1f} s).")
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            ctx = new_context(conn, plan)
            fill(ctx, lambda name, seconds: echo(f"  {name:<16} {seconds:6.2f} s"))
        step = time.perf_counter()
        ctx.made["budget alerts sent"], last_alert = record_sent_alerts(url, plan.today)
        echo(f"  {'budget_alerts':<16} {time.perf_counter() - step:6.2f} s")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # The entries' trigger moved each client's stamp once per row: the
            # 200 rows left thousands of dead versions behind, which a day of
            # real use never would. Compact them, then analyse everything.
            conn.execute(text("VACUUM FULL budget_stamp"))
            conn.execute(text("VACUUM ANALYZE"))
            meta = {
                "version": VERSION,
                "seed": plan.seed,
                "today": plan.today.isoformat(),
                "made": dict(ctx.made),
                "last_budget_alert": last_alert,
            }
            quoted = json.dumps(meta).replace("'", "''")
            conn.execute(text(f"COMMENT ON DATABASE \"{make_url(url).database}\" IS '{quoted}'"))
    finally:
        engine.dispose()
    echo(f"Made, with seed {plan.seed}, up to {plan.today:%d/%m/%Y}:")
    for kind, count in ctx.made.items():
        echo(f"  {count:>8} {kind}")
    echo(f"in {time.perf_counter() - started:.1f} s. Every account's password: {PASSWORD}")
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=Plan.seed)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--regenerate", action="store_true", help="drop the database first if it is filled")
    args = parser.parse_args(argv)
    meta = read_meta(args.database_url)
    if meta is not None and not args.regenerate:
        print(
            f"{make_url(args.database_url).database} is already filled ({meta}); --regenerate to start again."
        )
        return 1
    generate(args.database_url, Plan(seed=args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
