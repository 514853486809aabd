"""Receivables: payments recorded by hand, what is owed and late, reminders,
exports for the accountant. Lead only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.access import lead_required
from app.auth.models import Role
from app.extensions import db
from app.formatting import money
from app.invoices import bp, export, listing
from app.invoices.models import Invoice, InvoiceStatus
from app.invoices.receipts import record_payment
from app.invoices.receivables import (
    BUCKETS,
    SORTS,
    Filters,
    clients_owing,
    receivable_totals,
    receivables_query,
)
from app.invoices.receivables_forms import METHOD_LABELS, PaymentForm
from app.invoices.reminders import next_reminder_at, send_reminder
from app.invoices.services import InvoiceError, get_invoice_or_404
from app.timesheets.calendar import add_months, month_start, parse_month
from app.timeutil import today

BUCKET_LABELS = {
    "not_due": _l("pas encore échu"),
    "late_30": _l("1 à 30 jours de retard"),
    "late_60": _l("31 à 60 jours de retard"),
    "late_more": _l("plus de 60 jours de retard"),
}


# -- the payments of an invoice (a partial of the invoice page) ---------------------------


@bp.app_template_global("payment_form")
def payment_form(invoice: Invoice) -> PaymentForm | None:
    """The form the invoice page shows while something is left to pay
    (None otherwise): amount left and today as defaults."""
    if (
        current_user.role != Role.LEAD
        or invoice.is_draft
        or invoice.is_credit_note
        or invoice.amount_due <= 0
    ):
        return None
    return PaymentForm(
        formdata=None,
        data={"amount": invoice.amount_due, "received_on": today(), "method": "transfer"},
    )


@dataclass(frozen=True)
class ReminderState:
    days_late: int
    next_at: datetime | None  # None: a reminder may go now


@bp.app_template_global("reminder_state")
def reminder_state(invoice: Invoice) -> ReminderState | None:
    """For an overdue invoice, its lateness and when it may be reminded
    (None when it is not overdue)."""
    day = today()
    if current_user.role != Role.LEAD or not invoice.is_overdue(day):
        return None
    return ReminderState(invoice.days_overdue(day), next_reminder_at(invoice))


@bp.app_template_global("payment_method_label")
def payment_method_label(method: str) -> str:
    return str(METHOD_LABELS.get(method, method))


def _invoice_page(invoice: Invoice) -> str:
    return url_for("invoices.show", client_id=invoice.client_id, invoice_id=invoice.id)


@bp.route(
    "/clients/<int:client_id>/invoices/<int:invoice_id>/payments", methods=["POST"], endpoint="record_payment"
)
@lead_required
def record_payment_view(invoice_id: int):
    invoice = get_invoice_or_404(g.client, invoice_id, current_user)
    form = PaymentForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(_invoice_page(invoice))  # the message shows at the top
    try:
        payment = record_payment(
            current_user,
            invoice,
            amount=form.amount.data,
            received_on=form.received_on.data,
            method=form.method.data,
            reference=form.reference.data or "",
            strict=True,
        )
    except InvoiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(_invoice_page(invoice))
    db.session.commit()
    if payment.invoice.status == InvoiceStatus.PAID:
        flash(
            _("Paiement de %(amount)s enregistré : la facture est payée.", amount=money(payment.amount)),
            "success",
        )
    else:
        flash(
            _(
                "Paiement de %(amount)s enregistré. Reste à payer : %(left)s.",
                amount=money(payment.amount),
                left=money(payment.invoice.amount_due),
            ),
            "success",
        )
    return redirect(_invoice_page(invoice) + "#payments")


# -- what is owed ---------------------------------------------------------------------------


def _filters() -> Filters:
    sort = request.args.get("sort", "due")
    return Filters(
        client_id=request.args.get("client", type=int),
        overdue_only=request.args.get("overdue") == "1",
        sort=sort if sort in SORTS else "due",
    )


def _filter_args(filters: Filters, page: int | None = None) -> dict[str, str | int]:
    values: dict[str, str | int] = {}
    if filters.client_id:
        values["client"] = filters.client_id
    if filters.overdue_only:
        values["overdue"] = "1"
    if filters.sort != "due":
        values["sort"] = filters.sort
    if page and page > 1:
        values["page"] = page
    return values


@bp.route("/invoices/receivables")
@lead_required
def receivables():
    day = today()
    filters = _filters()
    page = db.paginate(
        receivables_query(filters, day),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    last_month = add_months(month_start(day), -1)
    return render_template(
        "invoices/receivables.html",
        page=page,
        filters=filters,
        filter_args=_filter_args(filters, page.page),
        totals=receivable_totals(day, filters.client_id),
        buckets=[(key, BUCKET_LABELS[key]) for key, _f, _l in BUCKETS],
        clients=clients_owing(),
        today=day,
        next_reminder_at=next_reminder_at,
        L=listing,
        export_month=last_month.strftime("%Y-%m"),
        export_year=day.year if day.month > 1 else day.year - 1,
        years=list(range(day.year, day.year - 6, -1)),
    )


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/remind", methods=["POST"])
@lead_required
def remind(invoice_id: int):
    invoice = get_invoice_or_404(g.client, invoice_id, current_user)
    try:
        sent_to = send_reminder(current_user, invoice)
    except InvoiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(
            _(
                "Relance de la facture %(number)s envoyée à %(to)s.",
                number=invoice.number,
                to=", ".join(sent_to),
            ),
            "success",
        )
    if request.form.get("back") == "invoice":
        return redirect(_invoice_page(invoice))
    back = Filters(
        client_id=request.form.get("client", type=int),
        overdue_only=request.form.get("overdue") == "1",
        sort=request.form.get("sort") if request.form.get("sort") in SORTS else "due",
    )
    page = request.form.get("page", type=int)
    return redirect(url_for("invoices.receivables", **_filter_args(back, page)))


# -- the accountant's exports -----------------------------------------------------------------


def _period() -> export.Period | None:
    """The period asked for (?month=2026-10 or ?year=2026), last month when
    none is; None when what was asked is not a period."""
    month, year = request.args.get("month"), request.args.get("year")
    if month:
        day = parse_month(month)
        return export.month_period(day) if day else None
    if year:
        if year.isascii() and year.isdigit() and 2000 <= int(year) <= 2100:  # "²" passes isdigit()
            return export.year_period(int(year))
        return None
    return export.month_period(add_months(month_start(today()), -1))


def _csv_response(what: str, period: export.Period, lines) -> Response:
    with force_locale("fr_FR"):  # the accountant's file is French, whoever exports it
        body = "".join(lines)
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{export.file_name(what, period)}"',
            "Cache-Control": "private, no-store",
        },
    )


def _bad_period():
    flash(_("Période invalide : choisissez un mois (AAAA-MM) ou une année."), "error")
    return redirect(url_for("invoices.receivables"))


@bp.route("/invoices/export/invoices.csv")
@lead_required
def export_invoices():
    period = _period()
    if period is None:
        return _bad_period()
    invoices = db.session.scalars(export.issued_documents(period))
    return _csv_response("factures", period, export.invoices_csv(invoices, today()))


@bp.route("/invoices/export/payments.csv")
@lead_required
def export_payments():
    period = _period()
    if period is None:
        return _bad_period()
    payments = db.session.scalars(export.payments_in(period))
    return _csv_response("paiements", period, export.payments_csv(payments))
