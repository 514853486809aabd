"""A client's data page (leads): export everything as one archive, and erase
its personal data once the retention period has passed."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from app.access import install_client_scope, lead_required
from app.documents.views import content_disposition
from app.extensions import db
from app.invoices.models import Invoice, InvoiceStatus, Payment
from app.lifecycle import bp
from app.lifecycle.export import export_client
from app.lifecycle.forms import EraseForm
from app.lifecycle.services import (
    ERASED_ACTION,
    EXPORTED_ACTION,
    INVOICE_RETENTION_YEARS,
    LifecycleError,
    erase_personal_data,
    erasure_refusal,
    last_event,
    retention,
)
from app.reports.models import ReportVersion
from app.timesheets.models import TimeEntry
from app.timeutil import today

install_client_scope(bp)


def _count(column, *where) -> int:
    return db.session.scalar(select(func.count(column)).where(*where)) or 0


def _render(form: EraseForm, status: int = 200):
    client = g.client
    facts = {
        "reports": _count(ReportVersion.id, ReportVersion.client_id == client.id),
        "invoices": _count(Invoice.id, Invoice.client_id == client.id, Invoice.status != InvoiceStatus.DRAFT),
        "entries": _count(TimeEntry.id, TimeEntry.client_id == client.id),
        "payments": _count(Payment.id, Payment.client_id == client.id),
    }
    return (
        render_template(
            "lifecycle/show.html",
            client=client,
            form=form,
            facts=facts,
            kept=retention(client),
            refusal=erasure_refusal(client, today()),
            invoice_years=INVOICE_RETENTION_YEARS,
            last_export=last_event(client, EXPORTED_ACTION),
            last_erasure=last_event(client, ERASED_ACTION),
        ),
        status,
    )


@bp.route("/clients/<int:client_id>/data")
@lead_required
def show():
    return _render(EraseForm(formdata=None))


@bp.route("/clients/<int:client_id>/data/export", methods=["POST"])
@lead_required
def export():
    """Build the archive and answer it as a download (never cached)."""
    archive = export_client(current_user, g.client)
    db.session.commit()
    response = current_app.response_class(archive.content, mimetype="application/zip")
    response.content_length = len(archive.content)
    response.headers["Content-Disposition"] = content_disposition(archive.file_name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/clients/<int:client_id>/data/erase", methods=["POST"])
@lead_required
def erase():
    form = EraseForm()
    if not form.validate_on_submit():
        return _render(form, 400)
    try:
        erase_personal_data(current_user, g.client, form.confirm_name.data, today())
    except LifecycleError as error:
        db.session.rollback()
        if error.field == "confirm_name":
            form.confirm_name.errors = [*form.confirm_name.errors, error.message]
        else:
            flash(error.message, "error")
        return _render(form, 400)
    db.session.commit()
    flash(
        _(
            "Les données personnelles de « %(name)s » ont été effacées. Ses factures, paiements et "
            "contrats sont conservés.",
            name=g.client.name,
        ),
        "success",
    )
    return redirect(url_for("lifecycle.show"))
