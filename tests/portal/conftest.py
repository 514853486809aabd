"""A client company with a month of work, reports and invoices in every
state, and a rival company whose every name and amount is distinctive, so a
test can assert that none of it reaches the wrong space."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from app.auth.models import User
from app.clients.models import Client
from app.contracts.models import Contract
from app.extensions import db as _db
from app.invoices.models import Invoice
from app.invoices.receipts import record_payment
from app.reports.models import Report
from app.timesheets.calendar import add_months, month_start
from app.timeutil import today
from tests.factories import (
    assign,
    make_agency_settings,
    make_client,
    make_client_user,
    make_cm,
    make_contract,
    make_entry,
    make_invoice,
    make_issued_invoice,
    make_lead,
    make_report,
    make_version,
)

THIS_MONTH = month_start(today())
LAST_MONTH = add_months(THIS_MONTH, -1)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def words(page: str) -> str:
    """The page's text without tags, every kind of space made one space."""
    page = re.sub(r"<[^>]+>", " ", page).replace("\xa0", " ").replace("\u202f", " ")
    return " ".join(page.split())


def issued_days_ago(monkeypatch, client: Client, days: int, lead: User, **kw) -> Invoice:
    """An invoice issued `days` ago (so its due date may be past)."""
    with monkeypatch.context() as m:
        m.setattr("app.invoices.services.agency_today", lambda: today() - timedelta(days=days))
        return make_issued_invoice(client, lead=lead, **kw)


@dataclass
class Shop:
    lead: User
    cm: User
    dupont: Client
    sophie: User
    contract: Contract
    published: Report
    draft_report: Report
    overdue: Invoice  # 300,00 TTC, due 30 days ago
    unpaid: Invoice  # 849,60 TTC
    partly: Invoice  # 444,42 TTC, 100,00 paid
    paid: Invoice  # 144,00 TTC, paid
    draft: Invoice  # 7 777,77 HT, never issued
    no_pdf: Invoice  # issued, PDF not rendered yet
    rival: Client
    paul: User
    rival_invoice: Invoice
    rival_report: Report

    @property
    def portal(self) -> str:
        return f"/clients/{self.dupont.id}/portal"

    def invoice_page(self, invoice: Invoice) -> str:
        return f"/clients/{invoice.client_id}/portal/invoices/{invoice.id}"


@pytest.fixture
def shop(db, monkeypatch) -> Shop:
    make_agency_settings()
    lead = make_lead(name="Marc Lead")
    dupont = make_client(
        "Boulangerie Dupont",
        address_line="12 rue Royale",
        postal_code="74000",
        city="Annecy",
        siren="443061841",
        internal_notes="NOTE-INTERNE: client à surveiller",
    )
    contract = make_contract(
        dupont, title="Animation Instagram", start=add_months(THIS_MONTH, -6), fee="708.00", included_hours=30
    )
    cm = make_cm(name="Léa Martin")
    cm.cost_rate = Decimal("31.17")  # 12 h 30 cost 389,63 €: a margin of 318,37 € the client never sees
    assign(cm, dupont)
    make_entry(contract, cm, THIS_MONTH, 450)
    make_entry(contract, cm, THIS_MONTH, 300)
    published = make_report(contract, LAST_MONTH, highlights="Un mois solide")
    make_version(published, by=lead)
    draft_report = make_report(contract, THIS_MONTH, highlights="BROUILLON-SECRET à ne pas montrer")
    sophie = make_client_user(dupont, name="Sophie Dupont")

    # The oldest first: invoice numbers follow their dates.
    overdue = issued_days_ago(
        monkeypatch, dupont, 60, lead, lines=(("Shooting photo en boutique", "1", "250.00", "20.00"),)
    )
    unpaid = make_issued_invoice(
        dupont, lead=lead, lines=(("Forfait community management", "1", "708.00", "20.00"),)
    )
    partly = make_issued_invoice(dupont, lead=lead, lines=(("Campagne sponsorisée", "3", "123.45", "20.00"),))
    record_payment(lead, partly, amount=Decimal("100.00"), received_on=today())
    paid = make_issued_invoice(dupont, lead=lead, lines=(("Audit des comptes", "1", "120.00", "20.00"),))
    record_payment(lead, paid, amount=Decimal("144.00"), received_on=today())
    no_pdf = make_issued_invoice(dupont, lead=lead, pdf=None, lines=(("Sans PDF", "1", "5555.55", "20.00"),))
    draft = make_invoice(dupont, lead=lead, lines=(("Brouillon secret", "1", "7777.77", "20.00"),))

    rival = make_client("Fromagerie Concurrente", city="Seynod", internal_notes="NOTE-RIVALE")
    rival_contract = make_contract(rival, title="Contrat Rival Secret", fee="9876.54", included_hours=99)
    make_entry(rival_contract, cm, THIS_MONTH, 601)
    make_entry(rival_contract, cm, THIS_MONTH, 601)
    rival_report = make_report(rival_contract, LAST_MONTH)
    make_version(rival_report, by=lead)
    rival_invoice = make_issued_invoice(
        rival, lead=lead, lines=(("Prestation rivale", "1", "4321.00", "20.00"),)
    )
    paul = make_client_user(rival, name="Paul Rival")
    _db.session.flush()
    return Shop(
        lead=lead,
        cm=cm,
        dupont=dupont,
        sophie=sophie,
        contract=contract,
        published=published,
        draft_report=draft_report,
        overdue=overdue,
        unpaid=unpaid,
        partly=partly,
        paid=paid,
        draft=draft,
        no_pdf=no_pdf,
        rival=rival,
        paul=paul,
        rival_invoice=rival_invoice,
        rival_report=rival_report,
    )


RIVAL_SECRETS = (
    "Fromagerie Concurrente",
    "Contrat Rival Secret",
    "Prestation rivale",
    "Paul Rival",
    "NOTE-RIVALE",
    "Seynod",
    "9 876,54",
    "4 321,00",
    "5 185,20",
    "20 h 02",  # the rival's hours
    "99 h",
)
