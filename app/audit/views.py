"""The audit log, for leads: read-only (there is no route to change it)."""

from __future__ import annotations

from flask import current_app, render_template, request

from app.access import lead_required
from app.audit import bp, queries
from app.audit.labels import SENSITIVE_ACTIONS, action_label
from app.extensions import db


@bp.route("/audit")
@lead_required
def index():
    filters = queries.AuditFilters.from_args(request.args)
    page = db.paginate(
        queries.entries(filters),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    return render_template(
        "audit/index.html",
        page=page,
        filters=filters,
        choices=queries.filter_choices(),
        clients=queries.client_names({e.client_id for e in page.items if e.client_id is not None}),
        action_label=action_label,
        sensitive=SENSITIVE_ACTIONS,
        system=queries.SYSTEM,
    )
