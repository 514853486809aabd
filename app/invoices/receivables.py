"""What clients owe: the issued invoices with something left to pay, their
lateness and the totals by age; and what each month of a contract invoiced.
Queries only, each a fixed number of statements whatever the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import contains_eager

from app.clients.models import Client
from app.contracts.budget import MonthBudget, contract_months
from app.contracts.models import Contract
from app.extensions import db
from app.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from app.money import ZERO, to_cents
from app.timesheets.calendar import month_end, month_start

OPEN_STATES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)
SORTS = ("due", "client", "amount")

# Age buckets of what is owed, by days past the due date: (key, first day, last day).
BUCKETS = (("not_due", None, 0), ("late_30", 1, 30), ("late_60", 31, 60), ("late_more", 61, None))


def left_to_pay() -> ColumnElement[Decimal]:
    """What the client still owes on an invoice (TTC), as SQL."""
    return Invoice.total_ttc - Invoice.amount_credited - Invoice.amount_paid


def _open() -> ColumnElement[bool]:
    return (Invoice.kind == InvoiceKind.INVOICE) & Invoice.status.in_(OPEN_STATES) & (left_to_pay() > 0)


def _late_between(today: date, first: int | None, last: int | None) -> ColumnElement[bool]:
    """Due dates `first` to `last` days before `today` (None: no bound).
    Days late 0 means not due yet (due today or later)."""
    condition = Invoice.due_date.is_not(None)
    if first is not None:  # at least `first` days late: due on or before today - first
        condition &= Invoice.due_date <= today - timedelta(days=first)
    if last is not None:  # at most `last` days late
        condition &= Invoice.due_date >= today - timedelta(days=last)
    return condition


@dataclass(frozen=True)
class Filters:
    client_id: int | None = None
    overdue_only: bool = False
    sort: str = "due"


def receivables_query(filters: Filters, today: date) -> Select[tuple[Invoice]]:
    """The invoices with something left to pay, their client loaded."""
    stmt = (
        select(Invoice)
        .join(Client, Client.id == Invoice.client_id)
        .options(contains_eager(Invoice.client))
        .where(_open())
    )
    if filters.client_id:
        stmt = stmt.where(Invoice.client_id == filters.client_id)
    if filters.overdue_only:
        stmt = stmt.where(Invoice.due_date < today)
    if filters.sort == "client":
        order = (Client.name, Client.id, Invoice.due_date, Invoice.id)
    elif filters.sort == "amount":
        order = (left_to_pay().desc(), Invoice.due_date, Invoice.id)
    else:  # the longest overdue first
        order = (Invoice.due_date, Client.name, Invoice.id)
    return stmt.order_by(*order)


@dataclass(frozen=True)
class ReceivableTotals:
    count: int
    owed: Decimal
    overdue: Decimal
    overdue_count: int
    buckets: dict[str, Decimal]  # BUCKETS keys -> amount left


def receivable_totals(today: date, client_id: int | None = None) -> ReceivableTotals:
    """What is owed (of one client, or all), overdue, and by age: one query."""
    left = left_to_pay()
    overdue = Invoice.due_date < today
    columns = [
        func.count(),
        func.coalesce(func.sum(left), 0),
        func.coalesce(func.sum(case((overdue, left), else_=0)), 0),
        func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
    ]
    columns += [
        func.coalesce(func.sum(case((_late_between(today, first, last), left), else_=0)), 0)
        for _key, first, last in BUCKETS
    ]
    stmt = select(*columns).where(_open())
    if client_id:
        stmt = stmt.where(Invoice.client_id == client_id)
    row = db.session.execute(stmt).one()
    amounts = [to_cents(Decimal(str(value or 0))) for value in row]
    return ReceivableTotals(
        count=int(row[0]),
        owed=amounts[1],
        overdue=amounts[2],
        overdue_count=int(row[3]),
        buckets={key: amount for (key, _f, _l), amount in zip(BUCKETS, amounts[4:], strict=True)},
    )


def clients_owing() -> list[tuple[int, str]]:
    """(id, name) of the clients with something left to pay, for the filter."""
    stmt = (
        select(Client.id, Client.name)
        .where(Client.id.in_(select(Invoice.client_id).where(_open())))
        .order_by(Client.name, Client.id)
    )
    return [(row.id, row.name) for row in db.session.execute(stmt)]


# -- a contract's months: invoiced and paid ----------------------------------------------


@dataclass
class MonthInvoiced:
    invoiced_ht: Decimal = ZERO  # issued invoices less issued credit notes
    invoiced_ttc: Decimal = ZERO
    paid: Decimal = ZERO  # TTC received on the month's invoices
    left: Decimal = ZERO  # TTC still owed on them


def invoiced_by_month(contract_id: int, first: date, last: date) -> dict[date, MonthInvoiced]:
    """Per month billed (first day) between `first` and `last`: what the
    contract's issued invoices and credit notes came to. One query."""
    sign = case((Invoice.kind == InvoiceKind.CREDIT_NOTE, -1), else_=1)
    owing = (Invoice.kind == InvoiceKind.INVOICE) & Invoice.status.in_(OPEN_STATES)
    rows = db.session.execute(
        select(
            Invoice.month,
            func.sum(sign * Invoice.total_ht),
            func.sum(sign * Invoice.total_ttc),
            func.sum(case((Invoice.kind == InvoiceKind.INVOICE, Invoice.amount_paid), else_=0)),
            func.sum(case((owing, left_to_pay()), else_=0)),
        )
        .where(
            Invoice.contract_id == contract_id,
            Invoice.status != InvoiceStatus.DRAFT,
            Invoice.month.between(first, last),
        )
        .group_by(Invoice.month)
    ).all()
    result: dict[date, MonthInvoiced] = {}
    for month, ht, ttc, paid, left in rows:
        if isinstance(month, str):  # SQLite hands back the text of a grouped date
            month = date.fromisoformat(month)
        result[month] = MonthInvoiced(*(to_cents(Decimal(str(v or 0))) for v in (ht, ttc, paid, left)))
    return result


@dataclass(frozen=True)
class BillingMonth:
    month: date
    budget: MonthBudget
    invoiced: MonthInvoiced
    future: bool  # not begun yet: nothing billable nor invoiced
    current: bool  # under way: not invoiced yet

    @property
    def running(self) -> bool:
        return self.budget.terms is not None


@dataclass(frozen=True)
class YearBilling:
    year: int
    months: list[BillingMonth]
    through: date | None  # last month counted in the year to date (None: none yet)
    ceiling: Decimal
    billable: Decimal
    invoiced_ht: Decimal
    paid: Decimal
    left: Decimal


def contract_year(contract: Contract, year: int, today: date) -> YearBilling:
    """Each month of `year` the contract runs in: its budget ceiling, what
    its time makes billable, what was invoiced (HT, credit notes deducted)
    and paid; and the year to date. Three queries, whatever the months."""
    first = max(date(year, 1, 1), month_start(contract.start_date))
    last = date(year, 12, 1)
    if contract.end_date is not None:
        last = min(last, month_start(contract.end_date))
    budgets = contract_months(contract, first, last, today=today) if first <= last else []
    invoiced = invoiced_by_month(contract.id, first, month_end(last)) if budgets else {}
    current = month_start(today)
    months = [
        BillingMonth(
            b.month, b, invoiced.get(b.month, MonthInvoiced()), b.month > current, b.month == current
        )
        for b in budgets
    ]
    counted = [m for m in months if not m.future and m.running]
    return YearBilling(
        year=year,
        months=months,
        through=counted[-1].month if counted else None,
        ceiling=sum((m.budget.ceiling for m in counted), ZERO),
        billable=sum((m.budget.billable for m in counted), ZERO),
        invoiced_ht=sum((m.invoiced.invoiced_ht for m in counted), ZERO),
        paid=sum((m.invoiced.paid for m in counted), ZERO),
        left=sum((m.invoiced.left for m in counted), ZERO),
    )
