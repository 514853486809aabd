"""What a client's space shows: its own company, the CMs who serve it (names
only), this month's hours and what they will be billed, its published
reports and the agency's details. Never internal notes, competitors, costs,
margins, drafts nor anything of another client: each value here is picked,
not passed whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from app.agency.models import AgencySettings
from app.agency.services import get_settings
from app.auth.models import User
from app.clients.models import Client, CMAssignment
from app.contracts.budget import FULL_PCT, WARN_PCT, month_budget, month_budgets
from app.contracts.models import BillingModel, Contract
from app.extensions import db
from app.money import ZERO, percent, vat_on
from app.portal.billing import PortalInvoice, recent_invoices, unpaid_invoices
from app.reports.models import Report, ReportStatus
from app.reports.queries import latest_versions
from app.reports.services import effective_signoff
from app.timesheets.calendar import month_end, month_start
from app.timeutil import today

HOME_ROWS = 5  # reports and invoices listed on the home page before "voir tout"


@dataclass(frozen=True)
class PortalHome:
    client: Client
    cm_names: list[str]
    agency: AgencySettings
    months: list[PortalMonth]
    reports: list[PortalReport]
    more_reports: bool
    unpaid: list[PortalInvoice]
    invoices: list[PortalInvoice]
    more_invoices: bool

    @property
    def latest_report(self) -> PortalReport | None:
        return self.reports[0] if self.reports else None

    @property
    def unpaid_total(self) -> Decimal:
        return sum((i.amount_due for i in self.unpaid), ZERO)

    @property
    def overdue_total(self) -> Decimal:
        return sum((i.amount_due for i in self.unpaid if i.status == "overdue"), ZERO)


def serving_cm_names(client: Client) -> list[str]:
    """Names of the active CMs assigned to `client` today, each once."""
    day = today()
    stmt = (
        select(User.name)
        .join(CMAssignment, CMAssignment.cm_id == User.id)
        .where(
            CMAssignment.client_id == client.id,
            CMAssignment.since <= day,
            or_(CMAssignment.until.is_(None), CMAssignment.until >= day),
            User.active.is_(True),
        )
        .distinct()
        .order_by(User.name)
    )
    return list(db.session.scalars(stmt))


def portal_home(client: Client) -> PortalHome:
    day = today()
    reports = published_reports(client, limit=HOME_ROWS + 1)
    invoices = recent_invoices(client, day, limit=HOME_ROWS + 1)
    return PortalHome(
        client=client,
        cm_names=serving_cm_names(client),
        agency=get_settings(),
        months=month_overview(client, day),
        reports=reports[:HOME_ROWS],
        more_reports=len(reports) > HOME_ROWS,
        unpaid=unpaid_invoices(client, day),
        invoices=invoices[:HOME_ROWS],
        more_invoices=len(invoices) > HOME_ROWS,
    )


# -- this month (hours and the amount they will be billed) ---------------------------


@dataclass(frozen=True)
class PortalMonth:
    """One contract's current month as its client reads it: its hours, and
    what it will be billed (HT and TTC) at the current pace. Built from the
    budget's figures but never its cost, margin or cost rates."""

    contract_title: str
    month: date
    billing_model: str
    used_minutes: int
    included_minutes: int | None
    remaining_minutes: int | None
    overage_minutes: int
    hours_pct: Decimal | None
    fee: Decimal  # the month's retainer HT (prorated)
    hourly_rate: Decimal | None
    billed_so_far: Decimal  # HT, were the month to end today
    ceiling: Decimal  # the month's budget ceiling HT (prorated)
    budget_pct: Decimal | None  # billed so far against the ceiling, where it follows the hours
    forecast_minutes: int
    estimate_ht: Decimal
    estimate_vat: Decimal
    estimate_ttc: Decimal
    franchise: bool
    finished: bool  # the contract's month is over: the estimate is the month's amount

    @property
    def meter(self) -> str:
        """The hours bar's colour: 80 % and 100 % of the included hours."""
        return _meter(self.hours_pct)

    @property
    def budget_meter(self) -> str:
        return _meter(self.budget_pct)

    @property
    def over_ceiling(self) -> bool:
        return self.ceiling > 0 and self.estimate_ht > self.ceiling


def _meter(pct: Decimal | None) -> str:
    if pct is None or pct < WARN_PCT:
        return "ok"
    return "over" if pct >= FULL_PCT else "warn"


def _running_in(first: date, last: date):
    return (Contract.start_date <= last) & (Contract.end_date.is_(None) | (Contract.end_date >= first))


def month_overview(client: Client, day: date | None = None) -> list[PortalMonth]:
    """The month of `day` for every contract of `client` running in it."""
    day = day or today()
    first, last = month_start(day), month_end(day)
    contracts = list(
        db.session.scalars(
            select(Contract)
            .where(Contract.client_id == client.id, _running_in(first, last))
            .options(selectinload(Contract.terms))
            .order_by(Contract.start_date, Contract.id)
        )
    )
    franchise = get_settings().is_franchise
    months = []
    for budget in month_budgets(contracts, first, today=day, costs=False):  # never shown here
        terms = budget.terms
        if terms is None:
            continue
        variable = terms.billing_model in (BillingModel.HOURLY, BillingModel.RETAINER_OVERAGE)
        estimate = budget.forecast_billable
        vat = ZERO if franchise else vat_on(estimate, Decimal(terms.vat_rate))
        months.append(
            PortalMonth(
                contract_title=budget.contract.title,
                month=budget.month,
                billing_model=terms.billing_model,
                used_minutes=budget.used_minutes,
                included_minutes=budget.included_minutes,
                remaining_minutes=budget.remaining_minutes,
                overage_minutes=budget.overage_minutes,
                hours_pct=budget.hours_pct,
                fee=budget.fee,
                hourly_rate=Decimal(terms.hourly_rate) if terms.hourly_rate is not None else None,
                billed_so_far=budget.billable,
                ceiling=budget.ceiling,
                budget_pct=percent(budget.billable, budget.ceiling) if variable else None,
                forecast_minutes=budget.forecast_minutes,
                estimate_ht=estimate,
                estimate_vat=vat,
                estimate_ttc=estimate + vat,
                franchise=franchise,
                finished=budget.active_last is not None and day > budget.active_last,
            )
        )
    return months


# -- reports (the company's published reports, as its users see them) -----------------


@dataclass(frozen=True)
class PortalReport:
    """A published report as the portal lists it (no draft ever gets here)."""

    id: int
    month: date
    contract_title: str
    signoff: str
    latest: int | None
    published_at: datetime | None


@dataclass(frozen=True)
class PortalHours:
    """The month's hours of a report's contract: used and included (no amount)."""

    used_minutes: int
    included_minutes: int | None
    pct: Decimal | None  # used against included


def published_reports_query(client: Client) -> Select[tuple[Report]]:
    """The company's published reports, newest month first (whoever looks:
    a lead previewing the space sees what the client sees)."""
    return (
        select(Report)
        .where(Report.client_id == client.id, Report.status == ReportStatus.PUBLISHED)
        .options(selectinload(Report.contract))
        .order_by(Report.month.desc(), Report.id.desc())
    )


def portal_reports(client: Client, reports: list[Report]) -> list[PortalReport]:
    """`reports` (published ones of `client`) with the sign-off as the
    client should read it and their latest version."""
    latest = latest_versions(client, [r.id for r in reports])
    days = get_settings().signoff_days
    return [
        PortalReport(
            id=r.id,
            month=r.month,
            contract_title=r.contract.title,
            signoff=effective_signoff(r, days),
            latest=latest.get(r.id),
            published_at=r.published_at,
        )
        for r in reports
    ]


def published_reports(client: Client, limit: int | None = None) -> list[PortalReport]:
    stmt = published_reports_query(client)
    if limit is not None:
        stmt = stmt.limit(limit)
    return portal_reports(client, list(db.session.scalars(stmt)))


def report_hours(report: Report) -> PortalHours:
    budget = month_budget(report.contract, report.month)
    return PortalHours(
        used_minutes=budget.used_minutes, included_minutes=budget.included_minutes, pct=budget.hours_pct
    )
