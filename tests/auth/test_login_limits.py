"""Login limiting (flask-limiter): failed attempts per account, every attempt
per address; a refusal is a 429 page in French."""

import pytest

from tests.auth.conftest import is_logged_in, page_text, post_login
from tests.factories import make_cm

BAD = "pas-le-bon-mot-de-passe"


@pytest.fixture
def limits(set_config):
    def setter(account: str = "100 per hour", address: str = "100 per hour"):
        set_config(LOGIN_LIMIT_PER_ACCOUNT=account, LOGIN_LIMIT_PER_ADDRESS=address)

    return setter


def from_address(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def test_failures_on_one_account_end_in_a_429_page_in_french(client, db, limits):
    limits(account="3 per 15 minutes")
    make_cm(email="lea@agence.example")
    for _ in range(3):
        assert post_login(client, "lea@agence.example", BAD).status_code == 200
    response = post_login(client, "lea@agence.example", BAD)
    assert response.status_code == 429
    assert "Trop de tentatives" in page_text(response)
    assert '<html lang="fr">' in response.get_data(as_text=True)


def test_a_blocked_account_is_refused_even_with_the_right_password(client, db, limits):
    limits(account="3 per 15 minutes")
    make_cm(email="lea@agence.example")
    for _ in range(3):
        post_login(client, "lea@agence.example", BAD)
    assert post_login(client, "lea@agence.example").status_code == 429
    assert not is_logged_in(client)


def test_the_account_limit_counts_failures_from_every_address(client, db, limits):
    limits(account="3 per 15 minutes")
    make_cm(email="lea@agence.example")
    for n in range(3):
        assert (
            post_login(client, "lea@agence.example", BAD, **from_address(f"10.0.0.{n + 1}")).status_code
            == 200
        )
    assert post_login(client, "lea@agence.example", BAD, **from_address("10.0.0.9")).status_code == 429


def test_the_account_limit_is_per_account(client, db, limits):
    limits(account="3 per 15 minutes")
    make_cm(email="lea@agence.example")
    make_cm(email="paul@agence.example")
    for _ in range(3):
        post_login(client, "lea@agence.example", BAD)
    assert post_login(client, "lea@agence.example", BAD).status_code == 429
    # Same address, another account: not blocked.
    assert post_login(client, "paul@agence.example").status_code == 302
    # The account key ignores case and spaces: no way around it by rewriting the address.
    assert post_login(client, " LEA@agence.example", BAD).status_code == 429


def test_a_successful_login_does_not_count_against_the_account(client, db, limits):
    limits(account="3 per 15 minutes")
    make_cm(email="lea@agence.example")
    for _ in range(2):
        assert post_login(client, "lea@agence.example", BAD).status_code == 200
    assert post_login(client, "lea@agence.example").status_code == 302
    client.post("/logout")
    # Had the success counted, this third failure would already be refused.
    assert post_login(client, "lea@agence.example", BAD).status_code == 200
    assert post_login(client, "lea@agence.example", BAD).status_code == 429


def test_every_attempt_counts_against_the_address(client, db, limits):
    limits(address="3 per 10 minutes")
    make_cm(email="lea@agence.example")
    assert post_login(client, "a@agence.example", BAD, **from_address("10.0.0.1")).status_code == 200
    assert post_login(client, "b@agence.example", BAD, **from_address("10.0.0.1")).status_code == 200
    assert post_login(client, "lea@agence.example", **from_address("10.0.0.1")).status_code == 302
    client.post("/logout", **from_address("10.0.0.1"))
    response = post_login(client, "lea@agence.example", **from_address("10.0.0.1"))
    assert response.status_code == 429
    assert "Trop de tentatives" in page_text(response)


def test_the_address_limit_is_per_address(client, db, limits):
    limits(address="2 per 10 minutes")
    make_cm(email="lea@agence.example")
    for _ in range(2):
        post_login(client, "x@agence.example", BAD, **from_address("10.0.0.1"))
    assert post_login(client, "lea@agence.example", **from_address("10.0.0.1")).status_code == 429
    assert post_login(client, "lea@agence.example", **from_address("10.0.0.2")).status_code == 302


def test_showing_the_login_page_is_never_limited(client, db, limits):
    limits(account="1 per 15 minutes", address="1 per 10 minutes")
    for _ in range(5):
        assert client.get("/login").status_code == 200
