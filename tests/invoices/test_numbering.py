"""Gapless invoice numbers under real concurrency: threads that each hold
their own connection and really commit, on a PostgreSQL database of their
own (a test's rolled-back transaction cannot show what other connections
see). SQLite serialises its writers by itself: these tests need PostgreSQL.

- 20 drafts issued at once get 20 distinct, consecutive numbers;
- a failure after the number is taken rolls it back: the draft stays a
  draft, and the next issue takes that same number;
- the same draft issued twice at once gets one number.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app.auth.models import User
from app.extensions import db
from app.invoices import services
from app.invoices.models import Invoice, InvoiceStatus
from app.invoices.services import InvoiceError, LineInput, create_manual_draft, issue_invoice
from app.jobs import PENDING_KEY
from app.timeutil import today
from tests import services as test_services
from tests.conftest import app_on_own_database, build_schema
from tests.factories import make_agency_settings, make_client, make_lead

COUNT = 20
YEAR = today().year


@pytest.fixture(scope="module")
def numbering_app():
    app = app_on_own_database(
        "numbering",
        "concurrent numbering needs PostgreSQL (SQLite serialises writers itself)",
        # One connection per thread, all at once.
        {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": COUNT + 5, "max_overflow": 0, "pool_timeout": 30}},
    )
    build_schema(app)
    yield app
    with test_services.app_context(app):
        db.engine.dispose()


@pytest.fixture
def napp(numbering_app):
    """The app on an empty database, with a lead, a client and the agency's settings."""
    app = numbering_app
    with test_services.app_context(app):
        test_services.empty_database(app)
        make_agency_settings()
        make_client(
            "Boulangerie Dupont",
            address_line="3 rue Sommeiller",
            postal_code="74000",
            city="Annecy",
            siren="552100554",
        )
        make_lead(name="Marc Lead")
        db.session.commit()
        db.session.remove()
    yield app


def make_drafts(app, count: int) -> list[int]:
    from app.clients.models import Client

    with test_services.app_context(app):
        lead = db.session.scalar(select(User))
        client = db.session.scalar(select(Client))
        ids = [
            create_manual_draft(
                lead,
                client,
                title=f"Prestation {i}",
                lines=[LineInput("Photos", Decimal(1), Decimal(100), Decimal(20))],
            ).id
            for i in range(count)
        ]
        db.session.commit()
        db.session.remove()
    return ids


def issue_committed(invoice_id: int) -> str:
    """Issue in the current app context's session and commit (no PDF job)."""
    lead = db.session.scalar(select(User))
    invoice = db.session.get(Invoice, invoice_id)
    try:
        issue_invoice(lead, invoice)
        db.session.info.pop(PENDING_KEY, None)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return invoice.number


def run_at_once(app, invoice_ids: list[int]) -> tuple[list[str], list[BaseException]]:
    """Issue each id in a thread of its own (own session, own connection),
    all released together."""
    numbers: list[str] = []
    errors: list[BaseException] = []
    ready = threading.Barrier(len(invoice_ids), timeout=60)
    lock = threading.Lock()

    def work(invoice_id: int) -> None:
        with test_services.app_context(app):
            try:
                db.session.execute(text("SELECT 1"))  # hold a connection before the start
                ready.wait()
                number = issue_committed(invoice_id)
                with lock:
                    numbers.append(number)
            except BaseException as error:  # noqa: BLE001 - reported to the test
                with lock:
                    errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(invoice_id,)) for invoice_id in invoice_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"
    return numbers, errors


def slow_after_numbering(monkeypatch, seconds: float) -> None:
    """Hold the series lock a little longer (the seller's snapshot comes
    right after the number): concurrent issues really overlap."""
    original = services.seller_snapshot

    def slow():
        time.sleep(seconds)
        return original()

    monkeypatch.setattr(services, "seller_snapshot", slow)


def committed(app) -> list[tuple[int, str, str]]:
    with test_services.app_context(app):
        rows = db.session.execute(
            select(Invoice.sequence, Invoice.number, Invoice.status).order_by(Invoice.id)
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def test_twenty_concurrent_issues_get_twenty_consecutive_numbers(napp, monkeypatch):
    ids = make_drafts(napp, COUNT)
    slow_after_numbering(monkeypatch, 0.02)
    numbers, errors = run_at_once(napp, ids)
    assert errors == []
    assert len(numbers) == len(set(numbers)) == COUNT
    assert sorted(numbers) == [f"F{YEAR}-{n:04d}" for n in range(1, COUNT + 1)]
    rows = committed(napp)
    assert sorted(sequence for sequence, _number, _status in rows) == list(range(1, COUNT + 1))
    assert {status for _sequence, _number, status in rows} == {InvoiceStatus.ISSUED}


def test_a_failure_after_numbering_rolls_back_and_the_number_is_taken_again(napp, monkeypatch):
    first, failing, third = make_drafts(napp, 3)
    with test_services.app_context(napp):
        assert issue_committed(first) == f"F{YEAR}-0001"
        db.session.remove()

    def broken(client):
        raise RuntimeError("panne après la numérotation")

    monkeypatch.setattr(services, "buyer_snapshot", broken)  # called after take_number
    with test_services.app_context(napp):
        with pytest.raises(RuntimeError, match="panne"):
            issue_committed(failing)
        db.session.remove()
    assert committed(napp)[1] == (None, None, InvoiceStatus.DRAFT)  # still a draft, no number

    monkeypatch.undo()
    with test_services.app_context(napp):
        assert issue_committed(failing) == f"F{YEAR}-0002"  # the number nobody kept
        assert issue_committed(third) == f"F{YEAR}-0003"
        db.session.remove()
    assert [sequence for sequence, _n, _s in committed(napp)] == [1, 2, 3]


def test_the_same_draft_issued_twice_at_once_gets_one_number(napp, monkeypatch):
    (draft,) = make_drafts(napp, 1)
    slow_after_numbering(monkeypatch, 0.2)
    numbers, errors = run_at_once(napp, [draft, draft])
    assert numbers == [f"F{YEAR}-0001"]
    assert len(errors) == 1 and isinstance(errors[0], InvoiceError)
    assert "déjà émise" in str(errors[0])
    assert committed(napp) == [(1, f"F{YEAR}-0001", InvoiceStatus.ISSUED)]
    # And the next draft follows without a gap.
    (following,) = make_drafts(napp, 1)
    with test_services.app_context(napp):
        assert issue_committed(following) == f"F{YEAR}-0002"
        db.session.remove()
