from flask import g, render_template

from app.access import install_client_scope, lead_required, roles_required
from app.clients import bp

install_client_scope(bp)


@bp.route("/clients")
@lead_required
def index():
    return render_template("errors/404.html"), 404


@bp.route("/clients/new", methods=["GET", "POST"])
@lead_required
def create():
    return render_template("errors/404.html"), 404


@bp.route("/my-clients")
@roles_required("cm")
def mine():
    return render_template("errors/404.html"), 404


@bp.route("/clients/<int:client_id>")
def show():
    return g.client.name
