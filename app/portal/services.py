"""What a client's space shows: its own company, the CMs who serve it (names
only) and the agency's details. Never internal notes, competitors, costs nor
anything of another client: each value here is picked, not passed whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_, select

from app.agency.models import AgencySettings
from app.agency.services import get_settings
from app.auth.models import User
from app.clients.models import Client, CMAssignment
from app.contracts.budget import month_budget
from app.extensions import db
from app.reports.models import Report, ReportStatus
from app.reports.queries import latest_versions
from app.reports.services import client_reports, effective_signoff
from app.timeutil import today


@dataclass(frozen=True)
class PortalHome:
    client: Client
    cm_names: list[str]
    agency: AgencySettings
    reports: list[PortalReport]


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
    return PortalHome(
        client=client,
        cm_names=serving_cm_names(client),
        agency=get_settings(),
        reports=published_reports(client),
    )


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


def published_reports(client: Client) -> list[PortalReport]:
    """The company's published reports, newest month first, with the
    sign-off as the client should read it."""
    reports = [r for r in client_reports(client) if r.status == ReportStatus.PUBLISHED]
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


def report_hours(report: Report) -> PortalHours:
    budget = month_budget(report.contract, report.month)
    return PortalHours(
        used_minutes=budget.used_minutes, included_minutes=budget.included_minutes, pct=budget.hours_pct
    )
