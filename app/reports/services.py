"""The report workflow: drafts, publication requests, client sign-off and
share links. Services flush, never commit; rendering happens in jobs
(app/reports/jobs.py), dispatched once the caller commits."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import abort, render_template
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import access
from app.access import can_view, is_assigned_on
from app.audit.services import record
from app.auth.models import Role, User
from app.clients.models import Client
from app.contracts.models import Channel, Contract
from app.extensions import db
from app.formatting import month as month_label
from app.jobs import enqueue
from app.mail import in_language_of, send_mail
from app.mail_links import external_url
from app.reports.models import (
    ChannelFigure,
    MessageKind,
    RenderState,
    Report,
    ReportMessage,
    ReportStatus,
    ShareLink,
    SignoffState,
)
from app.timesheets.calendar import month_end, month_start
from app.timeutil import utcnow

HIGHLIGHTS_MAX = 20_000
MESSAGE_MAX = 4_000


class ReportError(ValueError):
    """A refused change, with a message for the user."""


# -- finding reports (always through their client) ---------------------------------


def get_report_or_404(client: Client, report_id: int, user: User | None = None) -> Report:
    """A report of `client` that `user` may see: client users see published
    reports only (a draft is none of their business: 404)."""
    report = db.session.scalar(select(Report).where(Report.id == report_id, Report.client_id == client.id))
    if report is None or not can_see_report(user, report):
        abort(404)
    return report


def can_see_report(user: User | None, report: Report) -> bool:
    from flask_login import current_user

    user = user or current_user
    if not can_view(user, report.client):
        return False
    return user.role != Role.CLIENT or report.status == ReportStatus.PUBLISHED


def client_reports(client: Client, user: User | None = None) -> list[Report]:
    """The reports of `client` that `user` may see, newest month first."""
    from flask_login import current_user

    user = user or current_user
    stmt = select(Report).where(Report.client_id == client.id)
    if user.role == Role.CLIENT:
        stmt = stmt.where(Report.status == ReportStatus.PUBLISHED)
    return list(db.session.scalars(stmt.order_by(Report.month.desc(), Report.id)))


def can_edit(user: User, report: Report) -> bool:
    """Highlights and figures: the lead, and the CMs who served the client
    during the month."""
    if user.role == Role.LEAD:
        return True
    if user.role != Role.CM:
        return False
    return is_assigned_on(user, report.client_id, min(month_end(report.month), _today()))


def _today() -> date:
    from app.timeutil import today

    return today()


# -- drafts -------------------------------------------------------------------------


def ensure_report(contract: Contract, month: date) -> Report:
    """The report of `contract` for `month`, created as a draft if missing.
    Safe when two processes ask at once: the unique constraint decides."""
    month = month_start(month)
    stmt = select(Report).where(Report.contract_id == contract.id, Report.month == month)
    report = db.session.scalar(stmt)
    if report is not None:
        return report
    try:
        with db.session.begin_nested():
            report = Report(client_id=contract.client_id, contract_id=contract.id, month=month)
            db.session.add(report)
    except IntegrityError:
        report = db.session.scalar(stmt)
    return report


@dataclass(frozen=True)
class FigureInput:
    followers: int | None = None
    posts: int | None = None
    engagement: Decimal | None = None

    @property
    def empty(self) -> bool:
        return self.followers is None and self.posts is None and self.engagement is None


def update_draft(actor: User, report: Report, highlights: str, figures: dict[str, FigureInput]) -> None:
    """The highlights and per-channel figures of a report (its draft text;
    a published report takes them into its next version)."""
    if not can_edit(actor, report):
        raise ReportError(_("Vous ne pouvez pas modifier ce rapport."))
    highlights = (highlights or "").strip()
    if len(highlights) > HIGHLIGHTS_MAX:
        raise ReportError(_("Les faits marquants sont trop longs (20 000 caractères au plus)."))
    for channel, values in figures.items():
        if channel not in set(Channel):
            raise ReportError(_("Canal inconnu."))
        for number in (values.followers, values.posts):
            if number is not None and not 0 <= number <= 1_000_000_000:
                raise ReportError(_("Les nombres doivent être positifs."))
        if values.engagement is not None and not 0 <= values.engagement <= 100:
            raise ReportError(_("Le taux d'engagement est un pourcentage entre 0 et 100."))
    report.highlights = highlights
    existing = {figure.channel: figure for figure in report.figures}
    for channel, values in figures.items():
        figure = existing.get(channel)
        if values.empty:
            if figure is not None:
                report.figures.remove(figure)
            continue
        if figure is None:
            figure = ChannelFigure(client_id=report.client_id, channel=channel)
            report.figures.append(figure)
        figure.followers, figure.posts, figure.engagement = values.followers, values.posts, values.engagement
    db.session.flush()


# -- rendering and publication ---------------------------------------------------------


def request_render(report: Report) -> None:
    """Render the draft's PDF (month close, or the lead's "aperçu PDF")."""
    report.render_state = RenderState.QUEUED
    report.render_error = None
    report.render_requested_at = utcnow()
    enqueue("app.reports.jobs.render_draft", report.id, queue="reports", job_id=f"report-draft-{report.id}")


def request_publish(actor: User, report: Report) -> int:
    """Ask for the next version to be rendered and published; returns its
    number. The job publishes it (PDF, version and status in one
    transaction); asking twice before it ran publishes once."""
    if actor.role != Role.LEAD:
        raise ReportError(_("Seul un responsable d'agence publie un rapport."))
    if report.month > month_start(_today()):
        raise ReportError(_("Ce mois n'a pas commencé."))
    number = len(report.versions) + 1
    report.render_state = RenderState.QUEUED
    report.render_error = None
    report.render_requested_at = utcnow()
    record(
        actor,
        "report.publish_requested",
        report,
        client_id=report.client_id,
        summary=_("Publication demandée (version %(n)d)", n=number),
    )
    enqueue(
        "app.reports.jobs.publish_report",
        report.id,
        number,
        actor.id,
        queue="reports",
        job_id=f"report-{report.id}-v{number}",
    )
    return number


# -- client sign-off ---------------------------------------------------------------------


def effective_signoff(report: Report, signoff_days: int, now: datetime | None = None) -> str:
    """The sign-off as the client should read it: silence past the delay
    after publication counts as approval."""
    if report.status != ReportStatus.PUBLISHED or report.signoff != SignoffState.PENDING:
        return report.signoff
    now = now or utcnow()
    published = report.published_at
    if published is not None and published.tzinfo is None:
        from datetime import UTC

        published = published.replace(tzinfo=UTC)
    if published is not None and now >= published + timedelta(days=signoff_days):
        return SignoffState.APPROVED
    return SignoffState.PENDING


def _client_turn(user: User, report: Report) -> None:
    if user.role != Role.CLIENT or not can_view(user, report.client):
        raise ReportError(_("Seul un contact du client valide ou questionne son rapport."))
    if report.status != ReportStatus.PUBLISHED:
        raise ReportError(_("Ce rapport n'est pas publié."))


def approve(user: User, report: Report) -> None:
    _client_turn(user, report)
    if report.signoff == SignoffState.APPROVED:
        return
    report.signoff = SignoffState.APPROVED
    report.signed_off_at = utcnow()
    report.signed_off_by_id = user.id
    db.session.add(
        ReportMessage(client_id=report.client_id, report=report, author_id=user.id, kind=MessageKind.APPROVAL)
    )
    record(
        user, "report.approved", report, client_id=report.client_id, summary=_("Rapport validé par le client")
    )
    db.session.flush()


def ask_question(user: User, report: Report, text: str) -> ReportMessage:
    _client_turn(user, report)
    text = (text or "").strip()
    if not text:
        raise ReportError(_("Écrivez votre question."))
    if len(text) > MESSAGE_MAX:
        raise ReportError(_("Votre message est trop long (4 000 caractères au plus)."))
    report.signoff = SignoffState.QUESTION
    message = ReportMessage(
        client_id=report.client_id, report=report, author_id=user.id, kind=MessageKind.QUESTION, body=text
    )
    db.session.add(message)
    record(
        user,
        "report.question",
        report,
        client_id=report.client_id,
        summary=_("Question du client sur le rapport"),
    )
    db.session.flush()
    _tell_the_leads(user, report, text)
    return message


def _tell_the_leads(user: User, report: Report, text: str) -> None:
    """Mail every active lead that a client asked a question (queued: sent
    once the caller commits), each in its own language, with a link to the
    report's page where the agency answers."""
    leads = db.session.scalars(
        select(User)
        .where(User.role == Role.LEAD, User.active.is_(True), User.password_hash.is_not(None))
        .order_by(User.id)
    )
    link = external_url("reports.show", client_id=report.client_id, report_id=report.id, _anchor="signoff")
    for lead in leads:
        with in_language_of(lead):
            send_mail(
                lead.email,
                _(
                    "Question de %(client)s sur le rapport de %(month)s",
                    client=report.client.name,
                    month=month_label(report.month),
                ),
                render_template(
                    "reports/mail/question.txt", lead=lead, author=user, report=report, text=text, link=link
                ),
            )


def answer_question(actor: User, report: Report, text: str) -> ReportMessage:
    if not can_edit(actor, report):
        raise ReportError(_("Vous ne pouvez pas répondre sur ce rapport."))
    text = (text or "").strip()
    if not text:
        raise ReportError(_("Écrivez votre réponse."))
    if len(text) > MESSAGE_MAX:
        raise ReportError(_("Votre message est trop long (4 000 caractères au plus)."))
    message = ReportMessage(
        client_id=report.client_id, report=report, author_id=actor.id, kind=MessageKind.ANSWER, body=text
    )
    db.session.add(message)
    if report.signoff == SignoffState.QUESTION:
        report.signoff = SignoffState.PENDING  # the client reads the answer, then decides
    record(
        actor,
        "report.answered",
        report,
        client_id=report.client_id,
        summary=_("Réponse à la question du client"),
    )
    db.session.flush()
    return message


# -- share links ---------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_share_link(actor: User, report: Report, days: int, label: str = "") -> tuple[ShareLink, str]:
    """A secret link to the report's latest published version; the secret
    is returned once and only its hash is kept."""
    if actor.role != Role.LEAD:
        raise ReportError(_("Seul un responsable d'agence crée un lien de partage."))
    if report.status != ReportStatus.PUBLISHED:
        raise ReportError(_("Publiez le rapport avant de le partager."))
    if not 1 <= days <= 365:
        raise ReportError(_("Une durée de 1 à 365 jours."))
    token = secrets.token_urlsafe(32)
    link = ShareLink(
        client_id=report.client_id,
        report=report,
        token_sha256=_hash(token),
        label=(label or "").strip()[:120],
        created_by_id=actor.id,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(link)
    db.session.flush()
    record(actor, "report.shared", report, client_id=report.client_id, summary=_("Lien de partage créé"))
    return link, token


def revoke_share_link(actor: User, link: ShareLink) -> None:
    if actor.role != Role.LEAD:
        raise ReportError(_("Seul un responsable d'agence révoque un lien de partage."))
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        record(
            actor,
            "report.share_revoked",
            link.report,
            client_id=link.client_id,
            summary=_("Lien de partage révoqué"),
        )


def find_share_link(token: str) -> ShareLink | None:
    """The live link for `token` (not expired, not revoked), else None.

    Whoever holds the token is nobody the access rules know: the lookup runs
    in the system's scope, and a live link then scopes the rest of the
    request to its client alone (app/access.py)."""
    if not token or len(token) > 100:
        return None
    with access.using_scope(access.system_scope("share link")):
        link = db.session.scalar(select(ShareLink).where(ShareLink.token_sha256 == _hash(token)))
        if link is None or link.revoked_at is not None:
            return None
        expires = link.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=utcnow().tzinfo)
        if expires <= utcnow() or link.report.status != ReportStatus.PUBLISHED:
            return None
    access.set_scope(access.client_scope_of(link.client_id, "share link"))
    return link
