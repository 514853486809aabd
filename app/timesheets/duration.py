"""Durations as people type them: "1h30", "1 h 30", "1:30", "90", "1,5".

A bare whole number is minutes ("90" is 1 h 30); a decimal number is hours
("1,5" is 1 h 30); "h" and ":" separate hours from minutes.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

MAX_MINUTES = 24 * 60

_HOURS_MINUTES = re.compile(r"^(\d{1,2})\s*(?:h|:)\s*(?:(\d{1,2})\s*(?:min|mn|m)?)?$")
_MINUTES = re.compile(r"^(\d{1,4})\s*(?:min|mn|m)?$")
_DECIMAL_HOURS = re.compile(r"^(\d{1,2})[.,](\d{1,3})\s*h?$")


class DurationError(ValueError):
    pass


def parse_duration(text: str | None) -> int:
    """Minutes in `text`, between 1 and 1440; DurationError otherwise."""
    value = (text or "").strip().lower().replace("\u00a0", " ")
    if not value:
        raise DurationError(_l("Indiquez une durée, par exemple 1h30 ou 45."))
    if len(value) > 20:
        raise DurationError(_l("Durée illisible : écrivez par exemple 1h30, 1:30, 90 ou 1,5."))
    minutes: int | None = None
    if match := _HOURS_MINUTES.match(value):
        hours, mins = int(match.group(1)), int(match.group(2) or 0)
        if mins >= 60:
            raise DurationError(_l("Les minutes doivent être inférieures à 60."))
        minutes = hours * 60 + mins
    elif match := _MINUTES.match(value):
        minutes = int(match.group(1))
    elif _DECIMAL_HOURS.match(value):
        try:
            hours_dec = Decimal(value.rstrip("h").strip().replace(",", "."))
        except InvalidOperation:  # pragma: no cover - the regex admits only digits
            hours_dec = None
        if hours_dec is not None:
            minutes = int((hours_dec * 60).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    if minutes is None:
        raise DurationError(_l("Durée illisible : écrivez par exemple 1h30, 1:30, 90 ou 1,5."))
    if minutes <= 0:
        raise DurationError(_l("La durée doit être positive."))
    if minutes > MAX_MINUTES:
        raise DurationError(_l("Une durée ne peut pas dépasser 24 h."))
    return minutes


def format_duration(minutes: int) -> str:
    """The form a person would type back: "1h30", "45", "2h"."""
    hours, rest = divmod(int(minutes), 60)
    if hours == 0:
        return str(rest)
    return f"{hours}h{rest:02d}" if rest else f"{hours}h"
