"""Invoice pages: the lead's invoices, drafts, issuing, credit notes and
payments; the PDF download shared by the lead and the client's users.

This module holds the lists and the reading of one invoice; what the lead
does to an invoice (edit, issue, credit...) is in views_actions.py."""

from __future__ import annotations

from datetime import date

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from wtforms import SelectChoice

from app.access import install_client_scope, lead_required, roles_required
from app.agency.services import get_settings
from app.contracts.models import Contract
from app.contracts.services import client_contracts, terms_for_month, terms_on
from app.documents.rendering import PENDING_STATES
from app.documents.services import get_document
from app.documents.views import document_response
from app.extensions import db
from app.fields import parse_id
from app.formatting import month as month_label
from app.invoices import bp, listing
from app.invoices import services as invoice_services
from app.invoices.forms import (
    DEFAULT_VAT,
    EXTRA_ROWS,
    CancelForm,
    DraftMonthForm,
    InvoiceFilterForm,
    InvoiceForm,
    template_row,
)
from app.invoices.guards import FrozenInvoiceError
from app.invoices.models import CeilingDecision, Invoice
from app.invoices.services import (
    InvoiceError,
    buyer_snapshot,
    create_manual_draft,
    credit_notes_of,
    draft_month_invoices,
    get_invoice_or_404,
    issue_blockers,
    issue_invoice,
    request_render,
    vat_groups,
)
from app.timesheets.calendar import add_months, month_end, month_start
from app.timeutil import today

install_client_scope(bp)


def download_name(invoice) -> str:
    """ "Facture F2026-0001 - Boulangerie Dupont.pdf", built by the server."""
    what = "Avoir" if invoice.is_credit_note else "Facture"
    return f"{what} {invoice.number} - {invoice.client.name}.pdf"


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/pdf")
@roles_required("lead", "client")
def download(invoice_id: int):
    """An issued invoice's PDF (PDF/A-3 with its Factur-X XML), as an
    attachment never kept in any cache."""
    invoice = get_invoice_or_404(g.client, invoice_id, current_user)
    document = get_document(invoice.pdf_sha256) if invoice.pdf_sha256 else None
    if document is None:
        abort(404)
    return document_response(document, download_name=download_name(invoice))


# -- helpers shared with views_actions ---------------------------------------------------


def lead_invoice(invoice_id: int) -> Invoice:
    """An invoice of g.client (the views using it are for leads only)."""
    return get_invoice_or_404(g.client, invoice_id, current_user)


def to_show(invoice_id: int, anchor: str | None = None):
    return redirect(url_for("invoices.show", invoice_id=invoice_id, _anchor=anchor))


def default_vat(contract: Contract | None, month: date | None = None):
    """The VAT rate of a line typed without one: the contract's, else 20 %."""
    if contract is not None:
        terms = terms_for_month(contract, month) if month else terms_on(contract, today())
        terms = terms or (contract.terms[-1] if contract.terms else None)
        if terms is not None:
            return terms.vat_rate
    return DEFAULT_VAT


def flash_form_errors(form) -> None:
    for errors in form.errors.values():
        for error in errors:
            if not isinstance(error, (dict, list)):  # a sub-form's errors are not messages
                flash(str(error), "error")


def last_month() -> date:
    return add_months(month_start(today()), -1)


# -- the lead's invoices -------------------------------------------------------------------


def _filter_form() -> tuple[InvoiceFilterForm, listing.Filters]:
    form = InvoiceFilterForm(request.args)
    form.client.choices = [SelectChoice("", _("Tous les clients"))] + [
        SelectChoice(c.id, c.name) for c in listing.clients_with_invoices()
    ]
    form.year.choices = [SelectChoice("", _("Toutes les années"))] + [
        SelectChoice(year, str(year)) for year in listing.invoice_years()
    ]
    if request.args and not form.validate():
        flash(_("Certains filtres sont invalides : ils sont ignorés."), "warning")
        return form, listing.Filters()
    return form, listing.Filters(
        q=(form.q.data or "").strip(),
        status=form.status.data or "",
        client_id=form.client.data,
        kind=form.kind.data or "",
        month=form.month.data,
        year=form.year.data,
    )


@bp.route("/invoices")
@lead_required
def index():
    form, filters = _filter_form()
    day = today()
    stmt = listing.filtered_invoices(filters, day)
    totals = listing.totals(stmt)
    page = db.paginate(
        listing.ordered(stmt),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
        count=False,
    )
    page.total = totals.count
    previous = last_month()
    # The month to prepare: the one filtered on if it is over, else last month.
    month = filters.month if filters.month and filters.month <= previous else previous
    draft_form = DraftMonthForm(formdata=None, month=month)
    return render_template(
        "invoices/index.html",
        form=form,
        filters=filters,
        page=page,
        totals=totals,
        today=day,
        draft_form=draft_form,
        draft_month=month,
        max_month=f"{previous:%Y-%m}",
        has_receivables="invoices.receivables" in current_app.view_functions,
        L=listing,
    )


def _bulk_summary(issued: list[Invoice], refused: list[tuple[str, str]]) -> tuple[str, str]:
    parts = []
    if issued:
        parts.append(ngettext("%(num)d facture émise", "%(num)d factures émises", len(issued)))
    elif not refused:
        return _("Aucun brouillon sélectionné."), "warning"
    if refused:
        reasons = " ; ".join(f"{name} — {reason}" for name, reason in refused)
        parts.append(ngettext("%(num)d refusée", "%(num)d refusées", len(refused)) + " : " + reasons)
    category = "success" if not refused else ("warning" if issued else "error")
    return " ; ".join(parts), category


@bp.route("/invoices/issue", methods=["POST"])
@lead_required
def issue_many():
    """Issue the chosen drafts, each in its own transaction: one refused
    draft does not stop the others."""
    posted = [parse_id(value) for value in request.form.getlist("ids")]
    if None in posted:  # not an invoice's id (text, out of the id column's range)
        abort(400)
    ids = sorted(set(posted))
    back = {k: v for k, v in request.form.items() if k.startswith("f_") and v}
    back = {k[2:]: v for k, v in back.items() if k[2:] in ("q", "status", "client", "kind", "month", "year")}
    drafts = [(d.id, d.client.name, d.title) for d in listing.drafts_by_ids(ids)]
    missing = len(ids) - len(drafts)
    issued: list[Invoice] = []
    refused: list[tuple[str, str]] = []
    for invoice_id, client_name, _title in drafts:
        invoice = db.session.get(Invoice, invoice_id)
        try:
            issue_invoice(current_user, invoice)
            db.session.commit()
        except (InvoiceError, FrozenInvoiceError) as error:
            db.session.rollback()
            refused.append((client_name, str(error)))
        except SQLAlchemyError:
            db.session.rollback()
            current_app.logger.exception("issuing invoice %s failed", invoice_id)
            refused.append((client_name, _("erreur inattendue, réessayez.")))
        else:
            issued.append(invoice)
    if missing:
        gone = ngettext(
            "%(num)d n'était plus un brouillon.", "%(num)d n'étaient plus des brouillons.", missing
        )
        refused.append((_("Autres"), gone))
    message, category = _bulk_summary(issued, refused)
    flash(message, category)
    return redirect(url_for("invoices.index", **back))


@bp.route("/invoices/draft-month", methods=["POST"])
@lead_required
def draft_month():
    """Draft the month's invoice of every contract, without the full close."""
    form = DraftMonthForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("invoices.index"))
    month = month_start(form.month.data)
    if month_end(month) >= today():
        flash(
            _(
                "%(month)s n'est pas terminé : ses factures se préparent à partir du 1er du mois suivant.",
                month=month_label(month).capitalize(),
            ),
            "error",
        )
        return redirect(url_for("invoices.index"))
    invoices = draft_month_invoices(current_user, month)
    db.session.commit()
    drafts = sum(1 for invoice in invoices if invoice.is_draft)
    if not invoices:
        flash(
            _("Aucun contrat ne court en %(month)s : aucune facture à préparer.", month=month_label(month)),
            "info",
        )
    else:
        flash(
            ngettext(
                "%(num)d brouillon de facture pour %(month)s, à relire avant de l'émettre.",
                "%(num)d brouillons de facture pour %(month)s, à relire avant de les émettre.",
                drafts,
                month=month_label(month),
            )
            + (
                " " + ngettext("%(num)d déjà émise.", "%(num)d déjà émises.", len(invoices) - drafts)
                if len(invoices) > drafts
                else ""
            ),
            "success",
        )
    return redirect(url_for("invoices.index", month=f"{month:%Y-%m}", status="draft"))


# -- one client's invoices -----------------------------------------------------------------


@bp.route("/clients/<int:client_id>/invoices")
@lead_required
def client_invoices():
    invoices = invoice_services.client_invoices(g.client, current_user)
    return render_template("invoices/client.html", invoices=invoices, today=today(), L=listing)


def contract_choices(contracts: list[Contract]) -> list[SelectChoice]:
    return [SelectChoice("", _("— Aucun contrat —"))] + [SelectChoice(c.id, c.title) for c in contracts]


@bp.route("/clients/<int:client_id>/invoices/new", methods=["GET", "POST"])
@lead_required
def new():
    contracts = client_contracts(g.client)
    form = InvoiceForm()
    form.contract.choices = contract_choices(contracts)
    if request.method == "GET":
        form.pad_rows(EXTRA_ROWS - 1)
    elif form.validate_on_submit():
        contract = next((c for c in contracts if c.id == form.contract.data), None)
        try:
            invoice = create_manual_draft(
                current_user,
                g.client,
                title=form.title.data,
                lines=form.line_inputs(default_vat(contract)),
                contract=contract,
                period_start=form.period_start.data,
                period_end=form.period_end.data,
            )
        except InvoiceError as error:
            db.session.rollback()
            form.lines_error = str(error)
        else:
            db.session.commit()
            flash(_("Brouillon de facture enregistré : relisez-le, puis émettez-le."), "success")
            return to_show(invoice.id)
    return render_template("invoices/form.html", form=form, invoice=None, template_row=template_row())


# -- one invoice -------------------------------------------------------------------------------


def preview_available() -> bool:
    return "invoices.preview" in current_app.view_functions


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/preview")
@lead_required
def preview(invoice_id: int):
    """The document as HTML, live: a draft as it would be issued today."""
    from app.invoices.document import invoice_html

    response = current_app.make_response(invoice_html(lead_invoice(invoice_id), for_pdf=False))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>")
@lead_required
def show(invoice_id: int):
    invoice = lead_invoice(invoice_id)
    franchise = get_settings().is_franchise if invoice.is_draft else invoice.vat_franchise
    blockers = issue_blockers(invoice) if invoice.is_draft else []
    if invoice.ceiling_decision == CeilingDecision.PENDING:  # the ceiling box says it already
        ceiling = _("Le brouillon dépasse le plafond du budget : confirmez le dépassement ou plafonnez.")
        blockers = [problem for problem in blockers if problem != ceiling]
    credit_notes = []
    if not invoice.is_draft and not invoice.is_credit_note:
        credit_notes = credit_notes_of(invoice) + listing.draft_credit_notes_of(invoice)
    return render_template(
        "invoices/show.html",
        invoice=invoice,
        buyer=invoice.buyer if not invoice.is_draft else buyer_snapshot(invoice.client),
        groups=vat_groups(invoice.lines, franchise),
        franchise=franchise,
        blockers=blockers,
        credit_notes=credit_notes,
        status=listing.render_status(invoice),
        pending=invoice.render_state in PENDING_STATES,
        cancel_form=CancelForm(formdata=None),
        today=today(),
        preview=preview_available(),
        L=listing,
    )


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/status")
@lead_required
def status(invoice_id: int):
    return jsonify(listing.render_status(lead_invoice(invoice_id)))


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/render", methods=["POST"])
@lead_required
def render(invoice_id: int):
    """Try the PDF of an issued invoice again (after a failed rendering)."""
    invoice = lead_invoice(invoice_id)
    if invoice.is_draft:
        flash(_("Un brouillon n'a pas de PDF : émettez d'abord la facture."), "error")
    elif invoice.pdf_sha256 is not None:
        flash(_("Le PDF de cette facture existe déjà ; il ne change plus."), "info")
    elif invoice.render_state in PENDING_STATES:
        flash(_("Le PDF de cette facture est déjà en préparation."), "info")
    else:
        request_render(invoice)
        db.session.commit()
        db.session.refresh(invoice)
        if invoice.pdf_sha256 is not None:
            flash(_("Le PDF de la facture est prêt."), "success")
        elif invoice.render_state == "failed":
            flash(_("Le PDF n'a pas pu être généré : voir la raison ci-dessous."), "error")
        else:
            flash(_("PDF demandé : il sera prêt dans quelques instants."), "info")
    return to_show(invoice_id, "pdf")


# What the lead does to one invoice, then receivables, payments and exports.
from app.invoices import views_actions, views_receivables  # noqa: E402, F401
