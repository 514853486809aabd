"""A contract's month in figures: hours used against included hours, amount
billable against the budget ceiling, forecast at the current pace, margin.

`month_budgets()` computes them for many contracts with a fixed number of
aggregate queries, so the lead's dashboard does not grow with the data.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property, lru_cache
from itertools import accumulate

from sqlalchemy import ColumnElement, Select, func, inspect, select
from sqlalchemy.orm import contains_eager, selectinload, subqueryload
from sqlalchemy.orm.attributes import set_committed_value

from app.contracts.models import BillingModel, Contract, ContractTerms
from app.contracts.services import terms_for_month
from app.extensions import db
from app.money import ZERO, billed_amount, minutes_amount, percent, prorate, prorate_minutes, to_cents
from app.timesheets.calendar import month_end, month_start, working_days
from app.timesheets.models import TimeEntry
from app.timeutil import today as agency_today

WARN_PCT = Decimal(80)
FULL_PCT = Decimal(100)


@lru_cache(maxsize=64)
def _spark_xs(days: int, width: int) -> tuple[str, ...]:
    """A sparkline's x coordinates, one a day: the same for every contract."""
    return tuple(f"{(i + 1) / days * width:.1f}" for i in range(days))


# The working days between two dates never change (weekends and public
# holidays): a dashboard asks for the same few spans for every contract.
_working_days = lru_cache(maxsize=1024)(working_days)


@dataclass(frozen=True)
class Sparkline:
    pace_y: float  # where the even-pace line ends
    points: str  # "x,y x,y ..." of the cumulative minutes


@dataclass
class MonthBudget:
    contract: Contract
    month: date
    terms: ContractTerms | None
    active_first: date | None
    active_last: date | None
    days_in_month: int
    active_days: int
    used_minutes: int = 0
    cost: Decimal | None = ZERO  # None: not computed (month_budgets(costs=False))
    cost_missing: bool = False
    included_minutes: int | None = None
    fee: Decimal = ZERO
    ceiling: Decimal = ZERO
    billable: Decimal = ZERO
    overage_minutes: int = 0
    overage_amount: Decimal = ZERO
    forecast_minutes: int = 0
    forecast_billable: Decimal = ZERO
    working_days_total: int = 0
    working_days_elapsed: int = 0
    daily_minutes: dict[date, int] = field(default_factory=dict)

    # -- derived ----------------------------------------------------------
    @property
    def hours_pct(self) -> Decimal | None:
        return percent(self.used_minutes, self.included_minutes or 0)

    @property
    def budget_pct(self) -> Decimal | None:
        """Billable against the ceiling, where the amount follows the hours
        (hourly, or a retainer past its included hours); a plain retainer's
        amount is fixed, its use is measured in hours."""
        if self.terms is None:
            return None
        model = self.terms.billing_model
        if model == BillingModel.HOURLY or (model == BillingModel.RETAINER_OVERAGE and self.overage_minutes):
            return percent(self.billable, self.ceiling)
        return None

    @property
    def forecast_pct(self) -> Decimal | None:
        if self.included_minutes:
            return percent(self.forecast_minutes, self.included_minutes)
        if self.terms is not None and self.terms.billing_model == BillingModel.HOURLY:
            return percent(self.forecast_billable, self.ceiling)
        return None

    @property
    def expected_pct(self) -> Decimal | None:
        """Where the month should be at an even pace (working days elapsed)."""
        return percent(self.working_days_elapsed, self.working_days_total)

    @property
    def use_pct(self) -> Decimal | None:
        """The measure of use: hours where hours are included, else money."""
        return self.hours_pct if self.included_minutes else self.budget_pct

    @property
    def ceiling_pct(self) -> Decimal | None:
        """Billable against the ceiling, whatever the model (shown, not judged)."""
        return percent(self.billable, self.ceiling)

    @property
    def remaining_minutes(self) -> int | None:
        if self.included_minutes is None:
            return None
        return max(self.included_minutes - self.used_minutes, 0)

    @property
    def margin(self) -> Decimal:
        if self.cost is None:
            raise ValueError("budget computed without its costs")
        return self.billable - self.cost

    @cached_property
    def status(self) -> str:
        """ "over" (100 % reached), "warn" (80 % reached or forecast past 100 %),
        "under" (well behind an even pace), or "ok". Read several times per
        row of a table, and only once the figures are complete (month_budgets
        returns them so): computed once."""
        use = self.use_pct
        budget = self.budget_pct
        peak = max((p for p in (use, budget) if p is not None), default=None)
        if peak is not None and peak >= FULL_PCT:
            return "over"
        forecast = self.forecast_pct
        if (peak is not None and peak >= WARN_PCT) or (forecast is not None and forecast > FULL_PCT):
            return "warn"
        expected = self.expected_pct
        if (
            use is not None
            and expected is not None
            and expected >= Decimal(40)
            and use < expected * Decimal("0.6")
        ):
            return "under"
        return "ok"

    @property
    def risk(self) -> Decimal:
        """Sort key: the further from an even pace, either way, the higher."""
        use = self.use_pct or ZERO
        budget = self.budget_pct or ZERO
        status = self.status
        if status in ("over", "warn"):
            return Decimal(1000) + max(use, budget, self.forecast_pct or ZERO)
        if status == "under":
            return Decimal(500) + (self.expected_pct or ZERO) - use
        return use

    def sparkline(self, width: int, height: int) -> Sparkline:
        """The month sparkline's coordinates: the even pace to the included
        hours, and the cumulative minutes day by day. Computed here rather
        than in the template, where a dashboard of 200 contracts spent most of
        its time formatting them."""
        target = self.included_minutes or self.forecast_minutes or 1
        top = max(target, self.forecast_minutes, self.used_minutes, 1)
        xs = _spark_xs(self.days_in_month, width)
        points = "".join(
            f"{x},{height - 1 - (total / top) * (height - 2):.1f} "
            for x, total in zip(xs, self._running_totals(), strict=False)
        )
        return Sparkline(pace_y=height - 1 - (target / top) * (height - 2), points=points)

    def _running_totals(self) -> list[int]:
        """Minutes so far at the end of each day of the month, up to today."""
        days = (min(month_end(self.month), agency_today()) - self.month).days + 1
        if days <= 0:
            return []
        per_day = [0] * days
        for day, minutes in self.daily_minutes.items():
            index = (day - self.month).days
            if 0 <= index < days:
                per_day[index] += minutes
        return list(accumulate(per_day))

    def cumulative(self) -> list[tuple[date, int]]:
        """(day, minutes so far) for every day of the month up to today."""
        return [(self.month + timedelta(days=i), total) for i, total in enumerate(self._running_totals())]


def _frame(contract: Contract, month: date, today: date) -> MonthBudget:
    first, last = month_start(month), month_end(month)
    active_first = max(first, contract.start_date)
    active_last = min(last, contract.end_date) if contract.end_date else last
    active = active_first <= active_last
    terms = terms_for_month(contract, month) if active else None
    budget = MonthBudget(
        contract=contract,
        month=first,
        terms=terms,
        active_first=active_first if active else None,
        active_last=active_last if active else None,
        days_in_month=(last - first).days + 1,
        active_days=(active_last - active_first).days + 1 if active else 0,
    )
    if active:
        budget.working_days_total = _working_days(active_first, active_last)
        if today >= active_first:
            budget.working_days_elapsed = _working_days(active_first, min(today, active_last))
    return budget


def _money(budget: MonthBudget, today: date) -> None:
    terms = budget.terms
    if terms is None:
        return
    n, d = budget.active_days, budget.days_in_month
    budget.ceiling = prorate(terms.budget_ceiling, n, d)
    if terms.billing_model in (BillingModel.RETAINER, BillingModel.RETAINER_OVERAGE):
        budget.fee = prorate(terms.monthly_fee or ZERO, n, d)
        budget.included_minutes = prorate_minutes(terms.included_minutes or 0, n, d)
    budget.billable, budget.overage_minutes, budget.overage_amount = billable_for(
        terms, budget.used_minutes, budget.fee, budget.included_minutes
    )
    # Forecast at the current pace over the month's working days.
    elapsed, total = budget.working_days_elapsed, budget.working_days_total
    if budget.active_last is not None and today > budget.active_last:
        budget.forecast_minutes = budget.used_minutes
    elif elapsed > 0:
        budget.forecast_minutes = round(budget.used_minutes * total / elapsed)
    else:
        budget.forecast_minutes = budget.used_minutes
    budget.forecast_billable = billable_for(
        terms, budget.forecast_minutes, budget.fee, budget.included_minutes
    )[0]


def billable_for(
    terms: ContractTerms, used_minutes: int, fee: Decimal, included_minutes: int | None
) -> tuple[Decimal, int, Decimal]:
    """(amount billable HT, overage minutes, overage amount) for a month."""
    if terms.billing_model == BillingModel.HOURLY:
        return billed_amount(used_minutes, terms.hourly_rate or ZERO), 0, ZERO
    overage = max(used_minutes - (included_minutes or 0), 0)
    if terms.billing_model == BillingModel.RETAINER_OVERAGE:
        amount = billed_amount(overage, terms.hourly_rate or ZERO)
        return to_cents(fee + amount), overage, amount
    return fee, overage, ZERO  # plain retainer: overage reported, not billed


def month_budgets(
    contracts: list[Contract],
    month: date,
    *,
    today: date | None = None,
    daily: bool = False,
    costs: bool = True,
    among: Select | None = None,
) -> list[MonthBudget]:
    """Budgets of `contracts` for `month`, from one aggregate query of their
    time entries: by day too with `daily` (the sparklines), by cost rate only
    with `costs` (the agency's cost and margin; pages that show neither, such
    as the dashboard and the day view, leave `cost` None). `among`, a select
    of the contracts' ids, picks the entries by the condition the contracts
    came from rather than by a list of every id (for a whole agency, a long
    list costs more to send and plan than the sums themselves)."""
    today = today or agency_today()
    first, last = month_start(month), month_end(month)
    _load_terms(contracts)
    budgets = [_frame(contract, first, today) for contract in contracts]
    if not contracts:
        return budgets
    ids = [c.id for c in contracts]
    which: ColumnElement[bool] = TimeEntry.contract_id.in_(among if among is not None else ids)
    keys = [TimeEntry.cost_rate] if costs else []
    keys += [TimeEntry.day] if daily else []
    # Plain rows through the session's connection (flushed first, as the
    # session's own execute would): the ORM's result machinery adds nothing
    # to sums and doubles the cost of a few thousand rows.
    if db.session.autoflush:
        db.session.flush()
    rows = (
        db.session.connection()
        .execute(
            select(TimeEntry.contract_id, func.sum(TimeEntry.minutes), *keys)
            .where(which, TimeEntry.day.between(first, last))
            .group_by(TimeEntry.contract_id, *keys)
        )
        .all()
    )
    by_rate: dict[int, dict[Decimal | None, int]] = defaultdict(lambda: defaultdict(int))
    per_day: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for contract_id, minutes, *key in rows:
        minutes = int(minutes or 0)
        by_rate[contract_id][key[0] if costs else None] += minutes
        if daily:
            per_day[contract_id][key[-1]] += minutes
    for budget in budgets:
        contract_id = budget.contract.id
        budget.daily_minutes = dict(per_day[contract_id]) if contract_id in per_day else {}
        groups = list(by_rate[contract_id].items()) if contract_id in by_rate else []
        _fill(budget, groups, today, costs=costs)
    return budgets


def _fill(
    budget: MonthBudget, groups: list[tuple[Decimal | None, int]], today: date, *, costs: bool = True
) -> None:
    """Time and money of a month from its (cost rate, minutes) groups."""
    budget.used_minutes = sum(minutes for _, minutes in groups)
    if costs:
        budget.cost = sum(
            (minutes_amount(minutes, Decimal(rate)) for rate, minutes in groups if rate is not None), ZERO
        )
        budget.cost_missing = any(rate is None for rate, _ in groups)
    else:
        budget.cost = None
    _money(budget, today)


def contract_months(
    contract: Contract, first: date, last: date, *, today: date | None = None
) -> list[MonthBudget]:
    """Budgets of one contract for each month from `first` to `last` (a
    year's billing view): the same figures as `month_budgets`, with one
    aggregate query for all the months instead of one per month."""
    today = today or agency_today()
    months: list[date] = []
    month = month_start(first)
    while month <= month_start(last):
        months.append(month)
        month = month_start(month_end(month) + timedelta(days=1))
    if not months:
        return []
    _load_terms([contract])
    rows = db.session.execute(
        select(
            func.extract("year", TimeEntry.day),
            func.extract("month", TimeEntry.day),
            TimeEntry.cost_rate,
            func.sum(TimeEntry.minutes),
        )
        .where(TimeEntry.contract_id == contract.id, TimeEntry.day.between(months[0], month_end(months[-1])))
        .group_by(
            func.extract("year", TimeEntry.day), func.extract("month", TimeEntry.day), TimeEntry.cost_rate
        )
    ).all()
    by_month: dict[date, list[tuple[Decimal | None, int]]] = defaultdict(list)
    for year, month_number, cost_rate, minutes in rows:
        by_month[date(int(year), int(month_number), 1)].append((cost_rate, int(minutes or 0)))
    budgets = []
    for month in months:
        budget = _frame(contract, month, today)
        _fill(budget, by_month.get(month, []), today)
        budgets.append(budget)
    return budgets


def _load_terms(contracts: list[Contract]) -> None:
    """The terms of every contract that has not loaded them yet, in one query
    (instead of one lazy load per contract)."""
    missing = {c.id: c for c in contracts if inspect(c).persistent and "terms" in inspect(c).unloaded}
    if not missing:
        return
    loaded: dict[int, list[ContractTerms]] = {contract_id: [] for contract_id in missing}
    rows = db.session.scalars(
        select(ContractTerms)
        .where(ContractTerms.contract_id.in_(list(missing)))
        .order_by(ContractTerms.contract_id, ContractTerms.effective_from)
    )
    for terms in rows:
        loaded[terms.contract_id].append(terms)
    for contract_id, terms in loaded.items():
        set_committed_value(missing[contract_id], "terms", terms)


def _running_in(month: date):
    """A condition on Contract: running at some point in `month`."""
    first, last = month_start(month), month_end(month)
    return (Contract.start_date <= last) & ((Contract.end_date.is_(None)) | (Contract.end_date >= first))


def active_contracts_query(month: date):
    """Contracts running at some point in `month`, terms and client loaded."""
    return (
        select(Contract)
        .where(_running_in(month))
        .options(selectinload(Contract.terms), selectinload(Contract.client))
    )


def month_budget(contract: Contract, month: date, *, today: date | None = None) -> MonthBudget:
    return month_budgets([contract], month, today=today, daily=True)[0]


def budget_overview(month: date, *, today: date | None = None) -> list[MonthBudget]:
    """Every contract running in `month`, most at risk first (either way)."""
    from app.clients.models import Client

    running = (_running_in(month), Client.archived_at.is_(None))
    stmt = (
        select(Contract)
        .join(Client)
        .where(*running)
        # The client with its contract (one query, not two); the terms by the
        # same condition, not by a list of 200 ids.
        .options(contains_eager(Contract.client), subqueryload(Contract.terms))
    )
    contracts = list(db.session.scalars(stmt))
    among = select(Contract.id).join(Client).where(*running)
    budgets = month_budgets(contracts, month, today=today, daily=True, costs=False, among=among)
    budgets = [b for b in budgets if b.terms is not None]
    return sorted(budgets, key=lambda b: (-b.risk, b.contract.client.name))
