"""Form fields for French input: amounts ("1 234,56 €"), durations ("1h30"),
hours ("30" or "12,5"), months ("2026-10")."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import DateField as _DateField
from wtforms import IntegerField as _IntegerField
from wtforms import SelectChoice, StringField

from app.money import to_cents
from app.security import MAX_ID  # ids are PostgreSQL integers: a larger number names no row
from app.timesheets.calendar import parse_month
from app.timesheets.duration import DurationError, format_duration, parse_duration

_SPACES = re.compile(r"[\s\u00a0\u202f]")
MAX_AMOUNT = Decimal("9999999999.99")


# The days the app deals with (as months, in parse_month): a date outside
# is a typo or a forged URL, and date arithmetic near year 1 or 9999 overflows.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)


def parse_id(value: object) -> int | None:
    """ "12" -> 12; None for anything that cannot be a row's id (empty, not
    a whole number, zero or less, beyond the integer column)."""
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def parse_decimal(text: str) -> Decimal:
    """ "1 234,56 €" -> Decimal("1234.56"); ValueError when not a number."""
    value = _SPACES.sub("", text or "").replace("€", "").replace("%", "").replace(",", ".")
    if not re.fullmatch(r"-?\d{1,12}(\.\d{1,6})?", value):
        raise ValueError(value)
    try:
        return Decimal(value)
    except InvalidOperation as error:  # pragma: no cover - the regex admits only numbers
        raise ValueError(value) from error


def _blank(field, valuelist) -> bool:
    """Nothing but spaces typed: no input at all. `raw_data` is emptied too,
    so that InputRequired refuses it with the field's own message instead
    of letting None through to a service or a NOT NULL column."""
    if valuelist and (valuelist[0] or "").strip():
        return False
    field.raw_data = []
    return True


class DecimalInputField(StringField):
    """A non-negative decimal typed the French way; None when left empty.
    Subclasses adjust the messages, the bounds and how a value is shown."""

    invalid_message = _l("Saisissez un nombre, par exemple 708,00.")
    negative_message = _l("Le montant ne peut pas être négatif.")
    too_big_message = _l("Ce nombre est trop grand.")
    places = 2
    maximum = MAX_AMOUNT
    trim_zeros = False  # show "2,5" rather than "2,50"

    def __init__(self, *args, places: int | None = None, maximum: Decimal | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if places is not None:
            self.places = places
        if maximum is not None:
            self.maximum = maximum

    def process_formdata(self, valuelist):
        self.data = None
        if _blank(self, valuelist):
            return
        self.raw = valuelist[0]
        try:
            value = parse_decimal(valuelist[0])
        except ValueError as error:
            raise ValueError(str(self.invalid_message)) from error
        if value < 0:
            raise ValueError(str(self.negative_message))
        if value > self.maximum:
            raise ValueError(str(self.too_big_message))
        quantum = Decimal(1).scaleb(-self.places)
        if value != value.quantize(quantum):
            raise ValueError(str(_l("Au plus %(places)s décimales.", places=self.places)))
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        text = f"{self.data:.{self.places}f}"
        if self.trim_zeros:
            text = text.rstrip("0").rstrip(".")
        return text.replace(".", ",")


class DateField(_DateField):
    """WTForms' DateField, for a day between FIRST_DAY and LAST_DAY: "0026"
    for "2026" is a typo to point out, not a payment of the year 26."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not FIRST_DAY <= self.data <= LAST_DAY:
            self.data = None
            raise ValueError(
                str(_l("Une date entre %(first)s et %(last)s.", first=FIRST_DAY.year, last=LAST_DAY.year))
            )


class IntegerField(_IntegerField):
    """WTForms' IntegerField, refusing a number of more than 12 digits with a
    message: NumberRange turns the number into a float, and one of a few
    hundred digits makes that fail (a 500)."""

    def process_formdata(self, valuelist):
        if valuelist and len((valuelist[0] or "").strip()) > 12:
            self.data = None
            raise ValueError(str(_l("Ce nombre est trop grand.")))
        super().process_formdata(valuelist)


class MoneyField(DecimalInputField):
    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = to_cents(self.data)


class DurationField(StringField):
    """Minutes, typed as "1h30", "1:30", "90" or "1,5"."""

    def process_formdata(self, valuelist):
        self.data = None
        if _blank(self, valuelist):
            return
        try:
            self.data = parse_duration(valuelist[0])
        except DurationError as error:
            raise ValueError(str(error)) from error

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_duration(self.data) if self.data else ""


class HoursField(DecimalInputField):
    """A number of hours ("30", "12,5") given back as minutes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, places=2, maximum=Decimal(744), **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = int((self.data * 60).to_integral_value())

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        hours = Decimal(self.data) / 60
        text = f"{hours:.2f}".rstrip("0").rstrip(".")
        return text.replace(".", ",")


class MonthField(StringField):
    """A month as <input type="month">: "2026-10" -> date(2026, 10, 1)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {}).setdefault("type", "month")
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        self.data = None
        if _blank(self, valuelist):
            return
        month = parse_month(valuelist[0].strip())
        if month is None:
            raise ValueError(str(_l("Mois invalide : utilisez le format AAAA-MM.")))
        self.data = month

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%Y-%m") if isinstance(self.data, date) else ""


# Region codes Babel lists among territories that are not countries.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB", "AC", "CP", "DG", "EA", "IC", "TA", "CQ"}


def country_choices() -> list[SelectChoice]:
    """France first, then every country by its name in the user's language."""
    names = Locale.parse(str(get_locale() or "fr")).territories
    others = sorted(
        (
            (code, name)
            for code, name in names.items()
            if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES and code != "FR"
        ),
        key=lambda item: item[1],
    )
    return [SelectChoice("FR", names.get("FR", "France"))] + [
        SelectChoice(code, name) for code, name in others
    ]
