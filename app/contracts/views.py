from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.access import install_client_scope, lead_required
from app.agency.services import get_settings
from app.contracts import bp
from app.contracts.budget import month_budgets
from app.contracts.forms import ContractEditForm, ContractForm, ReopenForm, TermsForm
from app.contracts.services import (
    ContractError,
    TermsInput,
    add_terms,
    create_contract,
    get_contract_or_404,
    terms_for_month,
    update_contract,
)
from app.extensions import db
from app.invoices.receivables import contract_year
from app.timesheets.calendar import add_months, month_start, parse_month
from app.timesheets.locks import locked_months
from app.timesheets.services import EntryError, lock_month, unlock_month
from app.timeutil import today

install_client_scope(bp)


def _terms_input(form: ContractForm | TermsForm) -> TermsInput:
    return TermsInput(
        billing_model=form.billing_model.data,
        monthly_fee=form.monthly_fee.data,
        included_minutes=form.included_hours.data,
        hourly_rate=form.hourly_rate.data,
        budget_ceiling=form.budget_ceiling.data,
        vat_rate=form.vat_rate.data,
    )


def _franchise() -> bool:
    return get_settings().is_franchise


@bp.route("/clients/<int:client_id>/contracts/new", methods=["GET", "POST"])
@lead_required
def create():
    form = ContractForm()
    if request.method == "GET":
        form.start_date.data = month_start(today())
        if _franchise():
            form.vat_rate.data = 0
    if form.validate_on_submit():
        try:
            contract = create_contract(
                current_user,
                g.client,
                title=form.title.data,
                start_date=form.start_date.data,
                end_date=form.end_date.data,
                channels=form.channels.data or [],
                terms=_terms_input(form),
            )
        except ContractError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Contrat créé."), "success")
            return redirect(url_for("contracts.show", contract_id=contract.id))
    return render_template("contracts/form.html", form=form, contract=None)


@bp.route("/clients/<int:client_id>/contracts/<int:contract_id>")
@lead_required
def show(contract_id: int):
    contract = get_contract_or_404(g.client, contract_id)
    month = parse_month(request.args.get("month")) or month_start(today())
    months = [add_months(month, -i) for i in range(0, 6)]
    months = [m for m in months if m >= month_start(contract.start_date)]
    budgets = [month_budgets([contract], m, daily=(m == month))[0] for m in months]
    return render_template(
        "contracts/show.html",
        contract=contract,
        month=month,
        budget=budgets[0] if budgets else None,
        history=budgets,
        locked=locked_months(db.session, contract.id),
        reopen_form=ReopenForm(),
        terms=terms_for_month(contract, month),
        prev_month=add_months(month, -1),
        next_month=add_months(month, 1),
    )


@bp.route("/clients/<int:client_id>/contracts/<int:contract_id>/billing")
@lead_required
def billing(contract_id: int):
    """Budget against invoiced, month by month over a year, and the year to date."""
    contract = get_contract_or_404(g.client, contract_id)
    day = today()
    first_year = contract.start_date.year
    last_year = max(first_year, min(contract.end_date.year if contract.end_date else day.year, day.year))
    year = request.args.get("year", type=int) or last_year
    year = min(max(year, first_year), last_year)
    return render_template(
        "contracts/billing.html",
        contract=contract,
        billing=contract_year(contract, year, day),
        prev_year=year - 1 if year > first_year else None,
        next_year=year + 1 if year < last_year else None,
    )


@bp.route("/clients/<int:client_id>/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@lead_required
def edit(contract_id: int):
    contract = get_contract_or_404(g.client, contract_id)
    form = ContractEditForm(obj=contract)
    if form.validate_on_submit():
        try:
            update_contract(
                current_user,
                contract,
                title=form.title.data,
                end_date=form.end_date.data,
                channels=form.channels.data or [],
            )
        except ContractError as error:
            form.end_date.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Contrat modifié."), "success")
            return redirect(url_for("contracts.show", contract_id=contract.id))
    return render_template("contracts/edit.html", form=form, contract=contract)


@bp.route("/clients/<int:client_id>/contracts/<int:contract_id>/terms/new", methods=["GET", "POST"])
@lead_required
def new_terms(contract_id: int):
    contract = get_contract_or_404(g.client, contract_id)
    current = terms_for_month(contract, month_start(today()))
    form = TermsForm(obj=current) if request.method == "GET" and current else TermsForm()
    if request.method == "GET":
        form.effective_month.data = add_months(month_start(today()), 1)
        if current:
            form.included_hours.data = current.included_minutes
    if form.validate_on_submit():
        try:
            add_terms(
                current_user,
                contract,
                effective_month=form.effective_month.data,
                terms=_terms_input(form),
                locked_months=locked_months(db.session, contract.id),
            )
        except ContractError as error:
            form.effective_month.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Nouvelles conditions enregistrées."), "success")
            return redirect(url_for("contracts.show", contract_id=contract.id))
    return render_template("contracts/terms_form.html", form=form, contract=contract)


def _month_arg(value: str):
    month = parse_month(value)
    if month is None:
        abort(404)
    return month


@bp.route("/clients/<int:client_id>/contracts/<int:contract_id>/months/<month>/lock", methods=["POST"])
@lead_required
def lock(contract_id: int, month: str):
    contract = get_contract_or_404(g.client, contract_id)
    day = _month_arg(month)
    if lock_month(current_user, contract, day):
        db.session.commit()
        flash(_("Mois clôturé : plus aucune saisie ne peut y changer."), "success")
    else:
        flash(_("Ce mois était déjà clôturé."), "info")
    return redirect(url_for("contracts.show", contract_id=contract.id, month=month))


@bp.route("/clients/<int:client_id>/contracts/<int:contract_id>/months/<month>/reopen", methods=["POST"])
@lead_required
def reopen(contract_id: int, month: str):
    contract = get_contract_or_404(g.client, contract_id)
    day = _month_arg(month)
    form = ReopenForm()
    if not form.validate_on_submit():
        flash(_("Indiquez le motif de la réouverture (5 caractères au moins)."), "error")
    else:
        try:
            unlock_month(current_user, contract, day, form.reason.data)
        except EntryError as error:
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Mois rouvert. Le motif est inscrit au journal."), "success")
    return redirect(url_for("contracts.show", contract_id=contract.id, month=month))


@bp.route("/budgets")
@lead_required
def overview():
    from app.contracts.budget import budget_overview

    month = parse_month(request.args.get("month")) or month_start(today())
    budgets = budget_overview(month)
    return render_template(
        "contracts/overview.html",
        budgets=budgets,
        month=month,
        prev_month=add_months(month, -1),
        next_month=add_months(month, 1),
    )
