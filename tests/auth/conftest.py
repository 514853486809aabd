"""Helpers shared by the accounts tests (tests/auth and tests/users)."""

from __future__ import annotations

import html
import re
import time

import pytest

from app.auth.tokens import make_token
from tests.factories import PASSWORD


def page_text(response) -> str:
    """The response body with HTML entities decoded (French apostrophes...)."""
    return html.unescape(response.get_data(as_text=True))


def post_login(client, email: str, password: str = PASSWORD, **kwargs):
    """Log in through the real form (CSRF is off unless csrf_enabled)."""
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def is_logged_in(client) -> bool:
    """A page behind login answers (any role), rather than redirecting to /login."""
    response = client.get("/account")
    return response.status_code == 200


def link_in(body: str, path: str) -> str:
    """The first absolute link to `path`... in a mail body, as a path."""
    match = re.search(r"http://localhost(" + re.escape(path) + r"[^\s]+)", body)
    assert match, f"no link to {path} in:\n{body}"
    return match.group(1)


def token_signed_ago(user, purpose: str, seconds: int, monkeypatch) -> str:
    """A link token as if it had been made `seconds` ago (itsdangerous stamps
    tokens with time.time())."""
    real = time.time
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: real() - seconds)
        return make_token(user, purpose)


def csrf_token_of(response) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.get_data(as_text=True))
    if match is None:
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def set_config(app):
    """set_config(KEY=value): changed for this test only."""
    saved: dict = {}

    def setter(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield setter
    app.config.update(saved)


@pytest.fixture
def other_client(app, db):
    """A second browser (its own cookies), e.g. another session of the same user."""
    return app.test_client()
