"""Team and access (leads only): the accounts list, invitations, editing,
deactivation. Every account is loaded through access.get_user_or_404, which
answers 404 to anyone but a lead (so the routes that take a user id need no
@lead_required: a CM gets 404 there, as for any object it may not see)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.access import get_user_or_404, lead_required
from app.auth.models import Role
from app.auth.services import role_label
from app.auth.views import safe_next
from app.extensions import db
from app.users import bp, queries
from app.users.forms import EditUserForm, InviteForm
from app.users.services import (
    UserChanges,
    UserError,
    deactivate_user,
    invite_user,
    reactivate_user,
    resend_invitation,
    update_user,
)


def _show_error(form, error: UserError) -> None:
    """A service's refusal on its field, or as a flash when it has none."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


@bp.route("")
@lead_required
def index():
    filters = queries.UserFilters.from_args(request.args)
    page = db.paginate(
        queries.user_list(filters),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    return render_template(
        "users/index.html",
        page=page,
        filters=filters,
        members=queries.memberships([u.id for u in page.items]),
        user_status=queries.user_status,
        role_label=role_label,
    )


@bp.route("/invite", methods=["GET", "POST"])
@lead_required
def invite():
    form = InviteForm()
    if request.method == "GET":
        form.prefill(request.args)
    if form.validate_on_submit():
        client = form.client
        try:
            user = invite_user(
                current_user,
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                client=client,
                job_title=form.job_title.data or "",
            )
        except UserError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            flash(
                _("Invitation envoyée à %(name)s (%(email)s).", name=user.name, email=user.email), "success"
            )
            if client is not None:
                return redirect(url_for("clients.show", client_id=client.id))
            return redirect(url_for("users.index"))
    return render_template("users/invite.html", form=form)


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
def edit(user_id: int):
    user = get_user_or_404(user_id)
    member = queries.membership(user) if user.role == Role.CLIENT else None
    form = EditUserForm(user=user, job_title=member.job_title if member else "")
    if form.validate_on_submit():
        changes = UserChanges(
            name=form.name.data,
            email=form.email.data,
            role=form.role.data if "role" in form else None,
            job_title=form.job_title.data if "job_title" in form else None,
            cost_rate=form.cost_rate.data if "cost_rate" in form else None,
            set_cost_rate="cost_rate" in form,
        )
        try:
            reinvited = update_user(current_user, user, changes)
        except UserError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            if reinvited:
                flash(
                    _(
                        "Compte enregistré. L'adresse a changé : une nouvelle invitation a été envoyée à "
                        "%(email)s.",
                        email=user.email,
                    ),
                    "success",
                )
            else:
                flash(_("Le compte de %(name)s a été enregistré.", name=user.name), "success")
            if not current_user.is_lead:  # a lead who made itself a CM has left this page's audience
                return redirect(url_for("main.home"))
            return redirect(url_for("users.index"))
    return render_template(
        "users/edit.html",
        form=form,
        user=user,
        member=member,
        status=queries.user_status(user),
        role_label=role_label,
    )


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
def deactivate(user_id: int):
    user = get_user_or_404(user_id)
    try:
        deactivate_user(current_user, user)
    except UserError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(
            _("Le compte de %(name)s est désactivé : il ne peut plus se connecter.", name=user.name),
            "success",
        )
    return redirect(url_for("users.edit", user_id=user.id))


@bp.route("/<int:user_id>/reactivate", methods=["POST"])
def reactivate(user_id: int):
    user = get_user_or_404(user_id)
    try:
        reactivate_user(current_user, user)
    except UserError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        if user.is_pending:
            flash(
                _(
                    "Le compte de %(name)s est réactivé. Il n'a pas encore choisi son mot de passe : "
                    "renvoyez-lui l'invitation.",
                    name=user.name,
                ),
                "success",
            )
        else:
            flash(_("Le compte de %(name)s est réactivé.", name=user.name), "success")
    return redirect(url_for("users.edit", user_id=user.id))


@bp.route("/<int:user_id>/resend", methods=["POST"])
def resend(user_id: int):
    user = get_user_or_404(user_id)
    try:
        resend_invitation(current_user, user)
    except UserError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Invitation renvoyée à %(email)s.", email=user.email), "success")
    return redirect(safe_next(request.form.get("next")) or url_for("users.edit", user_id=user.id))
