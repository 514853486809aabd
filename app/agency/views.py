from flask import render_template

from app.access import lead_required
from app.agency import bp


@bp.route("/settings", methods=["GET", "POST"])
@lead_required
def settings():
    return render_template("errors/404.html"), 404
