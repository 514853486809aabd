"""What the report pages read: rows fetched through their client (and
report), labels and file names. No writes."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from app.clients.models import Client
from app.contracts.forms import CHANNEL_LABELS
from app.documents import rendering
from app.extensions import db
from app.reports.models import (
    ChannelFigure,
    RenderState,
    Report,
    ReportStatus,
    ReportVersion,
    ShareLink,
    SignoffState,
)
from app.timesheets.calendar import add_months
from app.timeutil import PARIS, utcnow

RENDER_LABELS = {
    RenderState.IDLE: _l("Aucun PDF demandé"),
    RenderState.QUEUED: _l("En file d'attente"),
    RenderState.RENDERING: _l("PDF en cours de rendu…"),
    RenderState.DONE: _l("PDF prêt"),
    RenderState.FAILED: _l("Échec du rendu"),
}

SIGNOFF_LABELS = {
    SignoffState.PENDING: _l("En attente de validation"),
    SignoffState.APPROVED: _l("Validé"),
    SignoffState.QUESTION: _l("Question en cours"),
}
SIGNOFF_BADGES = {SignoffState.PENDING: "info", SignoffState.APPROVED: "ok", SignoffState.QUESTION: "warn"}


def render_label(state: str) -> str:
    return str(RENDER_LABELS.get(state, state))


def render_status(report: Report) -> dict:
    """The JSON the page's poller reads (app/static/js/relais.js)."""
    return rendering.render_status(report, RENDER_LABELS)


def signoff_deadline(report: Report, signoff_days: int) -> datetime | None:
    """When silence starts to count as approval."""
    published = report.published_at
    if published is None:
        return None
    if published.tzinfo is None:  # SQLite gives naive UTC
        published = published.replace(tzinfo=UTC)
    return (published + timedelta(days=signoff_days)).astimezone(PARIS)


def channel_label(code: str) -> str:
    return str(CHANNEL_LABELS.get(code, code))


# -- lists -----------------------------------------------------------------------------


def client_reports_query(client: Client, contract_id: int | None = None) -> Select[tuple[Report]]:
    """Every report of `client` (lead and CM pages), newest month first."""
    stmt = (
        select(Report)
        .where(Report.client_id == client.id)
        .options(selectinload(Report.contract), selectinload(Report.versions))
        .order_by(Report.month.desc(), Report.id.desc())
    )
    if contract_id:
        stmt = stmt.where(Report.contract_id == contract_id)
    return stmt


def latest_versions(client: Client, report_ids: list[int]) -> dict[int, int]:
    """Report id -> number of its latest version (one query)."""
    if not report_ids:
        return {}
    rows = db.session.execute(
        select(ReportVersion.report_id, func.max(ReportVersion.number))
        .where(ReportVersion.client_id == client.id, ReportVersion.report_id.in_(report_ids))
        .group_by(ReportVersion.report_id)
    )
    return {report_id: number for report_id, number in rows}


# -- one report's parts ------------------------------------------------------------------


def report_channels(report: Report) -> list[str]:
    """The contract's channels, then any channel that still has figures."""
    channels = list(report.contract.channels or [])
    channels += [f.channel for f in report.figures if f.channel not in channels]
    return channels


def previous_figures(report: Report) -> dict[str, ChannelFigure]:
    """Last month's figures of the same contract, by channel."""
    stmt = (
        select(ChannelFigure)
        .join(Report, Report.id == ChannelFigure.report_id)
        .where(
            Report.client_id == report.client_id,
            Report.contract_id == report.contract_id,
            Report.month == add_months(report.month, -1),
        )
    )
    return {figure.channel: figure for figure in db.session.scalars(stmt)}


def get_version_or_404(report: Report, number: int) -> ReportVersion:
    version = db.session.scalar(
        select(ReportVersion).where(
            ReportVersion.client_id == report.client_id,
            ReportVersion.report_id == report.id,
            ReportVersion.number == number,
        )
    )
    if version is None:
        abort(404)
    return version


def share_links(report: Report) -> list[ShareLink]:
    return list(
        db.session.scalars(
            select(ShareLink)
            .where(ShareLink.client_id == report.client_id, ShareLink.report_id == report.id)
            .order_by(ShareLink.created_at.desc(), ShareLink.id.desc())
        )
    )


def get_share_link_or_404(report: Report, link_id: int) -> ShareLink:
    link = db.session.scalar(
        select(ShareLink).where(
            ShareLink.client_id == report.client_id,
            ShareLink.report_id == report.id,
            ShareLink.id == link_id,
        )
    )
    if link is None:
        abort(404)
    return link


def link_is_live(link: ShareLink, now: datetime | None = None) -> bool:
    now = now or utcnow()
    expires = link.expires_at if link.expires_at.tzinfo else link.expires_at.replace(tzinfo=now.tzinfo)
    return link.revoked_at is None and expires > now


def is_published(report: Report) -> bool:
    return report.status == ReportStatus.PUBLISHED


# -- file names -----------------------------------------------------------------------------


def slug(text: str) -> str:
    """ "Boulangerie Dupont & Fils" -> "boulangerie-dupont-fils"."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-") or "client"


def download_name(report: Report, number: int | None = None) -> str:
    """ "rapport-boulangerie-dupont-2026-10-v2.pdf" (the draft: "-brouillon")."""
    suffix = f"v{number}" if number is not None else "brouillon"
    return f"rapport-{slug(report.client.name)}-{report.month:%Y-%m}-{suffix}.pdf"
