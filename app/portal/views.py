"""The client's own space. A client user sees its company's; a lead may open
any client's to see what the client sees; a CM has no business here."""

from flask import abort, g, redirect, render_template, url_for
from flask_login import current_user

from app.access import client_of_member, install_client_scope, roles_required
from app.agency.services import legal_form_label
from app.portal import bp
from app.portal.services import portal_home
from app.timeutil import today
from app.validators import format_iban

install_client_scope(bp)


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
        today=today(),
    )
