"""The CSV files for Excel (time entries; invoices and payments for the
accountant), made of hostile notes, names and references: the file parses,
has one row per entry or document, and no cell would run as a formula."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db as _db
from app.invoices.receipts import record_payment
from app.timesheets.calendar import add_months, month_end, month_start
from app.timesheets.models import TimeEntry
from app.timeutil import today
from tests.factories import make_client, make_contract, make_entry, make_issued_invoice
from tests.properties.support import CONTROLS, FORMS, FORMULAS, rolled_back

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(,\d+)?")  # an amount or a count: Excel reads a number, runs nothing


def stored_text(max_size: int) -> st.SearchStrategy[str]:
    """Text as the database may hold it (anything but NUL), formula-like first."""
    pieces = st.sampled_from([f for f in FORMULAS if "\x00" not in f] + [c for c in CONTROLS if c != "\x00"])
    text = st.one_of(
        pieces,
        st.text(max_size=40),
        st.tuples(pieces, st.text(max_size=20)).map("".join),
        st.tuples(st.sampled_from([" ", "\n", "\x0b", "\u00a0", "\t\t", "'"]), pieces).map("".join),
    )
    return text.map(lambda s: s.replace("\x00", "")[:max_size])


def parse(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    return list(csv.reader(io.StringIO(raw.decode("utf-8")[1:], newline=""), delimiter=";"))


def check_cells(rows: list[list[str]], width: int) -> None:
    for row in rows:
        assert len(row) == width, row
        for cell in row:
            if NUMBER.fullmatch(cell):
                continue
            # Spaces first do not disarm a formula everywhere (some imports trim them).
            assert not cell.lstrip().startswith(FORMULA_START) or cell.startswith("'"), repr(cell)
            assert "\n" not in cell and "\r" not in cell, repr(cell)


def _get(client, url: str, **query):
    response = client.get(url, query_string=query)
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"].startswith("text/csv")
    return response


@settings(FORMS, max_examples=20)
@given(
    notes=st.lists(stored_text(2000), min_size=1, max_size=4),
    client_name=stored_text(160),
    title=stored_text(160),
    cm_name=stored_text(120),
)
def test_the_time_export_is_one_safe_row_per_entry(
    client, login_as, world, notes, client_name, title, cm_name
):
    login_as(world.lead)
    first = add_months(month_start(today()), -1)
    with rolled_back():
        tricky = make_client(client_name)
        contract = make_contract(tricky, title=title or "Contrat", start=first)
        world.cm.name = cm_name
        for i, note in enumerate(notes):
            entry = make_entry(contract, world.cm, first + timedelta(days=i), 30)
            entry.note = note
        _db.session.flush()
        period = (TimeEntry.day >= first) & (TimeEntry.day <= month_end(first))
        stored = list(_db.session.scalars(select(TimeEntry.note).where(period)))

        rows = parse(
            _get(client, "/time/entries.csv", start=first.isoformat(), end=month_end(first).isoformat())
        )
        assert len(rows) == 1 + len(stored)
        check_cells(rows, len(rows[0]))
        # Each note whole, on one line, a quote before it when it looks like a formula.
        assert sorted(row[-1] for row in rows[1:]) == sorted(_expected_cell(note) for note in stored)


def _expected_cell(text: str) -> str:
    line = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return "'" + line if line.lstrip().startswith(FORMULA_START) else line


@settings(FORMS, max_examples=15)
@given(
    client_name=stored_text(160),
    references=st.lists(stored_text(120), min_size=1, max_size=3),
)
def test_the_accountants_exports_are_safe_rows(client, login_as, world, client_name, references):
    login_as(world.lead)
    month = today().strftime("%Y-%m")
    with rolled_back():
        tricky = make_client(client_name)
        invoice = make_issued_invoice(tricky, lead=world.lead)
        for reference in references:
            record_payment(
                world.lead, invoice, amount=Decimal("10.00"), received_on=today(), reference=reference
            )
        record_payment(
            world.lead, invoice, amount=Decimal("-5.00"), received_on=today(), reference="-remboursement"
        )
        _db.session.flush()

        invoices = parse(_get(client, "/invoices/export/invoices.csv", month=month))
        check_cells(invoices, len(invoices[0]))
        assert len([row for row in invoices[1:] if row[0] == invoice.number]) == 1

        payments = parse(_get(client, "/invoices/export/payments.csv", month=month))
        check_cells(payments, len(payments[0]))
        mine = [row for row in payments[1:] if row[1] == invoice.number]
        assert sorted(row[-1] for row in mine) == sorted(["10,00"] * len(references) + ["-5,00"])
