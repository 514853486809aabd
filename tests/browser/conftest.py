"""Browser tests: Playwright driving Debian's Chromium against a live server.

One browser per test session. The live server is a separate app instance on
its own database (`<RELAIS_TEST_DB>_browser` on PostgreSQL, else a SQLite
file), built by the schema builder of the unit tests, filled by the real
`seed-demo` command (committed), with CSRF enabled and the real login form,
served by werkzeug on 127.0.0.1 and a free port in a daemon thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app import create_app
from app.clients.models import Client
from app.config import TestConfig
from app.extensions import db
from tests import services
from tests.conftest import TEST_DB_NAME, build_schema

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)")


@dataclass
class LiveServer:
    url: str
    demo: dict  # the output of `seed-demo --json`
    client_ids: dict[str, int]
    app: Any = None  # the served app: its config, and an app context on its database

    def user(self, email_start: str) -> dict:
        return next(u for u in self.demo["users"] if u["email"].startswith(email_start))

    def first(self, role: str) -> dict:
        return next(u for u in self.demo["users"] if u["role"] == role)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    require_chromium()
    folder = tmp_path_factory.mktemp("browser")
    url = services.database_url(f"{TEST_DB_NAME}_browser")
    if url.startswith("postgresql"):
        services.create_postgres_database(url)
    else:
        url = "sqlite:///" + str(folder / "relais-browser.sqlite3")
    app = create_app(
        TestConfig,
        {
            **services.database_settings(url),
            "REDIS_URL": None,
            # The limiter's storage is shared by every app of the process:
            # give it the one the unit tests' app uses.
            "RATELIMIT_STORAGE_URI": services.redis_url() or "memory://",
            "MAIL_OUTBOX_DIR": str(folder / "outbox"),
            "WTF_CSRF_ENABLED": True,
        },
    )
    app.instance_path = str(folder / "instance")
    build_schema(app)
    with services.app_context(app):
        result = app.test_cli_runner().invoke(args=["seed-demo", "--json"])
        assert result.exit_code == 0, result.output
        demo = json.loads(result.stdout)
        client_ids = {c.name: c.id for c in db.session.scalars(select(Client))}
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="relais-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", demo, client_ids, app)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) on the live server, desktop size."""
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 860}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot():
    """screenshot(page, "name"): a full-page PNG in test-artifacts/ for humans."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
