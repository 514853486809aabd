"""The session and "remember me" cookies: `__Host-` names, Secure, Path=/, no
Domain, HttpOnly and SameSite=Lax in production; plain names over the http://
of development and the tests (where the browser tests log in)."""

from __future__ import annotations

from app import security
from tests.factories import make_lead
from tests.security.conftest import is_logged_in, post_login


def set_cookies(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def attributes(header: str) -> dict[str, str | None]:
    parts = [part.strip() for part in header.split(";")[1:]]
    return {name.lower(): (value or None) for name, _sep, value in (part.partition("=") for part in parts)}


def test_production_cookies_carry_the_host_prefix_and_its_rules(production):
    make_lead(email="marc@agence.example")
    browser = production.test_client()
    response = post_login(browser, "marc@agence.example", remember=True)
    assert response.status_code == 302
    cookies = set_cookies(response)
    assert set(cookies) == {"__Host-relais_session", "__Host-relais_remember"}
    for header in cookies.values():
        attrs = attributes(header)
        assert "secure" in attrs and "httponly" in attrs
        assert attrs["path"] == "/"
        assert "domain" not in attrs  # __Host-: the exact host only
        assert attrs["samesite"] == "Lax"
    assert is_logged_in(browser)


def test_production_remember_cookie_alone_keeps_the_user_logged_in(production):
    make_lead(email="marc@agence.example")
    browser = production.test_client()
    post_login(browser, "marc@agence.example", remember=True)
    browser.delete_cookie("__Host-relais_session")  # the browser was closed
    assert is_logged_in(browser)


def test_development_cookies_have_plain_names_and_no_secure_flag(development_app):
    response = development_app.test_client().get("/login")  # the form's CSRF token starts a session
    cookies = set_cookies(response)
    assert set(cookies) == {"relais_session"}
    attrs = attributes(cookies["relais_session"])
    assert "secure" not in attrs and "domain" not in attrs
    assert "httponly" in attrs and attrs["path"] == "/"
    assert development_app.config["REMEMBER_COOKIE_NAME"] == "relais_remember"
    assert development_app.config["REMEMBER_COOKIE_SECURE"] is False


def test_the_test_config_logs_in_over_plain_http(app, client, db):
    """The unit tests and the browser tests' live server use TestConfig."""
    make_lead(email="marc@agence.example")
    response = post_login(client, "marc@agence.example", remember=True)
    assert set(set_cookies(response)) == {"relais_session", "relais_remember"}
    assert all("secure" not in attributes(h) for h in set_cookies(response).values())
    assert is_logged_in(client)


def test_production_settings_force_the_host_rules_whatever_was_configured(production_app):
    from flask import Flask

    app = Flask(__name__)
    app.config.update(
        RELAIS_ENV="production",
        SESSION_COOKIE_NAME="session",
        SESSION_COOKIE_SECURE=False,
        SESSION_COOKIE_DOMAIN="agence.example",
        SESSION_COOKIE_PATH="/relais",
    )
    security.configure_cookies(app)
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-relais_session"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_DOMAIN"] is None
    assert app.config["SESSION_COOKIE_PATH"] == "/"
    assert app.config["REMEMBER_COOKIE_NAME"] == "__Host-relais_remember"
