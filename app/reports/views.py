"""The report pages: the client's reports and a report's draft for the lead
and the CMs, downloads, the client's sign-off (from the portal) and the
public share link."""

from __future__ import annotations

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.access import install_client_scope, public, roles_required
from app.agency.services import get_settings
from app.auth.models import Role
from app.contracts.models import Contract
from app.contracts.services import client_contracts
from app.documents.rendering import PENDING_STATES
from app.documents.services import get_document
from app.documents.views import content_disposition, document_response
from app.extensions import db
from app.reports import bp, queries
from app.reports.forms import AnswerForm, DraftForm, OpenReportForm, QuestionForm, ShareLinkForm
from app.reports.models import RenderState, Report, ReportStatus
from app.reports.services import (
    ReportError,
    answer_question,
    ask_question,
    can_edit,
    create_share_link,
    effective_signoff,
    ensure_report,
    find_share_link,
    get_report_or_404,
    request_publish,
    request_render,
    revoke_share_link,
    update_draft,
)
from app.reports.services import approve as approve_report
from app.timesheets.calendar import add_months, month_end, month_start
from app.timeutil import today

install_client_scope(bp)

NEW_LINK_KEY = "reports_new_share_link"


def _report(report_id: int) -> Report:
    """A report of g.client the user may see (a draft is 404 for a client user)."""
    return get_report_or_404(g.client, report_id)


def _staff_report(report_id: int) -> Report:
    """A report for the agency's pages: a client user sees none of them."""
    report = _report(report_id)
    if current_user.role == Role.CLIENT:
        abort(404)
    return report


def _lead_report(report_id: int) -> Report:
    report = _staff_report(report_id)
    if current_user.role != Role.LEAD:
        abort(403)
    return report


def _pdf(document_sha256: str | None, name: str, *, attachment: bool = True):
    document = get_document(document_sha256) if document_sha256 else None
    if document is None:
        abort(404)
    response = document_response(document, download_name=name if attachment else None)
    if not attachment:
        response.headers["Content-Disposition"] = content_disposition(name, attachment=False)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# -- the client's reports ----------------------------------------------------------------


def _open_form(contracts: list[Contract], **kwargs) -> OpenReportForm:
    form = OpenReportForm(**kwargs)
    form.contract.choices = [(c.id, c.title) for c in contracts]
    return form


@bp.route("/clients/<int:client_id>/reports")
@roles_required(Role.LEAD, Role.CM)
def index():
    contract_id = request.args.get("contract", type=int)
    page = db.paginate(
        queries.client_reports_query(g.client, contract_id),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    form = _open_form(client_contracts(g.client), formdata=None, month=add_months(month_start(today()), -1))
    return render_template(
        "reports/index.html",
        page=page,
        form=form,
        contract_id=contract_id,
        today_month=f"{today():%Y-%m}",
        signoff_days=get_settings().signoff_days,
        effective_signoff=effective_signoff,
        q=queries,
    )


@bp.route("/clients/<int:client_id>/reports/open", methods=["POST"], endpoint="open")
@roles_required(Role.LEAD, Role.CM)
def open_report():
    contracts = client_contracts(g.client)
    form = _open_form(contracts)
    if form.validate_on_submit():
        contract = next(c for c in contracts if c.id == form.contract.data)
        month = month_start(form.month.data)
        if month > month_start(today()):
            flash(
                _("Ce mois n'a pas commencé : un rapport porte sur un mois passé ou le mois en cours."),
                "error",
            )
        elif not contract.overlaps(month, month_end(month)):
            flash(_("Le contrat « %(title)s » ne couvre pas ce mois.", title=contract.title), "error")
        else:
            report = ensure_report(contract, month)
            db.session.commit()
            return redirect(url_for("reports.show", report_id=report.id))
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return redirect(url_for("reports.index"))


# -- one report (lead and CMs) -------------------------------------------------------------


def _draft_form(report: Report, channels: list[str], **kwargs) -> DraftForm:
    if request.method == "GET":
        figures = {f.channel: f for f in report.figures}
        data = {"highlights": report.highlights}
        for channel in channels:
            if channel in figures:  # a FormField reads its sub-form's values from an object
                data[f"figure_{channel}"] = figures[channel]
        kwargs["data"] = data
    return DraftForm.for_channels(channels, **kwargs)


@bp.route("/clients/<int:client_id>/reports/<int:report_id>", methods=["GET", "POST"])
def show(report_id: int):
    report = _report(report_id)
    if current_user.role == Role.CLIENT:
        if request.method == "POST":
            abort(403)
        return redirect(url_for("portal.report", report_id=report.id))
    editable = can_edit(current_user, report)
    channels = queries.report_channels(report)
    form = _draft_form(report, channels)
    if request.method == "POST":
        if not editable:
            abort(403)
        if form.validate_on_submit():
            try:
                update_draft(current_user, report, form.highlights.data or "", form.figures())
            except ReportError as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                db.session.commit()
                flash(_("Brouillon enregistré."), "success")
                return redirect(url_for("reports.show", report_id=report.id))
    settings = get_settings()
    links = queries.share_links(report) if current_user.role == Role.LEAD else []
    return render_template(
        "reports/show.html",
        report=report,
        form=form,
        editable=editable,
        channels=channels,
        previous=queries.previous_figures(report),
        status=queries.render_status(report),
        pending=report.render_state in PENDING_STATES,
        signoff=effective_signoff(report, settings.signoff_days),
        signoff_days=settings.signoff_days,
        deadline=queries.signoff_deadline(report, settings.signoff_days),
        answer_form=AnswerForm(formdata=None),
        share_form=ShareLinkForm(formdata=None, days=settings.share_link_days),
        links=links,
        new_link=session.pop(NEW_LINK_KEY, None) if current_user.role == Role.LEAD else None,
        q=queries,
    )


@bp.route("/clients/<int:client_id>/reports/<int:report_id>/preview")
def preview(report_id: int):
    from app.reports.document import render_report_html

    report = _staff_report(report_id)
    return render_report_html(report, for_pdf=False)


@bp.route("/clients/<int:client_id>/reports/<int:report_id>/status")
def status(report_id: int):
    report = _staff_report(report_id)
    return jsonify(queries.render_status(report))


@bp.route("/clients/<int:client_id>/reports/<int:report_id>/render", methods=["POST"])
def render(report_id: int):
    report = _staff_report(report_id)
    if not can_edit(current_user, report):
        abort(403)
    if report.render_state in PENDING_STATES:
        flash(_("Un PDF de ce rapport est déjà en préparation."), "info")
        return redirect(url_for("reports.show", report_id=report.id))
    request_render(report)
    db.session.commit()
    if report.render_state == RenderState.DONE:
        flash(_("L'aperçu PDF est prêt."), "success")
    elif report.render_state == RenderState.FAILED:
        flash(_("L'aperçu PDF n'a pas pu être généré : voir la raison ci-dessous."), "error")
    else:
        flash(_("Aperçu PDF demandé : il sera prêt dans quelques instants."), "info")
    return redirect(url_for("reports.show", report_id=report.id))


@bp.route("/clients/<int:client_id>/reports/<int:report_id>/publish", methods=["POST"])
def publish(report_id: int):
    report = _lead_report(report_id)
    if report.render_state in PENDING_STATES:
        flash(_("Un PDF de ce rapport est déjà en préparation : attendez qu'il soit prêt."), "info")
        return redirect(url_for("reports.show", report_id=report.id))
    try:
        number = request_publish(current_user, report)
    except ReportError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("reports.show", report_id=report.id))
    db.session.commit()
    if report.latest is not None and report.latest.number >= number:
        flash(_("Version %(n)d publiée : le client la voit dans son espace.", n=number), "success")
    elif report.render_state == RenderState.FAILED:
        flash(_("La publication a échoué : voir la raison ci-dessous."), "error")
    else:
        flash(_("Publication demandée : le PDF est en cours de rendu."), "info")
    return redirect(url_for("reports.show", report_id=report.id))


@bp.route("/clients/<int:client_id>/reports/<int:report_id>/answer", methods=["POST"])
def answer(report_id: int):
    report = _staff_report(report_id)
    if not can_edit(current_user, report):
        abort(403)
    form = AnswerForm()
    if not form.validate_on_submit():
        flash(next(iter(form.body.errors), _("Écrivez votre réponse.")), "error")
    else:
        try:
            answer_question(current_user, report, form.body.data)
        except ReportError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Réponse envoyée au client."), "success")
    return redirect(url_for("reports.show", report_id=report.id, _anchor="signoff"))


# -- downloads -------------------------------------------------------------------------------


@bp.route("/clients/<int:client_id>/reports/<int:report_id>/draft.pdf")
def draft_pdf(report_id: int):
    report = _staff_report(report_id)
    return _pdf(report.draft_sha256, queries.download_name(report))


@bp.route("/clients/<int:client_id>/reports/<int:report_id>/versions/<int:number>.pdf")
def version_pdf(report_id: int, number: int):
    report = _report(report_id)
    version = queries.get_version_or_404(report, number)
    if current_user.role == Role.CLIENT and version.number != report.latest.number:
        abort(404)  # the client reads the latest version only
    return _pdf(version.document_sha256, queries.download_name(report, version.number))


# -- the client's sign-off (from its portal) ------------------------------------------------


def _client_report(report_id: int) -> Report:
    report = _report(report_id)
    if current_user.role != Role.CLIENT:
        abort(403)
    return report


@bp.route("/clients/<int:client_id>/reports/<int:report_id>/approve", methods=["POST"])
def approve(report_id: int):
    report = _client_report(report_id)
    try:
        approve_report(current_user, report)
    except ReportError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Merci : vous avez validé ce rapport."), "success")
    return redirect(url_for("portal.report", report_id=report.id))


@bp.route("/clients/<int:client_id>/reports/<int:report_id>/question", methods=["POST"])
def question(report_id: int):
    report = _client_report(report_id)
    form = QuestionForm()
    if not form.validate_on_submit():
        flash(next(iter(form.body.errors), _("Écrivez votre question.")), "error")
    else:
        try:
            ask_question(current_user, report, form.body.data)
        except ReportError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Votre question a été transmise à l'agence."), "success")
    return redirect(url_for("portal.report", report_id=report.id, _anchor="signoff"))


# -- share links -------------------------------------------------------------------------------


@bp.route("/clients/<int:client_id>/reports/<int:report_id>/links", methods=["POST"])
def share(report_id: int):
    report = _lead_report(report_id)
    form = ShareLinkForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    else:
        try:
            _link, token = create_share_link(current_user, report, form.days.data, form.label.data or "")
        except ReportError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            # Shown once, on the next page, then forgotten (only its hash is kept).
            session[NEW_LINK_KEY] = url_for("reports.shared", token=token, _external=True)
            flash(_("Lien de partage créé."), "success")
    return redirect(url_for("reports.show", report_id=report.id, _anchor="share"))


@bp.route("/clients/<int:client_id>/reports/<int:report_id>/links/<int:link_id>/revoke", methods=["POST"])
def revoke_link(report_id: int, link_id: int):
    report = _lead_report(report_id)
    link = queries.get_share_link_or_404(report, link_id)
    revoke_share_link(current_user, link)
    db.session.commit()
    flash(_("Lien révoqué : il ne donne plus accès au rapport."), "success")
    return redirect(url_for("reports.show", report_id=report.id, _anchor="share"))


@bp.route("/share/<token>")
@public
def shared(token: str):
    """The latest published version, for whoever holds a live link; anything
    else (unknown, expired, revoked) is the ordinary 404."""
    link = find_share_link(token)
    if link is None or link.report.status != ReportStatus.PUBLISHED or link.report.latest is None:
        abort(404)
    report = link.report
    response = _pdf(
        report.latest.document_sha256,
        queries.download_name(report, report.latest.number),
        attachment=False,
    )
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
