from flask import render_template

from app.access import lead_required
from app.audit import bp


@bp.route("/audit")
@lead_required
def index():
    return render_template("errors/404.html"), 404
