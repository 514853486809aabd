"""Apps configured as in production and in development, beside the test app.

They are built once per session on the test database; for each test the
production one runs on the `db` fixture's connection, so it sees the test's
rows and its writes are rolled back with them."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest

from app import create_app
from app.config import Config, DevelopmentConfig
from app.extensions import db as _db
from tests import services
from tests.conftest import IsolatedClient
from tests.factories import PASSWORD


class ProductionLikeConfig(Config):
    """Production settings (RELAIS_ENV "production"); TESTING only keeps the
    machine's environment out."""

    TESTING = True
    SECRET_KEY = "production-like-test-key"  # noqa: S105
    WTF_CSRF_ENABLED = False


class DevelopmentLikeConfig(DevelopmentConfig):
    TESTING = True
    SECRET_KEY = "development-like-test-key"  # noqa: S105


def _build(config, app, database_url):
    built = create_app(
        config,
        {
            **services.database_settings(database_url),
            "REDIS_URL": None,
            # One limiter storage for every app of the process (see tests/browser).
            "RATELIMIT_STORAGE_URI": app.config["RATELIMIT_STORAGE_URI"],
            "MAIL_OUTBOX_DIR": app.config["MAIL_OUTBOX_DIR"],
        },
    )
    built.instance_path = app.instance_path
    built.test_client_class = IsolatedClient
    return built


@pytest.fixture(scope="session")
def production_app(app, database_url):
    return _build(ProductionLikeConfig, app, database_url)


@pytest.fixture(scope="session")
def development_app(app, database_url):
    return _build(DevelopmentLikeConfig, app, database_url)


@pytest.fixture
def production(production_app, db) -> Iterator:
    """The production-like app, on the test's connection (rolled back)."""
    connection = _db.engines[None]
    with production_app.app_context():
        engines = _db.engines
        engine = engines[None]
        engines[None] = connection
    try:
        yield production_app
    finally:
        with production_app.app_context():
            _db.session.remove()
            _db.engines[None] = engine


@pytest.fixture
def other_client(app, db):
    """A second browser (its own cookies), e.g. the same user's phone."""
    return app.test_client()


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def post_login(client, email: str, password: str = PASSWORD, remember: bool = False, **kwargs):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, **kwargs)


def is_logged_in(client) -> bool:
    """A page behind login answers rather than sending to /login."""
    return client.get("/account").status_code == 200
