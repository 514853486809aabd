"""SIREN and VAT numbers of a client (the shared rules live in app.validators;
here: what the client form and service make of them)."""

import pytest

from app.clients.services import check_client_vat
from app.validators import InvalidIdentifier, fr_vat_number, is_valid_siren


@pytest.mark.parametrize("siren", ["552032534", "542051180", "443061841"])
def test_real_sirens_pass_the_luhn_check(siren):
    assert is_valid_siren(siren)


@pytest.mark.parametrize("siren", ["552032535", "123456789", "55203253", "5520325340"])
def test_a_wrong_key_or_length_is_refused(siren):
    assert not is_valid_siren(siren)


def test_vat_key_follows_the_french_rule():
    # Danone SA: SIREN 552 032 534, VAT FR27 552 032 534.
    assert (12 + 3 * (552032534 % 97)) % 97 == 27
    assert fr_vat_number("552032534") == "FR27552032534"


def test_a_french_client_vat_number_is_checked_against_its_siren(app):
    with app.test_request_context():
        assert check_client_vat("fr 27 552 032 534", "552032534") == "FR27552032534"
        assert check_client_vat("FR27552032534", None) == "FR27552032534"
        with pytest.raises(InvalidIdentifier, match="ne correspond pas au SIREN"):
            check_client_vat("FR59542051180", "552032534")
        with pytest.raises(InvalidIdentifier, match="clé"):
            check_client_vat("FR28552032534", None)
        with pytest.raises(InvalidIdentifier, match="FR, 2 chiffres"):
            check_client_vat("BE0403170701", None, "FR")


def test_a_foreign_client_may_have_a_foreign_vat_number(app):
    with app.test_request_context():
        assert check_client_vat("be 0403.170.701".replace(".", ""), None, "BE") == "BE0403170701"
        with pytest.raises(InvalidIdentifier, match="format"):
            check_client_vat("B!", None, "BE")
        # A French number stays checked even for a foreign address.
        with pytest.raises(InvalidIdentifier):
            check_client_vat("FR28552032534", None, "BE")


def test_spaces_in_siren_and_vat_are_stripped_on_save(client, login_as, db):
    from sqlalchemy import select

    from app.clients.models import Client
    from tests.factories import make_lead

    login_as(make_lead())
    data = {
        "name": "Danone",
        "siren": "552\u00a0032 534",
        "vat_number": "fr27 552 032 534",
        "country_code": "FR",
    }
    assert client.post("/clients/new", data=data).status_code == 302
    saved = db.session.scalar(select(Client).where(Client.name == "Danone"))
    assert (saved.siren, saved.vat_number) == ("552032534", "FR27552032534")
