"""The accountant's CSV files, parsed back: ';' separator, decimal comma,
UTF-8 with BOM, dd/mm/yyyy dates, formulas neutralised, issued documents
only, and only the period asked for."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from app.extensions import db as _db
from app.invoices.receipts import record_payment
from app.invoices.services import LineInput, create_credit_note, issue_invoice
from app.timesheets.calendar import add_months, month_start
from app.timeutil import today
from tests.factories import (
    assign,
    make_agency_settings,
    make_client,
    make_client_user,
    make_cm,
    make_invoice,
    make_lead,
)
from tests.invoices.dated import issue_on

D = Decimal
T = today()
INVOICES = "/invoices/export/invoices.csv"
PAYMENTS = "/invoices/export/payments.csv"


def parse(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    body = raw.decode("utf-8")[1:]
    assert "\r\n" in body
    return list(csv.reader(io.StringIO(body), delimiter=";"))


@pytest.fixture
def books(db, monkeypatch):
    """This month: an invoice of a client whose name looks like a formula,
    a credit note on it, a payment and a refund; 40 days ago (another
    month): an invoice and its payment; a draft."""
    make_agency_settings(invoice_prefix="F", credit_note_prefix="AV")
    lead = make_lead()
    tricky = make_client(
        '=HYPERLINK("http://x.example";"clic")',
        siren="552100554",
        vat_number="FR40552100554",
        address_line="1 rue de la Paix",
        postal_code="74000",
        city="Annecy",
    )
    plain = make_client("Boulangerie Dupont")
    earlier_day = T - timedelta(days=40)
    earlier = issue_on(monkeypatch, earlier_day, plain, lead, "500.00")
    record_payment(lead, earlier, amount=D("600.00"), received_on=earlier_day, reference="VIR DUPONT")
    current = issue_on(monkeypatch, T, tricky, lead, "1234.50")  # TTC 1481,40
    credit = create_credit_note(
        lead, current, reason="Remise", lines=[LineInput("Remise", D(1), D("100.00"), D(20))]
    )
    issue_invoice(lead, credit)  # 120,00 TTC credited
    record_payment(lead, current, amount=D("1000.00"), received_on=T, reference="+33 6 12 34 56 78")
    record_payment(lead, current, amount=D("-50.00"), received_on=T, reference="@remboursement")
    draft = make_invoice(plain, lead=lead, lines=[("Brouillon", "1", "999.00", "20.00")])
    _db.session.commit()
    return SimpleNamespace(
        lead=lead, earlier=earlier, current=current, credit=credit, draft=draft, earlier_day=earlier_day
    )


def test_invoices_of_a_month_in_french_accountant_format(client, login_as, books):
    login_as(books.lead)

    response = client.get(INVOICES, query_string={"month": f"{T:%Y-%m}"})

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="factures-{T:%Y-%m}.csv"'
    header, *rows = parse(response)
    assert header == [
        "Numéro", "Type", "Date d'émission", "Échéance", "Client", "SIREN", "N° TVA",
        "Total HT", "TVA", "Total TTC", "Statut", "Payé", "Reste à payer", "Facture corrigée",
    ]  # fmt: skip
    assert [row[0] for row in rows] == [books.current.number, books.credit.number]
    invoice, credit = rows
    assert invoice[1:4] == ["Facture", f"{T:%d/%m/%Y}", f"{books.current.due_date:%d/%m/%Y}"]
    assert invoice[4] == '\'=HYPERLINK("http://x.example";"clic")'  # never run as a formula
    assert invoice[5:7] == ["552100554", "FR40552100554"]
    assert invoice[7:10] == ["1234,50", "246,90", "1481,40"]
    assert invoice[10] == "Payée en partie"
    assert invoice[11:14] == ["950,00", "411,40", ""]  # 1481,40 - 120,00 credited - 950,00 paid
    assert credit[1] == "Avoir" and credit[0].startswith("AV")
    assert credit[3] == ""
    assert credit[7:10] == ["-100,00", "-20,00", "-120,00"]  # a credit note reduces the turnover
    assert credit[11:14] == ["", "", books.current.number]


def test_no_draft_and_nothing_outside_the_period(client, login_as, books):
    login_as(books.lead)
    earlier_month = month_start(books.earlier_day)

    rows = parse(client.get(INVOICES, query_string={"month": f"{earlier_month:%Y-%m}"}))[1:]
    assert [row[0] for row in rows] == [books.earlier.number]
    assert rows[0][10] == "Payée"

    year_rows = parse(client.get(INVOICES, query_string={"year": T.year}))[1:]
    expected = {books.current.number, books.credit.number}
    if books.earlier_day.year == T.year:
        expected.add(books.earlier.number)
    assert {row[0] for row in year_rows} == expected
    assert all("999" not in cell for row in year_rows for cell in row)  # the draft

    empty = parse(client.get(INVOICES, query_string={"month": f"{add_months(month_start(T), 1):%Y-%m}"}))
    assert len(empty) == 1  # the header only


def test_payments_of_a_month(client, login_as, books):
    login_as(books.lead)

    response = client.get(PAYMENTS, query_string={"month": f"{T:%Y-%m}"})

    assert response.headers["Content-Disposition"] == f'attachment; filename="paiements-{T:%Y-%m}.csv"'
    header, *rows = parse(response)
    assert header == ["Date", "Facture", "Client", "Mode", "Référence", "Montant"]
    date_cell = f"{T:%d/%m/%Y}"
    assert rows == [
        [date_cell, books.current.number, "'=HYPERLINK(\"http://x.example\";\"clic\")", "Virement",
         "'+33 6 12 34 56 78", "1000,00"],
        [date_cell, books.current.number, "'=HYPERLINK(\"http://x.example\";\"clic\")", "Virement",
         "'@remboursement", "-50,00"],
    ]  # fmt: skip
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", rows[0][0])


def test_without_a_period_last_month_is_exported(client, login_as, books):
    last_day = month_start(T) - timedelta(days=1)
    record_payment(books.lead, books.current, amount=D("10.00"), received_on=last_day, reference="CHQ 12")
    _db.session.commit()
    login_as(books.lead)

    response = client.get(PAYMENTS)

    last_month = add_months(month_start(T), -1)
    assert f'filename="paiements-{last_month:%Y-%m}.csv"' in response.headers["Content-Disposition"]
    rows = parse(response)[1:]
    assert [f"{last_day:%d/%m/%Y}", "CHQ 12", "10,00"] in [[r[0], r[4], r[5]] for r in rows]
    assert all(row[0].endswith(f"/{last_month:%m/%Y}") for row in rows)


@pytest.mark.parametrize("query", [{"month": "2026-13"}, {"month": "octobre"}, {"year": "26"}])
def test_a_bad_period_is_refused_with_a_message(client, login_as, books, query):
    login_as(books.lead)
    response = client.get(INVOICES, query_string=query, follow_redirects=True)
    assert "Période invalide" in response.get_data(as_text=True)


def test_only_the_lead_exports(client, login_as, books):
    company = make_client("Garage Leroy")
    cm = make_cm()
    assign(cm, company)
    for user in (cm, make_client_user(company)):
        login_as(user)
        assert client.get(INVOICES).status_code == 403
        assert client.get(PAYMENTS).status_code == 403
