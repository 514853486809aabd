"""Receivables: payments recorded by hand from the invoice page, what is
owed by age (exact to the cent), the list and its filters, and reminders
(the mail, the 24 h guard)."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db as _db
from app.invoices.models import Invoice, InvoiceStatus, Payment
from app.invoices.receipts import record_payment
from app.invoices.receivables import receivable_totals
from app.invoices.services import LineInput, create_credit_note, issue_invoice
from app.timeutil import today, utcnow
from tests.factories import (
    assign,
    make_agency_settings,
    make_client,
    make_client_user,
    make_cm,
    make_invoice,
    make_issued_invoice,
    make_lead,
)
from tests.invoices.dated import issue_on

D = Decimal
T = today()
RECEIVABLES = "/invoices/receivables"


def text(response) -> str:
    """The page as a reader sees it: entities decoded, one kind of space."""
    body = html.unescape(response.get_data(as_text=True))
    return re.sub(r"[\u00a0\u202f]", " ", body)


def payments_url(invoice) -> str:
    return f"/clients/{invoice.client_id}/invoices/{invoice.id}/payments"


def remind_url(invoice) -> str:
    return f"/clients/{invoice.client_id}/invoices/{invoice.id}/remind"


def page_url(invoice) -> str:
    return f"/clients/{invoice.client_id}/invoices/{invoice.id}"


@pytest.fixture
def world(db):
    make_agency_settings()
    lead = make_lead(name="Marc Lefèvre")
    dupont = make_client("Boulangerie Dupont", billing_email="compta@dupont.example")
    leroy = make_client("Garage Leroy", billing_email="compta@leroy.example")
    return SimpleNamespace(lead=lead, dupont=dupont, leroy=leroy)


def payment_form(amount: str, day: date | None = None, **extra) -> dict:
    return {
        "amount": amount,
        "received_on": (day or T).isoformat(),
        "method": "transfer",
        "reference": "VIR DUPONT",
        **extra,
    }


def reload(invoice) -> Invoice:
    return _db.session.get(Invoice, invoice.id, populate_existing=True)


def payments_of(invoice) -> list[Payment]:
    return list(_db.session.scalars(select(Payment).where(Payment.invoice_id == invoice.id)))


# -- payments recorded by hand -------------------------------------------------------------


def test_a_partial_payment_leaves_the_invoice_partly_paid_with_the_rest_due(client, login_as, world):
    invoice = make_issued_invoice(world.dupont, lead=world.lead)  # 708,00 HT -> 849,60 TTC
    login_as(world.lead)

    response = client.post(payments_url(invoice), data=payment_form("300,00"))

    assert response.status_code == 302
    assert response.headers["Location"].endswith(page_url(invoice) + "#payments")
    invoice = reload(invoice)
    assert invoice.status == InvoiceStatus.PARTLY_PAID
    assert invoice.amount_paid == D("300.00")
    assert invoice.amount_due == D("549.60")
    (payment,) = payments_of(invoice)
    assert (payment.amount, payment.method, payment.received_on) == (D("300.00"), "transfer", T)
    assert payment.reference == "VIR DUPONT"
    assert payment.recorded_by_id == world.lead.id
    page = text(client.get(page_url(invoice)))
    assert "Paiement de 300,00 € enregistré. Reste à payer : 549,60 €." in page
    assert "Marc Lefèvre" in page  # who recorded it
    assert 'value="549,60"' in page  # the next payment defaults to what is left


def test_paying_what_is_left_makes_the_invoice_paid_and_the_form_goes(client, login_as, world):
    invoice = make_issued_invoice(world.dupont, lead=world.lead)
    login_as(world.lead)
    client.post(payments_url(invoice), data=payment_form("300,00"))
    client.post(payments_url(invoice), data=payment_form("549,60", method="cheque"))

    invoice = reload(invoice)
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.amount_due == 0
    assert [p.amount for p in payments_of(invoice)] == [D("300.00"), D("549.60")]
    page = text(client.get(page_url(invoice)))
    assert "la facture est payée" in page
    assert "Enregistrer un paiement" not in page
    assert "Facture entièrement payée" in page


@pytest.mark.parametrize(
    ("amount", "day", "message"),
    [
        ("849,61", None, "Le montant dépasse le reste à payer (849,60 €)."),
        ("douze", None, "Saisissez un nombre, par exemple 708,00."),
        ("", None, "Indiquez le montant reçu."),
        ("0", None, "Indiquez un montant."),
        ("10,00", T + timedelta(days=1), "La date de réception ne peut pas être dans le futur."),
    ],
)
def test_a_refused_payment_says_why_and_saves_nothing(client, login_as, world, amount, day, message):
    invoice = make_issued_invoice(world.dupont, lead=world.lead)
    login_as(world.lead)

    response = client.post(payments_url(invoice), data=payment_form(amount, day), follow_redirects=True)

    assert message in text(response)
    assert payments_of(invoice) == []
    assert reload(invoice).status == InvoiceStatus.ISSUED
    assert _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "invoice.payment")) is None


def test_a_payment_on_a_draft_is_refused(client, login_as, world):
    draft = make_invoice(world.dupont, lead=world.lead)
    login_as(world.lead)

    response = client.post(payments_url(draft), data=payment_form("10,00"), follow_redirects=True)

    assert "Un paiement se rapporte à une facture émise." in text(response)
    assert payments_of(draft) == []


def test_a_payment_through_another_clients_url_is_404(client, login_as, world):
    invoice = make_issued_invoice(world.dupont, lead=world.lead)
    login_as(world.lead)

    response = client.post(
        f"/clients/{world.leroy.id}/invoices/{invoice.id}/payments", data=payment_form("10,00")
    )

    assert response.status_code == 404
    assert payments_of(invoice) == []


def test_cms_and_client_users_cannot_record_a_payment(client, login_as, world):
    invoice = make_issued_invoice(world.dupont, lead=world.lead)
    cm = make_cm()
    assign(cm, world.dupont)
    for user in (cm, make_client_user(world.dupont)):
        login_as(user)
        assert client.post(payments_url(invoice), data=payment_form("10,00")).status_code == 403
    assert payments_of(invoice) == []


def test_the_payments_partial_lists_refunds_negative_and_the_amounts(client, login_as, world):
    invoice = make_issued_invoice(world.dupont, lead=world.lead)
    record_payment(world.lead, invoice, amount=D("849.60"), received_on=T, reference="VIR 1")
    record_payment(world.lead, invoice, amount=D("-100.00"), received_on=T, reference="Geste commercial")
    _db.session.commit()
    login_as(world.lead)

    page = text(client.get(page_url(invoice)))
    section = page[page.index('id="payments"') :]

    assert "-100,00 €" in section and "remboursement" in section
    assert "Geste commercial" in section
    assert re.search(r"Payé</dt><dd[^>]*>749,60 €", section)
    assert re.search(r"Reste à payer</strong></dt><dd[^>]*><strong>100,00 €", section)
    assert "Enregistrer un paiement" in section  # something is owed again
    assert 'value="100,00"' in section
    assert f'value="{T.isoformat()}"' in section


def test_a_credit_note_shows_in_what_is_left(client, login_as, world):
    invoice = make_issued_invoice(world.dupont, lead=world.lead)
    credit = create_credit_note(
        world.lead, invoice, reason="Remise accordée", lines=[LineInput("Remise", D(1), D("100.00"), D(20))]
    )
    issue_invoice(world.lead, credit)
    _db.session.commit()
    login_as(world.lead)

    section = text(client.get(page_url(invoice)))
    section = section[section.index('id="payments"') :]
    assert "Crédité par avoir" in section and "120,00 €" in section
    assert 'value="729,60"' in section


# -- what is owed, by age ----------------------------------------------------------------------


@pytest.fixture
def ledger(world, monkeypatch):
    """Invoices at every age, issued in date order (30 days to pay):
    days late are T - (issue day + 30)."""
    lead, dupont, leroy = world.lead, world.dupont, world.leroy

    def on(days_ago: int, price: str, who=dupont):
        return issue_on(monkeypatch, T - timedelta(days=days_ago), who, lead, price)

    books = SimpleNamespace(
        a=on(100, "100.00"),  # 120,00 TTC, 70 days late
        b=on(91, "200.00"),  # 240,00, 61 days late
        c=on(90, "10.01"),  # 12,01, 60 days late
        d=on(61, "33.33"),  # 40,00 (VAT 6,67), 31 days late
        e=on(60, "7.77"),  # 9,32 (VAT 1,55), 30 days late
        j=on(45, "5.00", leroy),  # 6,00, 15 days late, another client
        f=on(31, "50.00"),  # 60,00, 1 day late, 15,55 paid
        g=on(30, "0.99"),  # 1,19 (VAT 0,20), due today: not late
        h=on(0, "1000.00"),  # 1200,00, paid in full: owes nothing
        i=on(0, "80.00"),  # 96,00 less a credit note of 24,00
    )
    record_payment(lead, books.f, amount=D("15.55"), received_on=T)
    record_payment(lead, books.h, amount=D("1200.00"), received_on=T)
    credit = create_credit_note(
        lead, books.i, reason="Remise sur le mois", lines=[LineInput("Remise", D(1), D("20.00"), D(20))]
    )
    issue_invoice(lead, credit)
    make_invoice(dupont, lead=lead)  # a draft owes nothing
    cancelled = make_issued_invoice(dupont, lead=lead)
    issue_invoice(lead, create_credit_note(lead, cancelled, reason="Facture en double"))
    _db.session.commit()
    return books


def test_totals_and_age_buckets_are_exact_to_the_cent(ledger):
    totals = receivable_totals(T)

    assert totals.count == 9
    assert totals.owed == D("544.97")
    assert (totals.overdue, totals.overdue_count) == (D("471.78"), 7)
    assert totals.buckets == {
        "not_due": D("73.19"),  # 1,19 + 72,00
        "late_30": D("59.77"),  # 9,32 + 44,45 + 6,00
        "late_60": D("52.01"),  # 12,01 + 40,00
        "late_more": D("360.00"),  # 120,00 + 240,00
    }
    assert sum(totals.buckets.values()) == totals.owed


def test_totals_of_one_client(ledger, world):
    totals = receivable_totals(T, world.dupont.id)

    assert totals.owed == D("538.97")
    assert totals.buckets["late_30"] == D("53.77")
    assert totals.overdue_count == 6


def test_the_page_lists_what_is_owed_with_its_lateness(client, login_as, world, ledger):
    login_as(world.lead)
    page = text(client.get(RECEIVABLES))

    for amount in ("544,97 €", "471,78 €", "73,19 €", "59,77 €", "52,01 €", "360,00 €"):
        assert amount in page
    listed = re.findall(r"<strong>(F\d{4}-\d{4})</strong>", page)
    owing = [ledger.a, ledger.b, ledger.c, ledger.d, ledger.e, ledger.j, ledger.f, ledger.g, ledger.i]
    assert listed == [inv.number for inv in owing]  # the oldest due date first
    assert ledger.h.number not in page
    assert "70 jours" in page and "1 jour" in page
    assert page.count(">Relancer</button>") == 7  # the overdue ones only
    assert "44,45 €" in page and "sur 60,00 €" in page


def test_filters_overdue_only_client_and_sort(client, login_as, world, ledger):
    login_as(world.lead)

    overdue = text(client.get(RECEIVABLES, query_string={"overdue": "1"}))
    assert ledger.g.number not in overdue and ledger.i.number not in overdue
    assert ledger.a.number in overdue and ledger.j.number in overdue

    leroy = text(client.get(RECEIVABLES, query_string={"client": world.leroy.id}))
    assert re.findall(r"<strong>(F\d{4}-\d{4})</strong>", leroy) == [ledger.j.number]
    assert "6,00 €" in leroy

    by_amount = text(client.get(RECEIVABLES, query_string={"sort": "amount"}))
    listed = re.findall(r"<strong>(F\d{4}-\d{4})</strong>", by_amount)
    assert listed[:2] == [ledger.b.number, ledger.a.number]


def test_the_list_is_paginated(app, client, login_as, world, ledger):
    login_as(world.lead)
    app.config["PER_PAGE"] = 4
    try:
        first = text(client.get(RECEIVABLES))
        third = text(client.get(RECEIVABLES, query_string={"page": 3}))
    finally:
        app.config["PER_PAGE"] = 25
    assert len(re.findall(r"<strong>(F\d{4}-\d{4})</strong>", first)) == 4
    assert re.findall(r"<strong>(F\d{4}-\d{4})</strong>", third) == [ledger.i.number]
    assert "Page 1 sur 3" in first


def test_the_page_queries_do_not_grow_with_the_invoices(client, login_as, world, ledger, count_queries):
    login_as(world.lead)
    with count_queries() as before:
        client.get(RECEIVABLES)
    for _n in range(3):
        make_issued_invoice(make_client(), lead=world.lead)  # three more clients owing
    _db.session.commit()
    with count_queries() as after:
        page = text(client.get(RECEIVABLES))
    assert len(re.findall(r"<strong>(F\d{4}-\d{4})</strong>", page)) == 9 + 3
    assert after.count == before.count


def test_nothing_owed_shows_an_empty_state(client, login_as, world):
    login_as(world.lead)
    page = text(client.get(RECEIVABLES))
    assert "Rien à encaisser" in page
    assert "0,00 €" in page


def test_only_the_lead_sees_the_receivables(client, login_as, world):
    cm = make_cm()
    assign(cm, world.dupont)
    for user in (cm, make_client_user(world.dupont)):
        login_as(user)
        assert client.get(RECEIVABLES).status_code == 403


# -- reminders ---------------------------------------------------------------------------------


@pytest.fixture
def late(world, monkeypatch):
    """An invoice of 120,00 TTC due 10 days ago, 20,00 paid."""
    invoice = issue_on(monkeypatch, T - timedelta(days=40), world.dupont, world.lead, "100.00")
    record_payment(world.lead, invoice, amount=D("20.00"), received_on=T)
    _db.session.commit()
    return invoice


def test_a_reminder_mails_the_billing_address_with_what_the_law_asks(client, login_as, world, late, outbox):
    login_as(world.lead)

    response = client.post(remind_url(late), follow_redirects=True)

    assert f"Relance de la facture {late.number} envoyée à compta@dupont.example." in text(response)
    (mail,) = outbox.messages
    assert mail["To"] == "compta@dupont.example"
    assert mail["Subject"] == f"Rappel : facture {late.number} en attente de règlement"
    body = re.sub(r"[\u00a0\u202f]", " ", outbox.body(mail))
    assert body.startswith("Bonjour,")
    assert f"la facture {late.number} du" in body
    assert "Reste à régler : 100,00 €" in body
    assert "Montant TTC : 120,00 €" in body
    due = late.due_date
    assert f"arrivée à échéance le {due.day} " in body and str(due.year) in body
    assert "10 jours de retard" in body
    assert "taux annuel de 10 %" in body
    assert "indemnité forfaitaire pour frais de recouvrement de 40,00 €" in body
    assert "IBAN FR76 3000 6000 0112 3456 7890 189" in body
    assert f"http://localhost/clients/{world.dupont.id}/portal" in body
    assert "Agence Relais" in body

    invoice = reload(late)
    assert invoice.last_reminder_at is not None
    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "invoice.reminded"))
    assert entry.object_id == late.id and entry.client_id == world.dupont.id
    assert entry.actor_id == world.lead.id


def test_a_second_reminder_within_24_hours_is_refused(client, login_as, world, late, outbox):
    login_as(world.lead)
    client.post(remind_url(late))
    first_at = reload(late).last_reminder_at

    response = client.post(remind_url(late), follow_redirects=True)

    assert "Une relance est déjà partie le" in text(response)
    assert "attendez 24 heures" in text(response)
    assert len(outbox.messages) == 1
    assert reload(late).last_reminder_at == first_at
    assert "Prochaine relance possible le" in text(client.get(RECEIVABLES))

    invoice = reload(late)
    invoice.last_reminder_at = utcnow() - timedelta(hours=25)
    _db.session.commit()
    client.post(remind_url(late))
    assert len(outbox.messages) == 2


def test_an_invoice_not_yet_due_is_not_reminded(client, login_as, world, outbox):
    invoice = make_issued_invoice(world.dupont, lead=world.lead)
    login_as(world.lead)

    response = client.post(remind_url(invoice), follow_redirects=True)

    assert "Seule une facture en retard de paiement se relance." in text(response)
    assert outbox.messages == []
    assert reload(invoice).last_reminder_at is None


def test_without_a_billing_address_the_clients_active_users_are_reminded(
    client, login_as, world, monkeypatch, outbox
):
    company = make_client("Fromagerie Martin")
    pierre = make_client_user(company, email="pierre@fromagerie.example", name="Pierre Martin")
    make_client_user(company, email="parti@fromagerie.example", active=False)
    make_client_user(company, email="invite@fromagerie.example", pending=True)
    invoice = issue_on(monkeypatch, T - timedelta(days=45), company, world.lead, "50.00")
    _db.session.commit()
    login_as(world.lead)

    client.post(remind_url(invoice))

    (mail,) = outbox.messages
    assert mail["To"] == pierre.email
    assert outbox.body(mail).startswith("Bonjour Pierre Martin,")


def test_a_client_nobody_can_read_is_not_reminded(client, login_as, world, monkeypatch, outbox):
    company = make_client("Garage du Centre")
    invoice = issue_on(monkeypatch, T - timedelta(days=45), company, world.lead, "50.00")
    _db.session.commit()
    login_as(world.lead)

    response = client.post(remind_url(invoice), follow_redirects=True)

    assert "ni e-mail de facturation ni utilisateur actif" in text(response)
    assert outbox.messages == []


def test_reminding_another_clients_invoice_is_404(client, login_as, world, late, outbox):
    login_as(world.lead)
    assert client.post(f"/clients/{world.leroy.id}/invoices/{late.id}/remind").status_code == 404
    assert outbox.messages == []


def test_the_invoice_page_offers_the_reminder_and_comes_back_to_it(client, login_as, world, late, outbox):
    login_as(world.lead)
    page = text(client.get(page_url(late)))
    section = page[page.index('id="payments"') :]
    assert "En retard de 10 jours." in section
    assert ">Relancer le client</button>" in section

    response = client.post(remind_url(late), data={"back": "invoice"})

    assert response.headers["Location"].endswith(page_url(late))
    assert len(outbox.messages) == 1
    section = text(client.get(page_url(late)))
    assert "Prochaine relance possible le" in section
    assert ">Relancer le client</button>" not in section
