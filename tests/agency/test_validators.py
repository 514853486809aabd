"""app/validators.py: SIREN/SIRET (Luhn), French VAT key, IBAN (mod 97), BIC."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField
from wtforms.validators import Optional

from app.validators import (
    Bic,
    FrenchVatNumber,
    Iban,
    InvalidIdentifier,
    Siren,
    Siret,
    check_fr_vat,
    check_iban,
    check_siren,
    check_siret,
    format_iban,
    fr_vat_key,
    fr_vat_number,
    iban_check_digits,
    is_valid_bic,
    is_valid_fr_vat,
    is_valid_iban,
    is_valid_siren,
    is_valid_siret,
    luhn_check_digit,
    luhn_valid,
)

# -- SIREN / SIRET ------------------------------------------------------------


@pytest.mark.parametrize("siren", ["443061841", "552032534", "542051180", "443 061 841", "356000000"])
def test_real_sirens_are_valid(siren):
    assert is_valid_siren(siren)


@pytest.mark.parametrize(
    ("siren", "message"),
    [
        ("443061842", "clé de contrôle"),
        ("123456789", "clé de contrôle"),
        ("000000000", "clé de contrôle"),
        ("44306184", "exactement 9 chiffres"),
        ("4430618410", "exactement 9 chiffres"),
        ("44306184a", "exactement 9 chiffres"),
        ("", "exactement 9 chiffres"),
        ("４４３０６１８４１", "exactement 9 chiffres"),  # full-width digits are not ASCII digits
    ],
)
def test_invalid_sirens_are_refused_with_the_reason(siren, message):
    with pytest.raises(InvalidIdentifier, match=message):
        check_siren(siren)


def test_spaces_of_every_kind_are_ignored_in_a_siren():
    assert check_siren(" 443\u00a0061\u202f841 ") == "443061841"


@pytest.mark.parametrize("siret", ["44306184100013", "443 061 841 00013", "73282932000074"])
def test_valid_sirets(siret):
    assert is_valid_siret(siret)


def test_la_poste_sirets_follow_their_own_rule():
    # La Poste shares SIREN 356 000 000: the sum of the digits is a multiple of 5.
    assert is_valid_siret("35600000000048")
    assert is_valid_siret("35600000049837")
    assert not is_valid_siret("35600000000049")


@pytest.mark.parametrize(
    ("siret", "siren", "message"),
    [
        ("44306184100014", None, "clé de contrôle"),
        ("4430618410001", None, "exactement 14 chiffres"),
        ("73282932000074", "443061841", "doit commencer par les 9 chiffres du SIREN"),
    ],
)
def test_invalid_sirets_are_refused_with_the_reason(siret, siren, message):
    with pytest.raises(InvalidIdentifier, match=message):
        check_siret(siret, siren)


def test_a_siret_whose_siren_part_is_invalid_is_refused_even_if_luhn_passes():
    bad_siren = "443061842"  # wrong SIREN key
    partial = bad_siren + "0001"
    siret = partial + luhn_check_digit(partial)
    assert luhn_valid(siret)
    assert not is_valid_siret(siret)


@given(st.text(alphabet="0123456789", min_size=8, max_size=13))
def test_luhn_check_digit_round_trip(partial):
    assert luhn_valid(partial + luhn_check_digit(partial))


@given(
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.integers(min_value=0, max_value=8),
    st.integers(min_value=1, max_value=9),
)
def test_luhn_catches_every_single_digit_mistake(partial, position, delta):
    siren = partial + luhn_check_digit(partial)
    wrong = siren[:position] + str((int(siren[position]) + delta) % 10) + siren[position + 1 :]
    assert not luhn_valid(wrong)


# -- French VAT number ------------------------------------------------------------


def test_french_vat_key_follows_the_official_formula():
    assert fr_vat_key("443061841") == (12 + 3 * (443061841 % 97)) % 97 == 64
    assert fr_vat_number("552032534") == "FR27552032534"  # Danone
    assert fr_vat_number("542 051 180") == "FR59542051180"  # Total


def test_a_one_digit_vat_key_is_written_with_two_digits():
    siren = next(
        f"{n:09d}"
        for n in range(100000000, 100100000)
        if is_valid_siren(f"{n:09d}") and fr_vat_key(f"{n:09d}") < 10
    )
    vat = fr_vat_number(siren)
    assert vat[2] == "0" and len(vat) == 13
    assert is_valid_fr_vat(vat, siren)


@pytest.mark.parametrize("vat", ["FR64443061841", "fr 64 443 061 841", "FR27552032534"])
def test_valid_french_vat_numbers(vat):
    assert is_valid_fr_vat(vat)


@pytest.mark.parametrize(
    ("vat", "siren", "message"),
    [
        ("FR00443061841", None, "ne correspond pas à son SIREN : attendu FR64443061841"),
        ("FR64443061842", None, "SIREN contenu dans ce numéro de TVA n'est pas valide"),
        ("DE123456789", None, "s'écrit FR"),
        ("FR6444306184", None, "s'écrit FR"),
        ("FR27552032534", "443061841", "pour ce SIREN, c'est FR64443061841"),
    ],
)
def test_invalid_french_vat_numbers_are_refused_with_the_reason(vat, siren, message):
    with pytest.raises(InvalidIdentifier, match=message):
        check_fr_vat(vat, siren)


# -- IBAN / BIC ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    [
        "FR76 3000 6000 0112 3456 7890 189",
        "fr7630006000011234567890189",
        "GB82 WEST 1234 5698 7654 32",
        "DE89 3704 0044 0532 0130 00",
        "BE68 5390 0754 7034",
        "MC58 1122 2000 0101 2345 6789 030",
    ],
)
def test_valid_ibans(iban):
    assert is_valid_iban(iban)


@pytest.mark.parametrize(
    ("iban", "message"),
    [
        ("FR7630006000011234567890188", "clé de contrôle"),
        ("FR7630006000011234567890198", "clé de contrôle"),  # two digits swapped
        ("FR76300060000112345678901", "compte 27 caractères ; celui-ci en a 25"),
        ("7630006000011234567890189", "commence par 2 lettres"),
        ("FR76-3000-6000-0112", "commence par 2 lettres"),
        ("", "commence par 2 lettres"),
    ],
)
def test_invalid_ibans_are_refused_with_the_reason(iban, message):
    with pytest.raises(InvalidIdentifier, match=message):
        check_iban(iban)


def test_check_digits_00_01_and_99_are_never_valid():
    bban = "30006000011234567890189"
    good = iban_check_digits("FR", bban)
    assert is_valid_iban(f"FR{good}{bban}")
    for digits in ("00", "01", "99"):
        assert not is_valid_iban(f"FR{digits}{bban}")


_FR_BBAN = st.tuples(
    st.text(alphabet="0123456789", min_size=10, max_size=10),
    st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=11, max_size=11),
    st.text(alphabet="0123456789", min_size=2, max_size=2),
).map("".join)


@given(_FR_BBAN)
def test_iban_check_digits_round_trip(bban):
    iban = "FR" + iban_check_digits("FR", bban) + bban
    assert check_iban(format_iban(iban).lower()) == iban


@given(_FR_BBAN, st.data())
def test_mod_97_catches_every_single_character_mistake(bban, data):
    iban = "FR" + iban_check_digits("FR", bban) + bban
    position = data.draw(st.integers(min_value=4, max_value=len(iban) - 1))
    alphabet = "0123456789" if iban[position].isdigit() else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != iban[position]]))
    assert not is_valid_iban(iban[:position] + replacement + iban[position + 1 :])


def test_format_iban_groups_by_four():
    assert format_iban("fr7630006000011234567890189") == "FR76 3000 6000 0112 3456 7890 189"


@pytest.mark.parametrize("bic", ["BNPAFRPP", "bnpafrpp", "BNPAFRPPXXX", "AGRIFRPP882", "DEUTDEFF"])
def test_valid_bics(bic):
    assert is_valid_bic(bic)


@pytest.mark.parametrize("bic", ["BNPAFRP", "BNPAFRPPXX", "BNPA1RPP", "1NPAFRPP", "BNPAFRPP-XX"])
def test_invalid_bics(bic):
    assert not is_valid_bic(bic)


# -- WTForms validators ---------------------------------------------------------------


class IdentityForm(Form):
    siren = StringField(validators=[Optional(), Siren()])
    siret = StringField(validators=[Siret(siren_field="siren")])
    vat = StringField(validators=[FrenchVatNumber(siren_field="siren")])
    iban = StringField(validators=[Iban()])
    bic = StringField(validators=[Bic()])


def _form(**data) -> IdentityForm:
    return IdentityForm(MultiDict(data))


def test_wtforms_validators_accept_valid_and_empty_values(app):
    with app.test_request_context():
        assert _form(
            siren="443 061 841",
            siret="443 061 841 00013",
            vat="FR64443061841",
            iban="FR76 3000 6000 0112 3456 7890 189",
            bic="BNPAFRPP",
        ).validate()
        assert _form().validate()


def test_wtforms_validators_report_french_messages_on_their_field(app):
    with app.test_request_context():
        form = _form(
            siren="443061841",
            siret="73282932000074",
            vat="FR27552032534",
            iban="FR7630006000011234567890188",
            bic="BNP",
        )
        assert not form.validate()
        assert "doit commencer par les 9 chiffres du SIREN" in form.siret.errors[0]
        assert "ne correspond pas au SIREN indiqué" in form.vat.errors[0]
        assert "IBAN n'est pas valide" in form.iban.errors[0]
        assert "BIC compte 8 ou 11 caractères" in form.bic.errors[0]


def test_an_invalid_siren_is_reported_once_not_on_the_siret_and_vat_too(app):
    with app.test_request_context():
        form = _form(siren="443061842", siret="44306184100013", vat="FR64443061841")
        assert not form.validate()
        assert form.siren.errors
        assert not form.siret.errors and not form.vat.errors
