"""What the lead does to one invoice: edit a draft, recalculate it from its
month, delete it, decide past the budget ceiling, issue it; correct an
issued invoice with a credit note, or cancel it. Every change is a POST;
a refused one answers with a message and changes nothing."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.access import lead_required
from app.extensions import db
from app.invoices import bp
from app.invoices.forms import CancelForm, CreditNoteForm, InvoiceForm, template_row
from app.invoices.guards import FrozenInvoiceError
from app.invoices.models import InvoiceStatus
from app.invoices.services import (
    InvoiceError,
    cancel_invoice,
    create_credit_note,
    decide_ceiling,
    delete_draft,
    issue_invoice,
    refresh_draft,
    update_draft,
)
from app.invoices.views import default_vat, flash_form_errors, lead_invoice, to_show

REFUSED = (InvoiceError, FrozenInvoiceError)


def _refuse_if_issued(invoice) -> bool:
    if invoice.is_draft:
        return False
    flash(_("Une facture émise ne change plus : corrigez-la par un avoir."), "error")
    return True


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/edit", methods=["GET", "POST"])
@lead_required
def edit(invoice_id: int):
    invoice = lead_invoice(invoice_id)
    if _refuse_if_issued(invoice):
        return to_show(invoice.id)
    if request.method == "GET":
        form = InvoiceForm(
            formdata=None,
            data={
                "title": invoice.title,
                "period_start": invoice.period_start,
                "period_end": invoice.period_end,
                "lines": list(invoice.lines),
            },
        )
        form.pad_rows()
    else:
        form = InvoiceForm()
    del form.contract  # an invoice keeps the contract it was made for
    if request.method == "POST" and form.validate_on_submit():
        try:
            update_draft(
                current_user,
                invoice,
                title=form.title.data,
                lines=form.line_inputs(default_vat(invoice.contract, invoice.month)),
                period_start=form.period_start.data,
                period_end=form.period_end.data,
            )
        except REFUSED as error:
            db.session.rollback()
            form.lines_error = str(error)
        else:
            db.session.commit()
            flash(_("Brouillon enregistré."), "success")
            return to_show(invoice.id)
    return render_template("invoices/form.html", form=form, invoice=invoice, template_row=template_row())


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/refresh", methods=["POST"])
@lead_required
def refresh(invoice_id: int):
    """Recompute a contract draft from its month's time (edits are lost)."""
    invoice = lead_invoice(invoice_id)
    try:
        refresh_draft(current_user, invoice)
    except REFUSED as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Brouillon recalculé à partir des saisies du mois."), "success")
    return to_show(invoice_id)


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/delete", methods=["POST"])
@lead_required
def delete(invoice_id: int):
    invoice = lead_invoice(invoice_id)
    title = invoice.title
    try:
        delete_draft(current_user, invoice)
    except REFUSED as error:
        db.session.rollback()
        flash(str(error), "error")
        return to_show(invoice_id)
    db.session.commit()
    flash(_("Brouillon « %(title)s » supprimé.", title=title), "success")
    return redirect(url_for("invoices.client_invoices"))


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/ceiling", methods=["POST"])
@lead_required
def ceiling(invoice_id: int):
    """The lead's choice past the budget ceiling: bill it all, or cap it."""
    invoice = lead_invoice(invoice_id)
    decision = request.form.get("decision")
    if decision not in ("confirm", "cap"):
        flash(_("Choisissez : confirmer le dépassement ou plafonner au budget."), "error")
        return to_show(invoice_id)
    try:
        decide_ceiling(current_user, invoice, confirm=decision == "confirm")
    except REFUSED as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        if decision == "confirm":
            flash(_("Dépassement confirmé : la facture compte toutes les heures du mois."), "success")
        else:
            flash(_("Facture plafonnée au budget du mois."), "success")
    return to_show(invoice_id)


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/issue", methods=["POST"])
@lead_required
def issue(invoice_id: int):
    invoice = lead_invoice(invoice_id)
    try:
        issue_invoice(current_user, invoice)
    except REFUSED as error:
        db.session.rollback()
        flash(str(error), "error")
        return to_show(invoice_id)
    number = invoice.number
    credit = invoice.is_credit_note
    db.session.commit()
    if credit:
        flash(_("Avoir %(number)s émis : son PDF est en préparation.", number=number), "success")
    else:
        flash(_("Facture %(number)s émise : son PDF est en préparation.", number=number), "success")
    return to_show(invoice_id)


# -- credit notes --------------------------------------------------------------------------


def _creditable(invoice) -> bool:
    if invoice.is_draft or invoice.is_credit_note:
        flash(_("Un avoir corrige une facture émise."), "error")
        return False
    if invoice.status == InvoiceStatus.CANCELLED:
        flash(_("Cette facture est déjà annulée par un avoir."), "error")
        return False
    return True


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/credit-note", methods=["GET", "POST"])
@lead_required
def credit_note(invoice_id: int):
    """A draft credit note against an issued invoice: all of it, or chosen
    lines and amounts. The lead then issues it like an invoice."""
    invoice = lead_invoice(invoice_id)
    if not _creditable(invoice):
        return to_show(invoice_id)
    if request.method == "GET":
        form = CreditNoteForm(formdata=None, data={"lines": list(invoice.lines)})
        form.pad_rows(1)
    else:
        form = CreditNoteForm()
    if request.method == "POST" and form.validate_on_submit():
        lines = form.line_inputs(default_vat(invoice.contract, invoice.month)) if form.partial else None
        try:
            credit = create_credit_note(current_user, invoice, reason=form.reason.data, lines=lines)
        except REFUSED as error:
            db.session.rollback()
            form.lines_error = str(error)
        else:
            db.session.commit()
            flash(_("Avoir préparé (brouillon) : relisez-le, puis émettez-le."), "success")
            return to_show(credit.id)
    return render_template(
        "invoices/credit_note.html",
        form=form,
        invoice=invoice,
        cancel_form=CancelForm(formdata=None),
        template_row=template_row(),
    )


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/cancel", methods=["POST"])
@lead_required
def cancel(invoice_id: int):
    """Cancel an issued invoice: a credit note for all of it, issued now."""
    invoice = lead_invoice(invoice_id)
    if not _creditable(invoice):
        return to_show(invoice_id)
    form = CancelForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("invoices.credit_note", invoice_id=invoice_id, _anchor="cancel"))
    try:
        credit = cancel_invoice(current_user, invoice, form.reason.data)
    except REFUSED as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("invoices.credit_note", invoice_id=invoice_id, _anchor="cancel"))
    number, original = credit.number, invoice.number
    db.session.commit()
    flash(
        _("Facture %(original)s annulée par l'avoir %(number)s.", original=original, number=number), "success"
    )
    return to_show(invoice_id)
