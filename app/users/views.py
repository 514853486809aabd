from flask import render_template

from app.access import lead_required
from app.users import bp


@bp.route("")
@lead_required
def index():
    return render_template("errors/404.html"), 404


@bp.route("/invite", methods=["GET", "POST"])
@lead_required
def invite():
    return render_template("errors/404.html"), 404
