"""Months and working days (weekends and French public holidays excluded)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

import holidays


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text: str | None) -> date | None:
    """ "2026-10" -> date(2026, 10, 1); None when malformed."""
    if not text or len(text) != 7 or text[4] != "-":
        return None
    try:
        year, month = int(text[:4]), int(text[5:])
        if not 2000 <= year <= 2100:
            return None
        return date(year, month, 1)
    except ValueError:
        return None


@lru_cache(maxsize=64)
def _french_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.France(years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def working_days(first: date, last: date) -> int:
    count, day = 0, first
    while day <= last:
        if is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return count


def previous_working_days(day: date, count: int) -> list[date]:
    """The `count` working days before `day` (most recent first)."""
    found: list[date] = []
    current = day - timedelta(days=1)
    while len(found) < count:
        if is_working_day(current):
            found.append(current)
        current -= timedelta(days=1)
    return found


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
