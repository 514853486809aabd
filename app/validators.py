"""Checks of French business identifiers and bank details, shared by forms.

Plain functions first (no Flask needed, easy to test): `check_siren`,
`check_siret`, `check_fr_vat`, `check_iban`, `check_bic` return the value
normalised or raise `InvalidIdentifier` with a French message; `is_valid_*`
answer yes or no. Then WTForms validator classes (`Siren`, `Siret`,
`FrenchVatNumber`, `Iban`, `Bic`) that wrap them, and `normalise_*` helpers
usable as WTForms `filters`.

- SIREN: 9 digits, Luhn key.
- SIRET: 14 digits, Luhn key (La Poste's, SIREN 356 000 000, may instead
  have a sum of digits divisible by 5), starting with the company's SIREN.
- French VAT number: "FR" + key + SIREN, key = (12 + 3 * (SIREN % 97)) % 97.
- IBAN: ISO 13616, length of its country, mod-97 check equal to 1.
- BIC: ISO 9362, 8 or 11 characters.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

__all__ = [
    "Bic",
    "FrenchVatNumber",
    "Iban",
    "InvalidIdentifier",
    "Siren",
    "Siret",
    "check_bic",
    "check_fr_vat",
    "check_iban",
    "check_siren",
    "check_siret",
    "format_iban",
    "fr_vat_key",
    "fr_vat_number",
    "iban_check_digits",
    "is_valid_bic",
    "is_valid_fr_vat",
    "is_valid_iban",
    "is_valid_siren",
    "is_valid_siret",
    "luhn_check_digit",
    "luhn_valid",
    "normalise_code",
    "normalise_digits",
]

# Ordinary, non-breaking and narrow non-breaking spaces, tabs, new lines.
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
# La Poste's establishments share one SIREN and break the Luhn rule.
LA_POSTE_SIREN = "356000000"

# Length of the IBAN of each country (SWIFT IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}  # fmt: skip

_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_BIC_SHAPE = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
_FR_VAT_SHAPE = re.compile(r"FR[0-9]{2}[0-9]{9}")


class InvalidIdentifier(ValueError):
    """A value that is not a valid identifier; str() is a message for the user."""

    def __init__(self, message: Any):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


# -- normalising ------------------------------------------------------------


def normalise_digits(value: str | None) -> str:
    """ "443 061 841" -> "443061841" (every kind of space and dots removed)."""
    return _SPACES.sub("", value or "").replace(".", "")


def normalise_code(value: str | None) -> str:
    """ "fr76 3000 6000 ..." -> "FR7630006000..." (spaces removed, upper case)."""
    return _SPACES.sub("", value or "").upper()


# -- Luhn: SIREN, SIRET -----------------------------------------------------


def luhn_valid(digits: str) -> bool:
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        n = int(char)
        if position % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that makes `partial` + digit pass the Luhn check."""
    for digit in "0123456789":
        if luhn_valid(partial + digit):
            return digit
    raise ValueError("not a string of digits")  # pragma: no cover - unreachable for digits


def check_siren(value: str | None) -> str:
    siren = normalise_digits(value)
    if not re.fullmatch(r"[0-9]{9}", siren):
        raise InvalidIdentifier(_l("Le SIREN compte exactement 9 chiffres."))
    if not luhn_valid(siren) or siren == "000000000":
        raise InvalidIdentifier(
            _l("Ce SIREN n'est pas valide : sa clé de contrôle ne correspond pas. Vérifiez les chiffres.")
        )
    return siren


def check_siret(value: str | None, siren: str | None = None) -> str:
    """A valid SIRET; when `siren` is given, it must start with it."""
    siret = normalise_digits(value)
    if not re.fullmatch(r"[0-9]{14}", siret):
        raise InvalidIdentifier(_l("Le SIRET compte exactement 14 chiffres (SIREN + 5 chiffres)."))
    key_ok = luhn_valid(siret) and luhn_valid(siret[:9])
    if not key_ok and siret.startswith(LA_POSTE_SIREN):
        key_ok = sum(int(c) for c in siret) % 5 == 0
    if not key_ok:
        raise InvalidIdentifier(
            _l("Ce SIRET n'est pas valide : sa clé de contrôle ne correspond pas. Vérifiez les chiffres.")
        )
    if siren and not siret.startswith(normalise_digits(siren)):
        raise InvalidIdentifier(_l("Le SIRET doit commencer par les 9 chiffres du SIREN."))
    return siret


def is_valid_siren(value: str | None) -> bool:
    return _passes(check_siren, value)


def is_valid_siret(value: str | None, siren: str | None = None) -> bool:
    return _passes(check_siret, value, siren)


# -- French VAT number ------------------------------------------------------


def fr_vat_key(siren: str) -> int:
    """The French VAT key of a SIREN: (12 + 3 * (SIREN mod 97)) mod 97."""
    return (12 + 3 * (int(siren) % 97)) % 97


def fr_vat_number(siren: str) -> str:
    """ "443061841" -> "FR" + 2-digit key + SIREN."""
    siren = normalise_digits(siren)
    return f"FR{fr_vat_key(siren):02d}{siren}"


def check_fr_vat(value: str | None, siren: str | None = None) -> str:
    """A valid French VAT number; when `siren` is given, it must be its own."""
    vat = normalise_code(value)
    if not _FR_VAT_SHAPE.fullmatch(vat):
        raise InvalidIdentifier(
            _l("Un numéro de TVA français s'écrit FR, 2 chiffres de clé, puis les 9 chiffres du SIREN.")
        )
    own_siren = vat[4:]
    if not is_valid_siren(own_siren):
        raise InvalidIdentifier(_l("Le SIREN contenu dans ce numéro de TVA n'est pas valide."))
    if int(vat[2:4]) != fr_vat_key(own_siren):
        raise InvalidIdentifier(
            _l(
                "La clé de ce numéro de TVA (les 2 chiffres après FR) ne correspond pas à son SIREN : "
                "attendu %(expected)s.",
                expected=fr_vat_number(own_siren),
            )
        )
    if siren and own_siren != normalise_digits(siren):
        raise InvalidIdentifier(
            _l(
                "Ce numéro de TVA ne correspond pas au SIREN indiqué : pour ce SIREN, c'est %(expected)s.",
                expected=fr_vat_number(normalise_digits(siren)),
            )
        )
    return vat


def is_valid_fr_vat(value: str | None, siren: str | None = None) -> bool:
    return _passes(check_fr_vat, value, siren)


# -- IBAN, BIC --------------------------------------------------------------


def _iban_number(rearranged: str) -> int:
    """Letters become two digits (A = 10 ... Z = 35), as ISO 13616 says."""
    return int("".join(str(int(c, 36)) for c in rearranged))


def iban_check_digits(country: str, bban: str) -> str:
    """The two check digits of an IBAN of `country` with this BBAN."""
    return f"{98 - _iban_number(bban + country + '00') % 97:02d}"


def check_iban(value: str | None) -> str:
    iban = normalise_code(value)
    if not _IBAN_SHAPE.fullmatch(iban):
        raise InvalidIdentifier(
            _l(
                "Un IBAN commence par 2 lettres (le pays) et 2 chiffres de contrôle, "
                "suivis de 11 à 30 lettres ou chiffres."
            )
        )
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        raise InvalidIdentifier(
            _l(
                "Un IBAN commençant par %(country)s compte %(expected)d caractères ; "
                "celui-ci en a %(actual)d.",
                country=iban[:2],
                expected=expected,
                actual=len(iban),
            )
        )
    if iban[2:4] in {"00", "01", "99"} or _iban_number(iban[4:] + iban[:4]) % 97 != 1:
        raise InvalidIdentifier(
            _l("Cet IBAN n'est pas valide : sa clé de contrôle ne correspond pas. Vérifiez la saisie.")
        )
    return iban


def is_valid_iban(value: str | None) -> bool:
    return _passes(check_iban, value)


def format_iban(value: str | None) -> str:
    """ "FR7630006000011234567890189" -> "FR76 3000 6000 0112 3456 7890 189"."""
    iban = normalise_code(value)
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def check_bic(value: str | None) -> str:
    bic = normalise_code(value)
    if not _BIC_SHAPE.fullmatch(bic):
        raise InvalidIdentifier(
            _l(
                "Un BIC compte 8 ou 11 caractères : 4 lettres (la banque), 2 lettres (le pays), "
                "2 lettres ou chiffres, et éventuellement 3 de plus (l'agence)."
            )
        )
    return bic


def is_valid_bic(value: str | None) -> bool:
    return _passes(check_bic, value)


def _passes(check, *args: Any) -> bool:
    try:
        check(*args)
    except InvalidIdentifier:
        return False
    return True


# -- WTForms validators -----------------------------------------------------
# Each one lets an empty field through: combine with DataRequired/Optional.


class _IdentifierValidator:
    def __init__(self, message: Any = None):
        self.message = message

    def check(self, form: Any, value: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, form: Any, field: Any) -> None:
        if not (field.data or "").strip():
            return
        try:
            self.check(form, field.data)
        except InvalidIdentifier as error:
            raise ValidationError(str(self.message or error)) from error


def _other_field_value(form: Any, name: str | None) -> str | None:
    """The value of a sibling field if it is itself a valid SIREN, else None
    (its own error is shown on it; no need to repeat it here)."""
    if not name:
        return None
    value = getattr(form, name).data
    return normalise_digits(value) if is_valid_siren(value) else None


class Siren(_IdentifierValidator):
    def check(self, form: Any, value: str) -> None:
        check_siren(value)


class Siret(_IdentifierValidator):
    """`siren_field`: the form's SIREN field the SIRET must start with."""

    def __init__(self, siren_field: str | None = None, message: Any = None):
        super().__init__(message)
        self.siren_field = siren_field

    def check(self, form: Any, value: str) -> None:
        check_siret(value, _other_field_value(form, self.siren_field))


class FrenchVatNumber(_IdentifierValidator):
    """`siren_field`: the form's SIREN field the number must belong to."""

    def __init__(self, siren_field: str | None = None, message: Any = None):
        super().__init__(message)
        self.siren_field = siren_field

    def check(self, form: Any, value: str) -> None:
        check_fr_vat(value, _other_field_value(form, self.siren_field))


class Iban(_IdentifierValidator):
    def check(self, form: Any, value: str) -> None:
        check_iban(value)


class Bic(_IdentifierValidator):
    def check(self, form: Any, value: str) -> None:
        check_bic(value)
