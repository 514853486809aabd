"""Form fields for French input: amounts ("1 234,56 €")."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from wtforms import StringField

_SPACES = re.compile(r"[\s\u00a0\u202f]")
MAX_AMOUNT = Decimal("9999999999.99")


def parse_decimal(text: str) -> Decimal:
    """ "1 234,56 €" -> Decimal("1234.56"); ValueError when not a number."""
    value = _SPACES.sub("", text or "").replace("€", "").replace("%", "").replace(",", ".")
    if not re.fullmatch(r"-?\d{1,12}(\.\d{1,6})?", value):
        raise ValueError(value)
    try:
        return Decimal(value)
    except InvalidOperation as error:  # pragma: no cover - the regex admits only numbers
        raise ValueError(value) from error


class DecimalInputField(StringField):
    """A non-negative decimal typed the French way; None when left empty."""

    invalid_message = _l("Saisissez un nombre, par exemple 708,00.")

    def __init__(self, *args, places: int = 2, maximum: Decimal = MAX_AMOUNT, **kwargs):
        super().__init__(*args, **kwargs)
        self.places = places
        self.maximum = maximum

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not (valuelist[0] or "").strip():
            return
        self.raw = valuelist[0]
        try:
            value = parse_decimal(valuelist[0])
        except ValueError as error:
            raise ValueError(str(self.invalid_message)) from error
        if value < 0:
            raise ValueError(str(_l("Le montant ne peut pas être négatif.")))
        if value > self.maximum:
            raise ValueError(str(_l("Ce nombre est trop grand.")))
        quantum = Decimal(1).scaleb(-self.places)
        if value != value.quantize(quantum):
            raise ValueError(str(_l("Au plus %(places)s décimales.", places=self.places)))
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{self.data:.{self.places}f}".replace(".", ",")
