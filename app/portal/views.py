from flask import abort, g, redirect, url_for
from flask_login import current_user

from app.access import client_of_member, install_client_scope, roles_required
from app.portal import bp

install_client_scope(bp)


@bp.route("/portal")
@roles_required("client")
def entry():
    client = client_of_member(current_user)
    if client is None:
        abort(404)
    return redirect(url_for("portal.home", client_id=client.id))


@bp.route("/clients/<int:client_id>/portal")
def home():
    return g.client.name
