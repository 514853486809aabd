"""The lead's budget table, rendered once per state of the data it shows.

Computing and rendering every running contract's budget is most of the
dashboard's time, and the table only changes when an entry, a contract, its
terms or a client does (or the day, or the month). Each such change moves on
its client's `BudgetStamp` in its own transaction (database triggers of
migration 8d1f2b7c4e90), so the sum of the stamps, read before the data,
names the data exactly: read first, it can only be older than the data read
after it, never newer, so a table is never kept under a key that promises
more than it shows. Each process keeps the last table rendered, by month,
day, language and that sum.

Only for every client's table (the lead's scope): a narrower scope sees part
of the stamps, and renders its own table every time.
"""

from __future__ import annotations

from datetime import date
from threading import Lock

from flask import current_app, render_template
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import func, select

from app.access import current_scope
from app.contracts.budget import budget_overview
from app.contracts.models import BudgetStamp
from app.extensions import db
from app.timeutil import today

TEMPLATE = "contracts/_budget_table.html"
_lock = Lock()


def budget_stamp() -> int:
    """The sum of every client's stamp: larger after any committed change
    of what the budget table shows."""
    return db.session.scalar(select(func.coalesce(func.sum(BudgetStamp.version), 0)))


def budget_table(month: date) -> Markup:
    """The rendered table of every contract running in `month` (see
    `budget_overview`), from this process's cache when nothing it shows has
    changed since it was rendered."""
    if current_scope().clients is not None:
        return _render(month)
    key = (month, today(), str(get_locale()), budget_stamp())
    cache = current_app.extensions.setdefault("relais_budget_table", {})
    html = cache.get(key)
    if html is None:
        html = _render(month)
        with _lock:
            cache.clear()  # the last state only: an older one never comes back
            cache[key] = html
    return html


def _render(month: date) -> Markup:
    # A template's output, escaped by Jinja as it rendered: safe to include.
    return Markup(render_template(TEMPLATE, budgets=budget_overview(month)))  # noqa: S704
