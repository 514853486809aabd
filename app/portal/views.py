"""The client's own space. A client user sees its company's; a lead may open
any client's to see what the client sees; a CM has no business here."""

from flask import abort, g, redirect, render_template, url_for
from flask_login import current_user

from app.access import client_of_member, install_client_scope, roles_required
from app.agency.services import get_settings, legal_form_label
from app.portal import bp
from app.portal.services import portal_home, report_hours
from app.reports.forms import QuestionForm
from app.reports.queries import SIGNOFF_BADGES, SIGNOFF_LABELS
from app.reports.services import effective_signoff, get_report_or_404
from app.timeutil import today
from app.validators import format_iban

install_client_scope(bp)


@bp.route("/portal")
@roles_required("client")
def entry():
    client = client_of_member(current_user)
    if client is None:
        abort(404)
    return redirect(url_for("portal.home", client_id=client.id))


@bp.route("/clients/<int:client_id>/portal")
@roles_required("client", "lead")
def home():
    return render_template(
        "portal/home.html",
        home=portal_home(g.client),
        preview=current_user.is_lead,
        format_iban=format_iban,
        legal_form_label=legal_form_label,
        signoff_labels=SIGNOFF_LABELS,
        signoff_badges=SIGNOFF_BADGES,
        today=today(),
    )


@bp.route("/clients/<int:client_id>/portal/reports/<int:report_id>")
@roles_required("client", "lead")
def report(report_id: int):
    """One published report as its client reads it (a draft is 404 for a
    client user; a lead previewing sees what the client will see)."""
    report = get_report_or_404(g.client, report_id)
    settings = get_settings()
    return render_template(
        "portal/report.html",
        report=report,
        hours=report_hours(report),
        signoff=effective_signoff(report, settings.signoff_days),
        signoff_days=settings.signoff_days,
        signoff_labels=SIGNOFF_LABELS,
        signoff_badges=SIGNOFF_BADGES,
        question_form=QuestionForm(formdata=None),
        preview=current_user.is_lead,
    )
