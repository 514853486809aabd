from datetime import date, timedelta

from flask import Response, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from app.access import install_client_scope, lead_required, roles_required, visible_clients
from app.auth.models import Role, User
from app.clients.models import Client
from app.contracts.budget import month_budgets
from app.contracts.models import Contract
from app.contracts.services import visible_contracts_on
from app.extensions import db
from app.fields import FIRST_DAY, LAST_DAY
from app.timesheets import bp
from app.timesheets.calendar import add_months, month_end, month_start, parse_month, week_start
from app.timesheets.duration import DurationError, parse_duration
from app.timesheets.export import entries_csv
from app.timesheets.forms import ActivityForm, CloseMonthForm, EntryEditForm, EntryFilterForm, EntryForm
from app.timesheets.models import Activity, TimeEntry
from app.timesheets.queries import (
    day_entries,
    filtered_entries,
    my_month_by_client,
    totals,
    week_contracts,
    week_entries,
    with_details,
)
from app.timesheets.services import (
    EntryError,
    WeekError,
    active_activities,
    add_activity,
    can_edit_entry,
    delete_entry,
    ensure_default_activities,
    last_entry_of,
    log_time,
    save_week,
    set_activity_active,
    update_entry,
)
from app.timeutil import today

install_client_scope(bp)

time_roles = roles_required(Role.CM, Role.LEAD)


def _date_arg(name: str, default: date) -> date:
    value = request.args.get(name)
    if not value:
        return default
    try:
        day = date.fromisoformat(value)
    except ValueError:
        abort(404)
    if not FIRST_DAY <= day <= LAST_DAY:  # year 1 or 9999: no page, and no date overflow
        abort(404)
    return day


def _offered_activities() -> list[Activity]:
    """The activities offered, read once per request (choices, then the one picked)."""
    if "offered_activities" not in g:
        g.offered_activities = active_activities()
    return g.offered_activities


def _chosen_activity(form: EntryForm) -> Activity | None:
    """The activity picked in the form, if it is still offered."""
    return next((a for a in _offered_activities() if a.id == form.activity.data), None)


def _entry_choices(form: EntryForm, day: date) -> list[Contract]:
    contracts = visible_contracts_on(day)
    form.contract.choices = [SelectChoice(c.id, f"{c.client.name} · {c.title}") for c in contracts]
    form.activity.choices = [SelectChoice(a.id, a.label) for a in _offered_activities()]
    return contracts


@bp.route("/time", methods=["GET", "POST"])
@time_roles
def day():
    current = _date_arg("day", today())
    form = EntryForm()
    contracts = _entry_choices(form, current)
    if request.method == "GET":
        form.day.data = current
        last = last_entry_of(current_user)
        if last is not None:
            if any(c.id == last.contract_id for c in contracts):
                form.contract.data = last.contract_id
            form.activity.data = last.activity_id
    if form.validate_on_submit():
        contract = next((c for c in contracts if c.id == form.contract.data), None)
        if contract is None:  # not visible on that day: refuse without saying more
            contract = next(
                (c for c in visible_contracts_on(form.day.data) if c.id == form.contract.data), None
            )
        try:
            if contract is None:
                raise EntryError(_("Ce contrat ne court pas à cette date, ou vous n'y êtes pas affecté(e)."))
            log_time(
                current_user,
                contract,
                day=form.day.data,
                minutes=form.duration.data,
                activity=_chosen_activity(form),
                channel=form.channel.data or None,
                note=form.note.data or "",
            )
        except EntryError as error:
            db.session.rollback()
            form.duration.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Saisie enregistrée."), "success")
            return redirect(url_for("timesheets.day", day=form.day.data.isoformat()))
    entries = day_entries(current_user, current)
    first, last_day = month_start(current), month_end(current)
    budgets = {b.contract.id: b for b in month_budgets(contracts, current, costs=False)} if contracts else {}
    return render_template(
        "timesheets/day.html",
        form=form,
        current=current,
        entries=entries,
        total=sum(e.minutes for e in entries),
        contracts=contracts,
        budgets=budgets,
        month_by_client=my_month_by_client(current_user, first, last_day),
        is_today=current == today(),
        prev_day=current - timedelta(days=1),
        next_day=current + timedelta(days=1),
    )


@bp.route("/time/week", methods=["GET", "POST"])
@time_roles
def week():
    start = week_start(_date_arg("start", today()))
    days = [start + timedelta(days=i) for i in range(7)]
    contracts = week_contracts(current_user, start)
    existing = week_entries(current_user, start)
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        from flask_wtf.csrf import validate_csrf  # the grid is not a WTForms form

        if current_app.config.get("WTF_CSRF_ENABLED", True):
            validate_csrf(request.form.get("csrf_token"))
        cells = []
        activities = {a.id: a for a in active_activities()}
        defaults = {}
        for contract in contracts:
            chosen = request.form.get(f"activity-{contract.id}", type=int)
            defaults[contract.id] = activities.get(chosen) or next(iter(activities.values()), None)
            for day_ in days:
                name = f"cell-{contract.id}-{day_.isoformat()}"
                if name not in request.form:
                    continue
                raw = request.form.get(name, "").strip()
                values[name] = raw
                if len(existing.get((contract.id, day_), [])) > 1:
                    continue
                try:
                    minutes = parse_duration(raw) if raw else None
                except DurationError as error:
                    errors[name] = str(error)
                    continue
                cells.append((contract, day_, minutes, name))
        if not errors:
            try:
                changed = save_week(current_user, cells, existing, defaults)
            except WeekError as error:
                errors = error.errors
            else:
                db.session.commit()
                if changed:
                    message = ngettext(
                        "Semaine enregistrée (%(num)d modification).",
                        "Semaine enregistrée (%(num)d modifications).",
                        changed,
                    )
                    flash(message, "success")
                else:
                    flash(_("Rien n'a changé."), "info")
                return redirect(url_for("timesheets.week", start=start.isoformat()))
        db.session.rollback()
        flash(_("La semaine n'a pas été enregistrée : corrigez les cases signalées."), "error")
        existing = week_entries(current_user, start)
    day_totals = {
        d: sum(e.minutes for (_, day_), es in existing.items() if day_ == d for e in es) for d in days
    }
    return render_template(
        "timesheets/week.html",
        day_totals=day_totals,
        start=start,
        days=days,
        contracts=contracts,
        existing=existing,
        values=values,
        errors=errors,
        activities=active_activities(),
        today=today(),
        prev_week=start - timedelta(days=7),
        next_week=start + timedelta(days=7),
    )


def _entry_through_client(entry_id: int) -> TimeEntry:
    entry = db.session.scalar(
        select(TimeEntry).where(TimeEntry.id == entry_id, TimeEntry.client_id == g.client.id)
    )
    if entry is None:
        abort(404)
    if not can_edit_entry(current_user, entry):
        # A CM sees the client but this entry is another CM's: not its business.
        abort(404)
    return entry


@bp.route("/clients/<int:client_id>/time/<int:entry_id>/edit", methods=["GET", "POST"])
@time_roles
def edit_entry(entry_id: int):
    entry = _entry_through_client(entry_id)
    form = EntryEditForm(obj=entry)
    form.activity.choices = [SelectChoice(a.id, a.label) for a in _offered_activities()]
    if request.method == "GET":
        form.duration.data = entry.minutes
        form.activity.data = entry.activity_id
        form.channel.data = entry.channel or ""
    if form.validate_on_submit():
        try:
            update_entry(
                current_user,
                entry,
                day=form.day.data,
                minutes=form.duration.data,
                activity=_chosen_activity(form),
                channel=form.channel.data or None,
                note=form.note.data or "",
            )
        except EntryError as error:
            db.session.rollback()
            form.duration.errors.append(str(error))
            entry = _entry_through_client(entry_id)
        else:
            db.session.commit()
            flash(_("Saisie modifiée."), "success")
            return redirect(url_for("timesheets.day", day=form.day.data.isoformat()))
    return render_template("timesheets/edit.html", form=form, entry=entry)


@bp.route("/clients/<int:client_id>/time/<int:entry_id>/delete", methods=["POST"])
@time_roles
def delete(entry_id: int):
    entry = _entry_through_client(entry_id)
    day_ = entry.day
    try:
        delete_entry(current_user, entry)
    except EntryError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Saisie supprimée."), "success")
    return redirect(url_for("timesheets.day", day=day_.isoformat()))


def _filter_form() -> tuple[EntryFilterForm, dict]:
    form = EntryFilterForm(request.args)
    clients = list(db.session.scalars(visible_clients().order_by(Client.name)))
    form.client.choices = [SelectChoice("", _("Tous les clients"))] + [
        SelectChoice(c.id, c.name) for c in clients
    ]
    contracts = list(db.session.scalars(select(Contract).join(Client).order_by(Client.name, Contract.title)))
    form.contract.choices = [SelectChoice("", _("Tous les contrats"))] + [
        SelectChoice(c.id, f"{c.client.name} · {c.title}") for c in contracts
    ]
    cms = list(
        db.session.scalars(select(User).where(User.role.in_([Role.CM, Role.LEAD])).order_by(User.name))
    )
    form.cm.choices = [SelectChoice("", _("Toute l'équipe"))] + [SelectChoice(u.id, u.name) for u in cms]
    form.activity.choices = [SelectChoice("", _("Toutes les activités"))] + [
        SelectChoice(a.id, a.label) for a in active_activities()
    ]
    first = month_start(today())
    filters = {"start": first, "end": month_end(first)}
    if request.args and form.validate():
        filters = {name: field.data for name, field in form._fields.items()}
    else:
        form.start.data, form.end.data = filters["start"], filters["end"]
    return form, filters


@bp.route("/time/entries")
@lead_required
def entries():
    form, filters = _filter_form()
    stmt = filtered_entries(filters)
    count, minutes = totals(stmt)
    page = db.paginate(
        with_details(stmt),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
        count=False,
    )
    page.total = count  # counted just above: not twice
    return render_template(
        "timesheets/entries.html", form=form, page=page, count=count, minutes=minutes, filters=filters
    )


@bp.route("/time/entries.csv")
@lead_required
def entries_export():
    _form, filters = _filter_form()
    rows = db.session.scalars(with_details(filtered_entries(filters))).unique()
    start, end = filters.get("start"), filters.get("end")
    name = "saisies"
    if start:
        name += f"-{start.isoformat()}"
    if end:
        name += f"-{end.isoformat()}"
    return Response(
        "".join(entries_csv(rows)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/time/close", methods=["GET", "POST"])
@lead_required
def close_month():
    """Lock a month, make its reports and render them, with a progress view."""
    from app.reports.close import close_month as close
    from app.reports.close import last_close

    form = CloseMonthForm()
    if request.method == "GET":
        form.month.data = add_months(month_start(today()), -1)
    if form.validate_on_submit():
        if form.month.data > month_start(today()):
            form.month.errors.append(_("Ce mois n'a pas commencé."))
        else:
            close(current_user, form.month.data)
            db.session.commit()
            return redirect(url_for("timesheets.close_progress", month=form.month.data.strftime("%Y-%m")))
    return render_template("timesheets/close.html", form=form, last=last_close())


def _closed_month(month: str) -> date:
    first = parse_month(month)
    if first is None:
        abort(404)
    return first


@bp.route("/time/close/<month>")
@lead_required
def close_progress(month: str):
    from app.reports.close import invoice_tally, progress

    first = _closed_month(month)
    return render_template(
        "timesheets/close_progress.html", month=first, progress=progress(first), invoices=invoice_tally(first)
    )


@bp.route("/time/close/<month>/status")
@lead_required
def close_status(month: str):
    from app.reports.close import progress

    state = progress(_closed_month(month))
    return jsonify(
        finished=state.finished,
        percent=state.percent,
        fields={
            "done": str(state.done),
            "failed": str(state.failed),
            "queued": str(state.queued),
            "total": str(state.total),
        },
    )


@bp.route("/time/activities", methods=["GET", "POST"])
@lead_required
def activities():
    form = ActivityForm()
    if form.validate_on_submit():
        try:
            add_activity(current_user, form.label.data)
        except EntryError as error:
            form.label.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Activité ajoutée."), "success")
            return redirect(url_for("timesheets.activities"))
    return render_template("timesheets/activities.html", form=form, activities=ensure_default_activities())


@bp.route("/time/activities/<int:activity_id>/<any(retire, restore):action>", methods=["POST"])
@lead_required
def toggle_activity(activity_id: int, action: str):
    activity = db.session.get(Activity, activity_id)
    if activity is None:
        abort(404)
    set_activity_active(current_user, activity, action == "restore")
    db.session.commit()
    flash(_("Activité mise à jour."), "success")
    return redirect(url_for("timesheets.activities"))
