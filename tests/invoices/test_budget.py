"""A contract's year: budget ceiling, billable per the time, invoiced
(credit notes deducted) and paid, month by month and to date, in a fixed
number of queries."""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from app.extensions import db as _db
from app.invoices.receipts import record_payment
from app.invoices.receivables import contract_year
from app.invoices.services import (
    LineInput,
    create_credit_note,
    decide_ceiling,
    draft_for_month,
    issue_invoice,
)
from app.timeutil import today
from tests.factories import (
    assign,
    make_agency_settings,
    make_client,
    make_cm,
    make_contract,
    make_entry,
    make_lead,
)

D = Decimal
T = today()
Y = T.year - 1  # a year that is over: every month counts


def text(response) -> str:
    return re.sub(r"[\u00a0\u202f]", " ", html.unescape(response.get_data(as_text=True)))


@pytest.fixture
def year(db):
    """Hourly at 50 €/h, ceiling 1 000 € HT: January 10 h (invoiced 500,
    paid); February 25 h (1 250 billable, capped to 1 000, 100 credited,
    300 paid); nothing after."""
    make_agency_settings()
    lead, cm = make_lead(), make_cm()
    client = make_client(
        "Garage Leroy",
        address_line="25 avenue des Neigeos",
        postal_code="74600",
        city="Annecy",
        siren="552100554",
    )
    assign(cm, client)
    contract = make_contract(
        client, start=date(Y, 1, 1), model="hourly", rate="50.00", ceiling="1000.00", included_hours=None
    )
    make_entry(contract, cm, date(Y, 1, 12), 600)
    make_entry(contract, cm, date(Y, 2, 9), 900)
    make_entry(contract, cm, date(Y, 2, 16), 600)
    january = issue_invoice(lead, draft_for_month(lead, contract, date(Y, 1, 1)))
    february = draft_for_month(lead, contract, date(Y, 2, 1))
    decide_ceiling(lead, february, confirm=False)  # capped at the ceiling
    issue_invoice(lead, february)
    credit = create_credit_note(
        lead, february, reason="Geste commercial", lines=[LineInput("Remise", D(1), D("100.00"), D(20))]
    )
    issue_invoice(lead, credit)
    record_payment(lead, january, amount=D("600.00"), received_on=T)
    record_payment(lead, february, amount=D("300.00"), received_on=T)
    _db.session.commit()
    return SimpleNamespace(lead=lead, client=client, contract=contract, cm=cm)


def test_each_month_budget_billable_invoiced_and_paid(year):
    billing = contract_year(year.contract, Y, T)

    assert [m.month for m in billing.months] == [date(Y, n, 1) for n in range(1, 13)]
    jan, feb, mar = billing.months[:3]
    assert (jan.budget.ceiling, jan.budget.billable) == (D("1000.00"), D("500.00"))
    assert (jan.invoiced.invoiced_ht, jan.invoiced.paid, jan.invoiced.left) == (D("500.00"), D("600.00"), 0)
    assert (feb.budget.ceiling, feb.budget.billable) == (D("1000.00"), D("1250.00"))
    assert feb.invoiced.invoiced_ht == D("900.00")  # 1 000 capped, less the 100 credited
    assert (feb.invoiced.paid, feb.invoiced.left) == (D("300.00"), D("780.00"))  # 1 200 - 120 - 300
    assert (mar.budget.billable, mar.invoiced.invoiced_ht) == (0, 0)
    assert not any(m.future for m in billing.months)

    assert billing.through == date(Y, 12, 1)
    assert billing.ceiling == D("12000.00")
    assert billing.billable == D("1750.00")
    assert billing.invoiced_ht == D("1400.00")
    assert (billing.paid, billing.left) == (D("900.00"), D("780.00"))


def test_the_current_year_counts_to_date_only(year):
    billing = contract_year(year.contract, T.year, T)

    assert billing.months[-1].month == date(T.year, 12, 1)
    assert [m.future for m in billing.months] == [m.month.month > T.month for m in billing.months]
    assert billing.through == date(T.year, T.month, 1)
    assert billing.ceiling == D("1000.00") * T.month


def test_queries_do_not_grow_with_the_months(year, count_queries):
    short = make_contract(year.client, title="Décembre", start=date(Y, 12, 1), model="hourly", rate="50.00",
                          ceiling="1000.00", included_hours=None)  # fmt: skip
    _db.session.commit()

    _db.session.expire_all()
    with count_queries() as twelve:
        assert len(contract_year(year.contract, Y, T).months) == 12
    _db.session.expire_all()
    with count_queries() as one:
        assert len(contract_year(short, Y, T).months) == 1

    assert twelve.count == one.count <= 4


def test_the_page_shows_the_year(client, login_as, year):
    login_as(year.lead)
    url = f"/clients/{year.client.id}/contracts/{year.contract.id}/billing"

    page = text(client.get(url, query_string={"year": Y}))

    assert f"Budget et facturation {Y}" in page
    assert "1 250,00 €" in page and "au-delà du plafond" in page
    assert "900,00 €" in page and "780,00 €" in page
    assert "12 000,00 €" in page and "1 400,00 €" in page
    assert "non facturé" in page  # March
    assert f"Cumul de l'année jusqu'à décembre {Y} inclus." in page
    assert f"{Y + 1} →" in page

    clamped = text(client.get(url, query_string={"year": 1990}))
    assert f"Budget et facturation {Y}" in clamped
    assert "Budget et facturation" in text(
        client.get(f"/clients/{year.client.id}/contracts/{year.contract.id}")
    )


def test_only_the_lead_sees_the_billing_view(client, login_as, year):
    login_as(year.cm)
    url = f"/clients/{year.client.id}/contracts/{year.contract.id}/billing"
    assert client.get(url).status_code == 403
