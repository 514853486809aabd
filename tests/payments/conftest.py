"""Payment fixtures: an unpaid invoice and its client user; and, for the
tests where localstripe itself posts webhooks to Relais, a live server on a
database of its own (its rows are committed, so each test makes its own)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from app.config import TestConfig
from app.extensions import db
from tests import services
from tests.conftest import TEST_DB_NAME, build_schema
from tests.factories import make_client, make_client_user, make_issued_invoice, make_lead

# 708.00 HT + 20 % VAT
TTC = Decimal("849.60")


@dataclass
class Billing:
    lead: Any
    client: Any
    member: Any
    invoice: Any


def make_billing(name: str = "Boulangerie Dupont", amount: str = "708.00") -> Billing:
    lead = make_lead(name="Marc Lead")
    client = make_client(name)
    member = make_client_user(client, name="Sophie Dupont")
    invoice = make_issued_invoice(
        client, lead=lead, lines=(("Community management — forfait mensuel", "1", amount, "20.00"),)
    )
    return Billing(lead, client, member, invoice)


@pytest.fixture
def billing(db) -> Billing:
    """An issued invoice of 849,60 € TTC, its PDF there, nothing paid."""
    return make_billing()


def wait_for(check: Callable[[], Any], seconds: float = 20, every: float = 0.2) -> Any:
    """`check()`'s first truthy answer, polled; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {seconds} s for {check.__name__}")
        time.sleep(every)


@dataclass
class PaymentsServer:
    url: str
    app: Flask
    outbox: Path

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/stripe/webhook"


@pytest.fixture(scope="session")
def payments_server(localstripe, tmp_path_factory) -> Iterator[PaymentsServer]:
    """Relais served on 127.0.0.1 (threads, jobs in-process) with its own
    database, configured for localstripe."""
    folder = tmp_path_factory.mktemp("payments-server")
    url = services.database_url(f"{TEST_DB_NAME}_payments")
    if url.startswith("postgresql"):
        services.create_postgres_database(url)
    else:
        url = "sqlite:///" + str(folder / "relais-payments.sqlite3")
    app = create_app(
        TestConfig,
        {
            **services.database_settings(url),
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "MAIL_OUTBOX_DIR": str(folder / "outbox"),
            "WTF_CSRF_ENABLED": False,
            **localstripe.settings(),
        },
    )
    app.instance_path = str(folder / "instance")
    build_schema(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="relais-payments-server", daemon=True)
    thread.start()
    try:
        yield PaymentsServer(f"http://127.0.0.1:{server.server_port}", app, folder / "outbox")
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
