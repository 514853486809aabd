"""Clients: the lead's list, forms and client pages; the CM's "Mes clients";
competitor groups. Client pages resolve `g.client` through access first."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.access import install_client_scope, lead_required, roles_required
from app.clients import bp, queries
from app.clients.assignments import MIN_OVERRIDE_REASON, assign_cm, end_assignment
from app.clients.errors import ClientError, CompetitorConflict
from app.clients.forms import AssignForm, ClientForm, EndAssignmentForm, GroupForm
from app.clients.groups import create_group, delete_group, update_group
from app.clients.logos import size_label
from app.clients.models import CMAssignment, CompetitorGroup
from app.clients.services import archive_client, create_client, unarchive_client, update_client
from app.contracts.budget import month_budgets
from app.contracts.services import client_contracts
from app.documents.services import get_document
from app.extensions import db
from app.formatting import day
from app.timesheets.calendar import month_start
from app.timesheets.queries import month_hours_for_cm
from app.timeutil import today

install_client_scope(bp)


def _field_error(form, error: ClientError) -> None:
    """Show a service's refusal on its field, or as a flash when it has none."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


# -- the lead's list ------------------------------------------------------------


@bp.route("/clients")
@lead_required
def index():
    filters = queries.ClientFilters.from_args(request.args)
    page = db.paginate(
        queries.client_list(filters),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    return render_template(
        "clients/index.html",
        page=page,
        filters=filters,
        facts=queries.list_facts([c.id for c in page.items]),
        groups=queries.all_groups(),
    )


@bp.route("/clients/new", methods=["GET", "POST"])
@lead_required
def create():
    form = ClientForm()
    if form.validate_on_submit():
        try:
            client = create_client(current_user, form.details(), logo=form.logo_bytes)
        except ClientError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("Le client « %(name)s » a été créé.", name=client.name), "success")
            return redirect(url_for("clients.show", client_id=client.id))
    return _render_form(form, None)


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@lead_required
def edit():
    client = g.client
    form = ClientForm.for_client(client)
    if form.validate_on_submit():
        try:
            update_client(
                current_user, client, form.details(), logo=form.logo_bytes, remove_logo=form.remove_logo.data
            )
        except ClientError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("Les informations du client ont été enregistrées."), "success")
            return redirect(url_for("clients.show"))
    return _render_form(form, client)


def _render_form(form: ClientForm, client):
    logo_max = size_label(current_app.config["LOGO_MAX_BYTES"])
    return render_template("clients/form.html", form=form, client=client, logo_max=logo_max)


@bp.route("/clients/<int:client_id>/archive", methods=["POST"])
@lead_required
def archive():
    try:
        archive_client(current_user, g.client)
    except ClientError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(
            _(
                "« %(name)s » est archivé : les CM ne le voient plus. Rien n'a été supprimé.",
                name=g.client.name,
            ),
            "success",
        )
    return redirect(url_for("clients.show"))


@bp.route("/clients/<int:client_id>/unarchive", methods=["POST"])
@lead_required
def unarchive():
    try:
        unarchive_client(current_user, g.client)
    except ClientError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("« %(name)s » est de nouveau actif.", name=g.client.name), "success")
    return redirect(url_for("clients.show"))


# -- a client's page --------------------------------------------------------------


@bp.route("/clients/<int:client_id>")
def show():
    client = g.client
    if current_user.is_client:
        return redirect(url_for("portal.home", client_id=client.id))
    if current_user.is_cm:
        return render_template("clients/show_cm.html", client=client, page=queries.cm_page(client))
    if not current_user.is_lead:
        abort(404)
    form = AssignForm(formdata=None, since=today())
    contracts = client_contracts(client)
    return render_template(
        "clients/show.html",
        client=client,
        page=queries.lead_page(client),
        contracts=contracts,
        budgets={b.contract.id: b for b in month_budgets(contracts, month_start(today()), costs=False)},
        form=form,
        contact_status=queries.contact_status,
        today=today(),
    )


@bp.route("/clients/<int:client_id>/logo")
def logo():
    """The client's logo, for whoever may see the client (access resolved g.client)."""
    document = get_document(g.client.logo_sha256) if g.client.logo_sha256 else None
    if document is None:
        abort(404)
    response = current_app.response_class(document.content, mimetype=document.media_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["Content-Disposition"] = "inline"
    response.set_etag(document.sha256)
    return response.make_conditional(request)


@bp.route("/clients/<int:client_id>/assignments", methods=["GET", "POST"])
@lead_required
def assign():
    client = g.client
    form = AssignForm(since=today()) if request.method == "GET" else AssignForm()
    conflict: CompetitorConflict | None = None
    if form.validate_on_submit():
        cm = form.chosen_cm()
        try:
            if cm is None:
                raise ClientError(_("Choisissez un community manager."), field="cm")
            assign_cm(current_user, client, cm, form.since.data, form.until.data, form.override_reason.data)
        except CompetitorConflict as error:
            db.session.rollback()
            conflict = error
            if (form.override_reason.data or "").strip():
                form.override_reason.errors = [
                    _("Expliquez le motif en au moins %(min)d caractères.", min=MIN_OVERRIDE_REASON)
                ]
        except ClientError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("%(cm)s est affecté(e) à ce client.", cm=cm.name), "success")
            return redirect(url_for("clients.show"))
    return render_template("clients/assign.html", client=client, form=form, conflict=conflict)


@bp.route(
    "/clients/<int:client_id>/assignments/<int:assignment_id>/end",
    methods=["POST"],
    endpoint="end_assignment",
)
@lead_required
def end_assignment_view(assignment_id: int):
    assignment = db.session.scalar(
        select(CMAssignment).where(CMAssignment.client_id == g.client.id, CMAssignment.id == assignment_id)
    )
    if assignment is None:
        abort(404)
    form = EndAssignmentForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("clients.show"))
    cm_name = assignment.cm.name
    try:
        result = end_assignment(current_user, g.client, assignment, form.until.data)
    except ClientError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        if result is None:
            flash(_("L'affectation de %(cm)s, qui n'avait pas commencé, est annulée.", cm=cm_name), "success")
        elif result.until < today():
            flash(_("%(cm)s n'a plus accès à ce client.", cm=cm_name), "success")
        else:
            flash(
                _("%(cm)s garde l'accès jusqu'au %(day)s inclus.", cm=cm_name, day=day(result.until)),
                "success",
            )
    return redirect(url_for("clients.show"))


# -- the CM's clients -------------------------------------------------------------


@bp.route("/my-clients")
@roles_required("cm")
def mine():
    page = db.paginate(
        queries.my_clients(),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    return render_template(
        "clients/mine.html",
        page=page,
        facts=queries.my_client_facts(current_user, [c.id for c in page.items]),
        month=month_start(today()),
        hours=month_hours_for_cm(current_user, [c.id for c in page.items]),
    )


# -- competitor groups (agency-level, leads only) ------------------------------------


def _group_or_404(group_id: int) -> CompetitorGroup:
    """Groups are the lead's business: anyone else sees no group by id."""
    if not current_user.is_lead:
        abort(404)
    group = db.session.get(CompetitorGroup, group_id)
    if group is None:
        abort(404)
    return group


@bp.route("/competitor-groups", methods=["GET", "POST"])
@lead_required
def groups():
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = create_group(current_user, form.name.data, form.description.data)
        except ClientError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("Le groupe « %(name)s » a été créé.", name=group.name), "success")
            return redirect(url_for("clients.groups"))
    page = db.paginate(
        queries.group_list(),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    return render_template("clients/groups.html", form=form, page=page)


@bp.route("/competitor-groups/<int:group_id>/edit", methods=["GET", "POST"])
def group_edit(group_id: int):
    group = _group_or_404(group_id)
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        try:
            update_group(current_user, group, form.name.data, form.description.data)
        except ClientError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            db.session.commit()
            flash(_("Le groupe a été enregistré."), "success")
            return redirect(url_for("clients.groups"))
    return render_template(
        "clients/group_edit.html", form=form, group=group, members=queries.group_members(group)
    )


@bp.route("/competitor-groups/<int:group_id>/delete", methods=["POST"])
def group_delete(group_id: int):
    group = _group_or_404(group_id)
    name = group.name
    try:
        delete_group(current_user, group)
    except ClientError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("clients.group_edit", group_id=group_id))
    db.session.commit()
    flash(_("Le groupe « %(name)s » a été supprimé.", name=name), "success")
    return redirect(url_for("clients.groups"))
