from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.access import lead_required
from app.health import bp
from app.health.services import (
    RetryError,
    close_state,
    database_wall,
    jobs_overview,
    last_webhook,
    retry_failed_job,
)
from app.jobs import redis_reachable


@bp.app_context_processor
def jobs_backend():
    """`redis_down()` for the lead's banner in base.html: the cached ping
    (no Redis call per page), None-safe without REDIS_URL."""
    return {"redis_down": lambda: redis_reachable() is False}


@bp.route("/health")
@lead_required
def index():
    return render_template(
        "health/index.html",
        jobs=jobs_overview(),
        close=close_state(),
        webhook=last_webhook(),
        wall=database_wall(),
    )


@bp.route("/health/jobs/<job_id>/retry", methods=["POST"])
@lead_required
def retry(job_id: str):
    try:
        label = retry_failed_job(job_id)
    except RetryError as error:
        flash(error.message, "error")
    else:
        flash(_("Tâche relancée : %(what)s. Elle attend un worker.", what=label), "success")
    return redirect(url_for("health.index"))
