"""Report jobs (queue "reports"): they take ids, keep their outcome in the
database and can run twice without doing anything twice. A worker killed
mid-job leaves the report as it was (no version without its PDF); running
the job again finishes the work once."""

from __future__ import annotations

import logging

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select

from app.audit.services import record
from app.auth.models import User
from app.clients.queries import client_contacts
from app.documents.models import Document
from app.documents.services import store_document
from app.extensions import db
from app.mail import in_language_of, send_mail
from app.mail_links import external_url
from app.reports.models import RenderState, Report, ReportStatus, ReportVersion
from app.timeutil import utcnow

log = logging.getLogger(__name__)

PDF = "application/pdf"


def _start(report_id: int) -> Report | None:
    report = db.session.get(Report, report_id)
    if report is None:
        return None
    report.render_state = RenderState.RENDERING
    report.render_error = None
    db.session.commit()  # shown to the lead while the PDF renders
    return report


def _failed(report_id: int, error: Exception) -> None:
    db.session.rollback()
    report = db.session.get(Report, report_id)
    if report is not None:
        report.render_state = RenderState.FAILED
        report.render_error = f"{type(error).__name__}: {error}"[:1000]
        db.session.commit()


def _render(report: Report, what: str) -> Document:
    """The report's PDF, stored (flushed with the caller's transaction); on
    failure the report says why and the error goes on to RQ's failed jobs."""
    from app.reports.document import render_report_pdf

    report_id = report.id
    try:
        return store_document(render_report_pdf(report), PDF)
    except Exception as error:
        log.exception("report %s: %s rendering failed", report_id, what)
        _failed(report_id, error)
        raise


def render_draft(report_id: int) -> str | None:
    """Render the draft's PDF for the lead to read (month close)."""
    report = _start(report_id)
    if report is None:
        return None
    document = _render(report, "draft")
    report.draft_sha256 = document.sha256
    report.render_state = RenderState.DONE
    db.session.commit()
    return document.sha256


def publish_report(report_id: int, number: int, actor_id: int | None) -> int | None:
    """Render and publish version `number`: the PDF, the version row and the
    published status commit together. Already there: nothing to do."""
    existing = db.session.scalar(
        select(ReportVersion.id).where(ReportVersion.report_id == report_id, ReportVersion.number >= number)
    )
    if existing is not None:
        return None
    report = _start(report_id)
    if report is None:
        return None
    document = _render(report, "publication")
    actor = db.session.get(User, actor_id) if actor_id else None
    version = ReportVersion(
        client_id=report.client_id,
        report=report,
        number=len(report.versions) + 1,
        document_sha256=document.sha256,
        published_by_id=actor_id,
    )
    db.session.add(version)
    first_time = report.status != ReportStatus.PUBLISHED
    report.status = ReportStatus.PUBLISHED
    report.published_at = utcnow()
    report.render_state = RenderState.DONE
    record(
        actor,
        "report.published",
        report,
        client_id=report.client_id,
        summary=_("Rapport publié (version %(n)d)", n=version.number),
    )
    if first_time:
        _tell_the_client(report)
    db.session.commit()
    return version.number


def _tell_the_client(report: Report) -> None:
    """Mail the client's users that the report is there (a link to the
    portal, never the document itself)."""
    members = client_contacts(report.client_id)
    link = external_url("portal.report", client_id=report.client_id, report_id=report.id)
    for user in members:
        with in_language_of(user):
            send_mail(
                user.email,
                _("Votre rapport d'activité est disponible : %(month)s", month=_month_name(report)),
                render_template("reports/mail/published.txt", user=user, report=report, link=link),
            )


def _month_name(report: Report) -> str:
    from app.formatting import month

    return month(report.month)
