"""Logging out, changing one's password, or being deactivated ends the
user's other sessions: every other browser, "remember me" cookies included,
and a copy of an old session cookie replayed later."""

from __future__ import annotations

import pytest

from app.auth.models import User
from tests.factories import PASSWORD, make_client, make_client_user, make_cm, make_lead
from tests.security.conftest import is_logged_in, page_text, post_login

NEW = "une-nouvelle-phrase-de-passe"


def only_remember_cookie(browser) -> None:
    """The browser was closed: its session cookie is gone, the remember-me one stays."""
    browser.delete_cookie("relais_session")
    assert browser.get_cookie("relais_remember") is not None


@pytest.fixture
def sophie(db):
    return make_client_user(make_client("Boulangerie Dupont"), email="sophie@dupont.example")


@pytest.fixture
def laptop_and_phone(client, other_client, sophie):
    """Sophie logged in on two devices; the phone only through its remember-me cookie."""
    assert post_login(client, sophie.email).status_code == 302
    assert post_login(other_client, sophie.email, remember=True).status_code == 302
    only_remember_cookie(other_client)
    assert is_logged_in(client) and is_logged_in(other_client)
    return client, other_client


def test_logout_ends_the_other_sessions_too(app, client, sophie, db):
    laptop, phone, old_phone = client, app.test_client(), app.test_client()
    for browser in (laptop, phone):
        assert post_login(browser, sophie.email).status_code == 302
    old_phone.set_cookie("relais_session", phone.get_cookie("relais_session").value)  # a stolen copy
    assert is_logged_in(old_phone)

    response = laptop.post("/logout", follow_redirects=True)
    assert "Vous êtes déconnecté. Vos autres appareils ont été déconnectés aussi." in page_text(response)
    for browser in (laptop, phone, old_phone):
        assert not is_logged_in(browser)
    assert phone.get("/portal").headers["Location"].startswith("/login")

    assert post_login(phone, sophie.email).status_code == 302  # logging in again works
    assert is_logged_in(phone)


def test_logout_ends_a_remember_me_cookie_elsewhere(laptop_and_phone, db):
    laptop, phone = laptop_and_phone
    laptop.post("/logout")
    assert not is_logged_in(phone)


def test_logout_when_logged_out_changes_nothing(client, other_client, sophie, db):
    post_login(other_client, sophie.email)
    version = sophie.session_version
    assert client.post("/logout").status_code == 302
    assert db.session.get(User, sophie.id).session_version == version
    assert is_logged_in(other_client)


def test_logout_ends_only_that_users_sessions(client, other_client, sophie, db):
    make_cm(email="lea@agence.example")
    post_login(client, sophie.email)
    post_login(other_client, "lea@agence.example")
    client.post("/logout")
    assert is_logged_in(other_client)


def test_password_change_keeps_this_session_and_ends_the_others(laptop_and_phone, db):
    laptop, phone = laptop_and_phone
    response = laptop.post(
        "/account/password", data={"current_password": PASSWORD, "password": NEW, "confirm": NEW}
    )
    assert response.status_code == 302
    assert is_logged_in(laptop)
    assert not is_logged_in(phone)


def test_password_change_renews_this_devices_remember_me_cookie(client, other_client, sophie, db):
    post_login(client, sophie.email, remember=True)
    post_login(other_client, sophie.email, remember=True)
    client.post("/account/password", data={"current_password": PASSWORD, "password": NEW, "confirm": NEW})
    only_remember_cookie(client)
    only_remember_cookie(other_client)
    assert is_logged_in(client)
    assert not is_logged_in(other_client)


def test_deactivation_ends_every_session_remember_me_included(laptop_and_phone, app, sophie, db):
    laptop, phone = laptop_and_phone
    lead_browser = app.test_client()
    post_login(lead_browser, make_lead(email="marc@agence.example").email)
    assert lead_browser.post(f"/users/{sophie.id}/deactivate").status_code == 302
    assert not is_logged_in(laptop)
    assert not is_logged_in(phone)


def test_reactivation_does_not_revive_old_sessions(laptop_and_phone, app, sophie, db):
    laptop, phone = laptop_and_phone
    lead_browser = app.test_client()
    post_login(lead_browser, make_lead(email="marc@agence.example").email)
    lead_browser.post(f"/users/{sophie.id}/deactivate")
    lead_browser.post(f"/users/{sophie.id}/reactivate")
    assert db.session.get(User, sophie.id).active
    assert not is_logged_in(laptop)
    assert not is_logged_in(phone)
    assert post_login(laptop, sophie.email).status_code == 302
