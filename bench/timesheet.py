"""The generator's steps for time: twelve months of entries (COPY), and the
past months closed."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, insert, text

from app.timesheets.calendar import add_months, is_working_day, month_start
from app.timesheets.demo import NOTES, WEIGHTS
from app.timesheets.models import MonthLock, TimeEntry
from bench.context import Context, ContractRow, at, audit, insert_rows

ENTRY_COLUMNS = (
    "client_id",
    "contract_id",
    "cm_id",
    "day",
    "minutes",
    "activity_id",
    "channel",
    "note",
    "hourly_rate",
    "cost_rate",
    "created_at",
)
QUIET_ACTIVITIES = {"Stratégie", "Reporting", "Relation client"}  # often on no channel


def time_entries(ctx: Context) -> None:
    """Every working day of each contract, from its start to today: one to two
    hours in quarter hours, in two to four entries by the client's CMs."""
    plan = ctx.plan
    labels = [label for label in WEIGHTS if label in ctx.activities]
    weights = [WEIGHTS[label] for label in labels]
    rows: list[tuple] = []
    day = ctx.start
    while day <= plan.today:
        if is_working_day(day):
            for contract in ctx.contracts:
                if contract.start <= day:
                    rows.extend(_day_entries(ctx, contract, day, labels, weights))
        day += timedelta(days=1)
    rows.sort(key=lambda row: (row[3], row[1]))  # ids grow with the days, as in real use
    _copy_entries(ctx.conn, rows)
    ctx.made["time entries"] += len(rows)


def _day_entries(ctx: Context, contract: ContractRow, day: date, labels, weights) -> list[tuple]:
    rnd = ctx.rnd
    total = rnd.choice((60, 75, 90, 105, 120)) // 15
    pieces = rnd.choice((2, 3, 3, 4, 4))
    cuts = sorted(rnd.sample(range(1, total), pieces - 1))
    quarters = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    rate = contract.hourly_rate_on(day)
    rows = []
    for n, quarter_hours in enumerate(quarters):
        minutes = quarter_hours * 15
        cms = [
            cm
            for cm in ctx.serving[contract.client_id]
            if ctx.cm_day[cm, day] + minutes <= ctx.plan.cm_day_limit
        ]
        if not cms:
            continue
        cm = rnd.choice(cms)
        ctx.cm_day[cm, day] += minutes
        label = rnd.choices(labels, weights)[0]
        quiet = label in QUIET_ACTIVITIES and rnd.random() < 0.5
        rows.append(
            (
                contract.client_id,
                contract.id,
                cm,
                day,
                minutes,
                ctx.activities[label],
                None if quiet or not contract.channels else rnd.choice(contract.channels),
                rnd.choice(NOTES.get(label, [""])),
                rate,
                ctx.cm_cost[cm],
                at(day, 8 + 2 * n) + timedelta(minutes=rnd.randrange(60)),
            )
        )
    return rows


def _copy_entries(conn: Connection, rows: list[tuple]) -> None:
    """COPY on PostgreSQL (what makes 150 000 rows take seconds), executemany
    elsewhere and for a role held to row-level security, which COPY refuses
    (the app's own, in tests/test_query_counts.py)."""
    if conn.dialect.name != "postgresql" or conn.scalar(text("SELECT row_security_active('time_entry')")):
        conn.execute(
            insert(TimeEntry.__table__), [dict(zip(ENTRY_COLUMNS, row, strict=True)) for row in rows]
        )
        return
    raw = conn.connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY time_entry ({', '.join(ENTRY_COLUMNS)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def month_locks(ctx: Context) -> None:
    """Every month before the current one is closed, by the lead on the 1st."""
    current = month_start(ctx.plan.today)
    rows = []
    for contract in ctx.contracts:
        month = month_start(contract.start)
        while month < current:
            locked_at = at(add_months(month, 1), 6)
            rows.append(
                {
                    "client_id": contract.client_id,
                    "contract_id": contract.id,
                    "month": month,
                    "locked_at": locked_at,
                    "locked_by_id": ctx.lead_id,
                }
            )
            month = add_months(month, 1)
    insert_rows(ctx, MonthLock, rows)
    ctx.made["month locks"] += len(rows)
    audit(
        ctx,
        [
            {
                "at": row["locked_at"],
                "action": "month.locked",
                "object_type": "contract",
                "object_id": row["contract_id"],
                "client_id": row["client_id"],
                "summary": f"Mois {row['month']:%m/%Y} clôturé",
                "data": {"month": row["month"].isoformat()},
            }
            for row in rows
        ],
    )


def sent_budget_alerts(day: date) -> int:
    """The budget mails of `day`'s month that the app has already sent, for
    the contracts past 80 % or 100 % of their hours or budget: their rows,
    as app.timesheets.alerts leaves them (the mails themselves are not
    written). Inside an app context: the thresholds are the app's own."""
    from app.contracts.budget import active_contracts_query, month_budgets
    from app.extensions import db
    from app.timesheets.alerts import THRESHOLDS
    from app.timesheets.models import BudgetAlert

    month = month_start(day)
    contracts = list(db.session.scalars(active_contracts_query(month)))
    alerts = []
    for budget in month_budgets(contracts, month, today=day):
        peak = max((p for p in (budget.hours_pct, budget.budget_pct) if p is not None), default=None)
        for threshold in THRESHOLDS:
            if peak is not None and peak >= threshold:
                contract = budget.contract
                alerts.append(
                    BudgetAlert(
                        client_id=contract.client_id,
                        contract_id=contract.id,
                        month=month,
                        threshold=threshold,
                    )
                )
    db.session.add_all(alerts)
    db.session.flush()
    return len(alerts)
