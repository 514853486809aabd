"""The agency's settings (leads) and its logo (anyone logged in)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.access import lead_required
from app.agency import bp
from app.agency.forms import LogoForm, SettingsForm
from app.agency.services import LogoError, get_settings, remove_logo, set_logo, update_settings
from app.clients.logos import size_label
from app.documents.services import get_document
from app.documents.views import document_response
from app.extensions import db


@bp.route("/settings", methods=["GET", "POST"])
@lead_required
def settings():
    agency = get_settings()
    form = SettingsForm.for_settings(agency)
    if form.validate_on_submit():
        changed = update_settings(current_user, form.details())
        db.session.commit()
        if changed:
            flash(_("Les paramètres de l'agence ont été enregistrés."), "success")
        else:
            flash(_("Aucune modification à enregistrer."), "info")
        return redirect(url_for("agency.settings"))
    return _render(form, LogoForm(formdata=None), agency)


@bp.route("/settings/logo", methods=["POST"])
@lead_required
def upload_logo():
    agency = get_settings()
    logo_form = LogoForm()
    if logo_form.validate_on_submit():
        max_bytes = current_app.config["LOGO_MAX_BYTES"]
        try:
            set_logo(current_user, logo_form.logo.data.stream.read(max_bytes + 1), max_bytes)
        except LogoError as error:
            db.session.rollback()
            agency = get_settings()
            logo_form.logo.errors = [*logo_form.logo.errors, str(error)]
        else:
            db.session.commit()
            flash(_("Le logo de l'agence a été enregistré."), "success")
            return redirect(url_for("agency.settings"))
    return _render(SettingsForm.for_settings(agency, submitted=False), logo_form, agency)


@bp.route("/settings/logo/remove", methods=["POST"])
@lead_required
def delete_logo():
    if remove_logo(current_user):
        db.session.commit()
        flash(_("Le logo de l'agence a été retiré."), "success")
    else:
        flash(_("L'agence n'a pas de logo."), "info")
    return redirect(url_for("agency.settings"))


def _render(form: SettingsForm, logo_form: LogoForm, agency):
    return render_template(
        "agency/settings.html",
        form=form,
        logo_form=logo_form,
        agency=agency,
        logo_max=size_label(current_app.config["LOGO_MAX_BYTES"]),
    )


@bp.route("/logo")
def logo():
    """The agency's logo, for any logged-in user (clients see it in their
    space, invoices carry it). 404 when the agency has none."""
    sha256 = get_settings().logo_sha256
    document = get_document(sha256) if sha256 else None
    if document is None:
        abort(404)
    # A versioned URL (?v=<start of the hash>) may be kept a day by the browser.
    fresh = request.args.get("v") == sha256[:12]
    return document_response(document, max_age=86400 if fresh else None)
