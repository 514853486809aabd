"""Logging in and out: credentials, deactivated accounts, `next`, logout by POST."""

import pytest
from flask import url_for

from app.auth.models import User
from app.auth.views import safe_next
from tests.auth.conftest import is_logged_in, page_text, post_login
from tests.factories import PASSWORD, make_client, make_client_user, make_cm, make_lead

WRONG = "Adresse e-mail ou mot de passe incorrect."


def test_login_page_offers_the_form_and_the_forgotten_password_link(client, db):
    body = page_text(client.get("/login"))
    assert 'name="email"' in body and 'name="password"' in body
    assert "Mot de passe oublié ?" in body
    assert 'href="/password/forgot"' in body


def test_right_password_logs_in_and_lands_on_the_role_home(app, client, db):
    cm = make_cm(email="lea@agence.example")
    response = post_login(client, "lea@agence.example")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    with app.test_request_context():
        assert client.get("/").headers["Location"] == url_for("timesheets.day")
    assert is_logged_in(client)
    assert db.session.get(User, cm.id).last_login_at is not None


def test_address_is_matched_whatever_its_case_and_spaces(client, db):
    make_lead(email="marc@agence.example")
    assert post_login(client, "  Marc@Agence.EXAMPLE ").status_code == 302
    assert is_logged_in(client)


def test_wrong_password_is_refused_with_a_french_message(client, db):
    make_cm(email="lea@agence.example")
    response = post_login(client, "lea@agence.example", "pas-le-bon-mot-de-passe")
    assert response.status_code == 200
    assert WRONG in page_text(response)
    assert not is_logged_in(client)


def test_unknown_address_gets_the_same_message_as_a_wrong_password(client, db):
    response = post_login(client, "personne@nulle-part.example")
    assert response.status_code == 200
    assert WRONG in page_text(response)
    assert not is_logged_in(client)


def test_deactivated_account_cannot_log_in(client, db):
    make_cm(email="ancien@agence.example", active=False)
    response = post_login(client, "ancien@agence.example")
    assert response.status_code == 200
    assert "Ce compte est désactivé" in page_text(response)
    assert not is_logged_in(client)


def test_deactivated_account_with_a_wrong_password_learns_nothing(client, db):
    make_cm(email="ancien@agence.example", active=False)
    body = page_text(post_login(client, "ancien@agence.example", "mauvais-mot-de-passe"))
    assert WRONG in body and "désactivé" not in body


def test_invited_account_without_password_cannot_log_in(client, db):
    make_cm(email="nouveau@agence.example", pending=True)
    response = post_login(client, "nouveau@agence.example", "")
    assert "Indiquez votre mot de passe." in page_text(response)
    response = post_login(client, "nouveau@agence.example", "nimporte-quoi")
    assert WRONG in page_text(response)
    assert not is_logged_in(client)


def test_empty_form_says_what_is_missing(client, db):
    body = page_text(client.post("/login", data={}))
    assert "Indiquez votre adresse e-mail." in body
    assert "Indiquez votre mot de passe." in body


def test_login_follows_next_to_a_page_of_this_site(client, db):
    make_lead(email="marc@agence.example")
    response = post_login(client, "marc@agence.example", query_string={"next": "/clients?q=dupont"})
    assert response.headers["Location"] == "/clients?q=dupont"


def test_a_page_behind_login_sends_back_there_after_login(client, db):
    make_lead(email="marc@agence.example")
    response = client.get("/users?role=cm")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/login?next=")
    response = client.post(login_url, data={"email": "marc@agence.example", "password": PASSWORD})
    assert response.headers["Location"] == "/users?role=cm"


@pytest.mark.parametrize(
    "hostile",
    [
        "//evil.com",
        "https://evil.com",
        "http://evil.com/login",
        "/\\evil.com",
        "\\\\evil.com",
        "///evil.com",
        "javascript:alert(1)",
        "/\t/evil.com",
        "evil.com",
        " //evil.com",
    ],
)
def test_login_never_follows_next_off_this_site(client, db, hostile):
    make_lead(email="marc@agence.example")
    response = post_login(client, "marc@agence.example", query_string={"next": hostile})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/clients", "/clients"),
        ("/clients/3?tab=cms", "/clients/3?tab=cms"),
        ("//evil.com", None),
        ("https://evil.com", None),
        ("/\\evil.com", None),
        ("/%0d%0aSet-Cookie:x", "/%0d%0aSet-Cookie:x"),  # percent-encoded: a harmless path
        ("/\r\nSet-Cookie:x", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_next_keeps_only_paths_of_this_site(target, expected):
    assert safe_next(target) == expected


def test_logged_in_user_visiting_login_goes_home(client, login_as, db):
    login_as(make_lead())
    assert client.get("/login").headers["Location"] == "/"


def test_logout_needs_a_post(client, login_as, db):
    login_as(make_cm())
    assert client.get("/logout").status_code == 405
    assert is_logged_in(client)
    response = client.post("/logout", follow_redirects=True)
    assert "Vous êtes déconnecté." in page_text(response)
    assert not is_logged_in(client)


def test_client_user_logs_in_to_its_company_space(client, db):
    company = make_client("Boulangerie Dupont")
    make_client_user(company, email="sophie@dupont.example")
    post_login(client, "sophie@dupont.example")
    assert client.get("/").headers["Location"] == "/portal"
