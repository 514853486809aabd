"""The client's own space. A client user sees its company's; a lead may open
any client's to see what the client sees; a CM has no business here."""

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import client_of_member, install_client_scope, roles_required
from app.agency.services import get_settings, legal_form_label
from app.extensions import db
from app.portal import bp
from app.portal.billing import (
    available_invoices_query,
    card_payment_possible,
    get_portal_invoice_or_404,
    invoice_page,
    portal_invoice,
)
from app.portal.services import portal_home, portal_reports, published_reports_query, report_hours
from app.reports.forms import QuestionForm
from app.reports.queries import SIGNOFF_BADGES, SIGNOFF_LABELS
from app.reports.services import effective_signoff, get_report_or_404
from app.timeutil import today
from app.validators import format_iban

install_client_scope(bp)


def _page(stmt):
    return db.paginate(
        stmt,
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )


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


@bp.route("/clients/<int:client_id>/portal/reports")
@roles_required("client", "lead")
def reports():
    """Every published report of the company, newest month first."""
    page = _page(published_reports_query(g.client))
    return render_template(
        "portal/reports.html",
        page=page,
        reports=portal_reports(g.client, list(page.items)),
        signoff_labels=SIGNOFF_LABELS,
        signoff_badges=SIGNOFF_BADGES,
        preview=current_user.is_lead,
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


@bp.route("/clients/<int:client_id>/portal/invoices")
@roles_required("client", "lead")
def invoices():
    """Every invoice and credit note the company may see, newest first."""
    day = today()
    page = _page(available_invoices_query(g.client))
    return render_template(
        "portal/invoices.html",
        page=page,
        invoices=[portal_invoice(i, day) for i in page.items],
        preview=current_user.is_lead,
    )


@bp.route("/clients/<int:client_id>/portal/invoices/<int:invoice_id>")
@roles_required("client", "lead")
def invoice(invoice_id: int):
    """One invoice as the client sees it: its lines and totals, what is left
    to pay and how to pay it (card when enabled, always by transfer)."""
    invoice = get_portal_invoice_or_404(g.client, invoice_id, current_user)
    preview = current_user.is_lead
    back_url = None
    if preview and "invoices.show" in current_app.view_functions:  # the lead's own page of it
        back_url = url_for("invoices.show", invoice_id=invoice.id)
    return render_template(
        "portal/invoice.html",
        doc=invoice_page(invoice, today()),
        format_iban=format_iban,
        card=card_payment_possible(invoice),
        preview=preview,
        back_url=back_url,
    )
