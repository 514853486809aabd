"""The monthly activity report as a document: what it shows
(`report_context`), its HTML (`render_report_html`) and its PDF
(`render_report_pdf`).

The document goes to the client: it shows the client's own budget and the
amount billable, never a cost, a cost rate or a margin (`ClientBudget`
copies only what may be shown, so no template can reach the rest).

`report_context` runs a fixed number of queries whatever the month holds:
the budget's (terms, totals), one for the month's entries (from which the
breakdowns by activity, channel, week and CM are summed in Python, so every
figure adds up to the same total), and one each for this month's and last
month's channel figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import markdown
import nh3
from flask import render_template, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from app.agency.services import get_settings
from app.auth.models import User
from app.contracts.budget import MonthBudget, month_budgets
from app.contracts.forms import CHANNEL_LABELS
from app.contracts.models import BillingModel
from app.extensions import db
from app.money import ZERO, percent
from app.pdf import document_url, render_pdf, static_url
from app.reports.models import ChannelFigure, Report
from app.timesheets.calendar import add_months, month_end, month_start
from app.timesheets.models import Activity, TimeEntry
from app.timeutil import today

STYLESHEET = "css/report.css"

MODEL_LABELS = {
    BillingModel.RETAINER: _l("Forfait mensuel"),
    BillingModel.RETAINER_OVERAGE: _l("Forfait mensuel, dépassement facturé à l'heure"),
    BillingModel.HOURLY: _l("Facturation à l'heure"),
}

# Highlights: a small Markdown, sanitised to these tags; links only to the
# web or a mail address, opened without referrer.
HIGHLIGHT_TAGS = {"p", "ul", "ol", "li", "strong", "em", "b", "i", "a", "br"}
_cleaner = nh3.Cleaner(
    tags=HIGHLIGHT_TAGS,
    clean_content_tags={"script", "style"},
    attributes={"a": {"href"}},
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def render_highlights(text: str | None) -> Markup:
    """The highlights' Markdown as safe HTML (see HIGHLIGHT_TAGS)."""
    if not text or not text.strip():
        return Markup("")
    html = markdown.markdown(text, output_format="html")
    return Markup(_cleaner.clean(html))  # noqa: S704 - sanitised by nh3 just above


# -- what the document shows ------------------------------------------------


@dataclass(frozen=True)
class Party:
    """The agency or the client, as the cover shows them."""

    name: str
    address_lines: list[str]
    siren: str
    email: str
    phone: str
    logo_sha256: str | None
    logo_src: str | None = None


@dataclass(frozen=True)
class ClientBudget:
    """What the client may see of its month's budget (no cost, no margin)."""

    billing_model: str | None
    model_label: str
    used_minutes: int
    included_minutes: int | None
    remaining_minutes: int | None
    hours_pct: Decimal | None
    billable: Decimal
    ceiling: Decimal
    ceiling_pct: Decimal | None
    overage_minutes: int
    overage_amount: Decimal
    overage_billed: bool

    @classmethod
    def of(cls, budget: MonthBudget) -> ClientBudget:
        model = budget.terms.billing_model if budget.terms is not None else None
        return cls(
            billing_model=model,
            model_label=str(MODEL_LABELS.get(model, "")) if model else "",
            used_minutes=budget.used_minutes,
            included_minutes=budget.included_minutes,
            remaining_minutes=budget.remaining_minutes,
            hours_pct=budget.hours_pct,
            billable=budget.billable,
            ceiling=budget.ceiling,
            ceiling_pct=budget.ceiling_pct,
            overage_minutes=budget.overage_minutes,
            overage_amount=budget.overage_amount,
            overage_billed=model == BillingModel.RETAINER_OVERAGE,
        )


@dataclass(frozen=True)
class Share:
    """One line of a breakdown: minutes and their share of the month (%)."""

    label: str
    minutes: int
    pct: Decimal


@dataclass(frozen=True)
class Week:
    monday: date
    label: str  # "semaine du 5 oct."
    short: str  # "5 oct."
    minutes: int


@dataclass(frozen=True)
class FigureRow:
    channel: str
    label: str
    followers: int | None
    posts: int | None
    engagement: Decimal | None
    previous: ChannelFigure | None

    def _change(self, name: str) -> Any:
        now = getattr(self, name)
        before = getattr(self.previous, name) if self.previous is not None else None
        return None if now is None or before is None else now - before

    @property
    def followers_change(self) -> int | None:
        return self._change("followers")

    @property
    def posts_change(self) -> int | None:
        return self._change("posts")

    @property
    def engagement_change(self) -> Decimal | None:
        return self._change("engagement")


@dataclass(frozen=True)
class EntryRow:
    day: date
    cm_id: int
    cm: str
    activity: str
    channel: str
    note: str
    minutes: int


def channel_label(code: str | None) -> str:
    if not code:
        return _("Sans canal")
    return str(CHANNEL_LABELS.get(code, code))


def week_label(monday: date) -> str:
    """ "semaine du 5 oct." """
    return _("semaine du %(day)s", day=format_date(monday, "d MMM"))


def _party_address(address_line: str, postal_code: str, city: str, country_code: str) -> list[str]:
    lines = [address_line.strip()] if address_line and address_line.strip() else []
    town = " ".join(part for part in (postal_code, city) if part).strip()
    if town:
        lines.append(town)
    if country_code and country_code != "FR":
        lines.append(get_locale().territories.get(country_code, country_code))
    return lines


def _shares(minutes_by_label: dict[str, int], total: int) -> list[Share]:
    rows = sorted(minutes_by_label.items(), key=lambda item: (-item[1], item[0].lower()))
    return [Share(label, minutes, percent(minutes, total) or ZERO) for label, minutes in rows]


def _team(minutes_by_cm: dict[tuple[str, int], int], total: int) -> list[Share]:
    """The CMs who worked, most hours first (two namesakes stay two lines)."""
    rows = sorted(minutes_by_cm.items(), key=lambda item: (-item[1], item[0][0].lower()))
    return [Share(name, minutes, percent(minutes, total) or ZERO) for (name, _id), minutes in rows]


def _weeks(month: date, minutes_by_day: dict[date, int]) -> list[Week]:
    """Every ISO week touching the month, Monday first, with the month's minutes."""
    first, last = month_start(month), month_end(month)
    monday = first - timedelta(days=first.weekday())
    weeks: list[Week] = []
    while monday <= last:
        minutes = sum(minutes_by_day.get(day, 0) for day in (monday + timedelta(days=n) for n in range(7)))
        weeks.append(Week(monday, week_label(monday), format_date(monday, "d MMM"), minutes))
        monday += timedelta(days=7)
    return weeks


def _entries(report: Report) -> list[EntryRow]:
    """The month's entries of the report's contract (one query), by date."""
    first, last = month_start(report.month), month_end(report.month)
    rows = db.session.execute(
        select(
            TimeEntry.day,
            TimeEntry.cm_id,
            User.name,
            Activity.label,
            TimeEntry.channel,
            TimeEntry.note,
            TimeEntry.minutes,
        )
        .join(User, User.id == TimeEntry.cm_id)
        .join(Activity, Activity.id == TimeEntry.activity_id)
        .where(
            TimeEntry.client_id == report.client_id,
            TimeEntry.contract_id == report.contract_id,
            TimeEntry.day.between(first, last),
        )
        .order_by(TimeEntry.day, User.name, TimeEntry.id)
    ).all()
    return [
        EntryRow(day, cm_id, cm, activity, channel_label(channel), note or "", minutes)
        for day, cm_id, cm, activity, channel, note, minutes in rows
    ]


def _figures(report: Report) -> list[FigureRow]:
    """This month's channel figures beside last month's (same contract)."""
    previous_month = add_months(report.month, -1)
    previous = {
        figure.channel: figure
        for figure in db.session.scalars(
            select(ChannelFigure)
            .join(Report, Report.id == ChannelFigure.report_id)
            .where(
                Report.client_id == report.client_id,
                Report.contract_id == report.contract_id,
                Report.month == previous_month,
            )
        )
    }
    return [
        FigureRow(
            channel=figure.channel,
            label=channel_label(figure.channel),
            followers=figure.followers,
            posts=figure.posts,
            engagement=figure.engagement,
            previous=previous.get(figure.channel),
        )
        for figure in report.figures
        if (figure.followers, figure.posts, figure.engagement) != (None, None, None)
    ]


def report_context(report: Report) -> dict[str, Any]:
    """Everything the report's document shows (see the module's docstring)."""
    client, contract = report.client, report.contract
    agency = get_settings()
    budget = ClientBudget.of(month_budgets([contract], report.month)[0])
    entries = _entries(report)

    by_activity: dict[str, int] = defaultdict(int)
    by_channel: dict[str, int] = defaultdict(int)
    by_day: dict[date, int] = defaultdict(int)
    by_cm: dict[tuple[str, int], int] = defaultdict(int)
    for entry in entries:
        by_activity[entry.activity] += entry.minutes
        by_channel[entry.channel] += entry.minutes
        by_day[entry.day] += entry.minutes
        by_cm[(entry.cm, entry.cm_id)] += entry.minutes
    total = sum(entry.minutes for entry in entries)
    figures = _figures(report)

    return {
        "period": report.month,
        "previous_period": format_date(add_months(report.month, -1), "LLLL"),  # "septembre"
        "contract_title": contract.title,
        "agency": Party(
            name=agency.legal_name or _("Votre agence"),
            address_lines=_party_address(
                agency.address_line, agency.postal_code, agency.city, agency.country_code
            ),
            siren=agency.siren,
            email=agency.email,
            phone=agency.phone,
            logo_sha256=agency.logo_sha256,
        ),
        "client": Party(
            name=client.name,
            address_lines=_party_address(
                client.address_line, client.postal_code, client.city, client.country_code
            ),
            siren=client.siren or "",
            email="",
            phone="",
            logo_sha256=client.logo_sha256,
        ),
        "budget": budget,
        "total_minutes": total,
        "entry_count": len(entries),
        "days_worked": len(by_day),
        "activities": _shares(by_activity, total),
        "channels": _shares(by_channel, total),
        "weeks": _weeks(report.month, by_day),
        "team": _team(by_cm, total),
        "highlights": render_highlights(report.highlights),
        "figures": figures,
        "has_previous_figures": any(row.previous is not None for row in figures),
        "entries": entries,
        "issued_on": today(),
    }


# -- HTML and PDF -------------------------------------------------------------


def render_report_html(report: Report, *, for_pdf: bool = True) -> str:
    """The report's document as HTML: for WeasyPrint (resources by our own
    URL schemes, see app.pdf) or, with `for_pdf=False`, for a live preview
    in the browser (needs a request: stylesheet and logos by app URLs)."""
    context = report_context(report)
    agency, client = context["agency"], context["client"]
    if for_pdf:
        stylesheet = static_url(STYLESHEET)
        agency_logo = document_url(agency.logo_sha256) if agency.logo_sha256 else None
        client_logo = document_url(client.logo_sha256) if client.logo_sha256 else None
    else:
        stylesheet = url_for("static", filename=STYLESHEET)
        agency_logo = url_for("agency.logo", v=agency.logo_sha256[:12]) if agency.logo_sha256 else None
        client_logo = (
            url_for("clients.logo", client_id=report.client_id, v=client.logo_sha256[:12])
            if client.logo_sha256
            else None
        )
    context["agency"] = replace(agency, logo_src=agency_logo)
    context["client"] = replace(client, logo_src=client_logo)
    return render_template("reports/document.html", for_pdf=for_pdf, stylesheet=stylesheet, **context)


def render_report_pdf(report: Report) -> bytes:
    return render_pdf(render_report_html(report))
