"""The state of a PDF-rendering job (a report's, an invoice's), kept on the
record it renders, and the JSON its page polls (app/static/js/relais.js)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l


class RenderState(StrEnum):
    """Where a PDF job is (its outcome lives on the record, not in RQ)."""

    IDLE = "idle"
    QUEUED = "queued"
    RENDERING = "rendering"
    DONE = "done"
    FAILED = "failed"


RENDER_PERCENT = {RenderState.QUEUED: 10, RenderState.RENDERING: 50}
PENDING_STATES = (RenderState.QUEUED, RenderState.RENDERING)


def render_status(record: Any, labels: Mapping[str, Any]) -> dict:
    """What the page's poller reads of `record` (its `render_state` and
    `render_error`), with `labels` naming each state."""
    state = record.render_state
    failed = state == RenderState.FAILED
    return {
        "finished": state not in PENDING_STATES,
        "percent": RENDER_PERCENT.get(state, 100),
        "state": state,
        "fields": {
            "state": str(labels.get(state, state)),
            "error": str(record.render_error or _l("Raison inconnue.")) if failed else "",
        },
    }
