"""French-first formats for templates and documents ("708,00 €", "1 h 30",
"octobre 2026"), through Babel with the request's locale."""

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel import Locale, numbers
from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale

# Language chosen -> locale used: English text with British formats
# (day/month dates, 24-hour times); its catalog is found under "en".
LOCALES = {"fr": "fr_FR", "en": "en_GB"}


# Formatting a number through Babel takes tens of microseconds, and a page
# such as the lead's dashboard formats hundreds of them, mostly the same from
# one request to the next. The text depends only on the number, the currency
# or pattern and the locale, so it is remembered by those. The number is keyed
# by its exact text ("-0.00" and "0" are equal Decimals that Babel writes
# differently).
@lru_cache(maxsize=8192)
def _currency(amount: str, currency: str, locale: Locale) -> str:
    return numbers.format_currency(Decimal(amount), currency, locale=locale)


@lru_cache(maxsize=4096)
def _percent(value: str, decimals: bool, locale: Locale) -> str:
    pattern = locale.percent_formats[None].pattern
    if decimals:
        pattern = pattern.replace("#,##0", "#,##0.##")
    return numbers.format_percent(Decimal(value) / 100, format=pattern, locale=locale)


def money(amount: Decimal | int | None, currency: str = "EUR") -> str:
    if amount is None:
        return "—"
    return _currency(str(Decimal(amount)), currency, get_locale())


def duration(minutes: int | None) -> str:
    """Minutes as "1 h 30", "45 min", "2 h"."""
    if minutes is None:
        return "—"
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(int(minutes)), 60)
    if hours == 0:
        return f"{sign}{rest} min"
    if rest == 0:
        return f"{sign}{hours} h"
    return f"{sign}{hours} h {rest:02d}"


def day(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, fmt)


def long_day(value: date, year: bool = True) -> str:
    """ "1er août 2026", "24 novembre" (French writes the first of the month
    "1er"); "1 August 2026" in English."""
    text = format_date(value, "d MMMM yyyy" if year else "d MMMM")
    if value.day == 1 and get_locale().language == "fr":
        text = "1er" + text[1:]
    return text


def moment(value: datetime | None, fmt: str = "short") -> str:
    if value is None:
        return "—"
    return format_datetime(value, fmt)


def month(value: date) -> str:
    """ "octobre 2026"."""
    return format_date(value, "LLLL yyyy")


def number(value: Decimal | int | float, digits: int = 0) -> str:
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""))


def percent(value: Decimal | int | None, decimals: bool = False) -> str:
    """A percentage given in percent: 80 -> "80 %" in French, "80%" in
    English; with `decimals`, 5.5 -> "5,5 %"."""
    if value is None:
        return "—"
    return _percent(str(Decimal(value)), decimals, get_locale())


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        money=money, duration=duration, day=day, moment=moment, month=month, number=number, percent=percent
    )
