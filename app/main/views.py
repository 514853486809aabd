from flask import redirect, render_template, request, session, url_for
from flask_login import current_user

from app.access import lead_required, public
from app.audit.labels import action_label
from app.auth.views import safe_next
from app.contracts.budget_cache import budget_table
from app.extensions import db
from app.main import bp
from app.main.services import dashboard_summary
from app.timesheets.calendar import month_start
from app.timeutil import today


@bp.route("/")
def home():
    """Each role lands on its own page."""
    if current_user.is_lead:
        return redirect(url_for("main.dashboard"))
    if current_user.is_cm:
        return redirect(url_for("timesheets.day"))
    return redirect(url_for("portal.entry"))


@bp.route("/dashboard")
@lead_required
def dashboard():
    month = month_start(today())
    return render_template(
        "main/dashboard.html",
        summary=dashboard_summary(),
        action_label=action_label,
        budget_table=budget_table(month),
        month=month,
    )


@bp.route("/language", methods=["POST"])
@public
def set_language():
    lang = request.form.get("lang")
    if lang in ("fr", "en"):
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("main.home"))
