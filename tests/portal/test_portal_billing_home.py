"""The client's home: this month's hours and the next invoice's estimate,
what is left to pay (to the cent), the reports and invoices lists; never
another client's, a cost, a margin, an internal note or a draft."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.portal.services import HOME_ROWS
from tests.factories import (
    make_agency_settings,
    make_client,
    make_client_user,
    make_cm,
    make_contract,
    make_entry,
    make_issued_invoice,
    make_lead,
    make_report,
    make_version,
)
from tests.portal.conftest import RIVAL_SECRETS, text, words


def home_words(client, login_as, shop, user=None, company=None) -> str:
    login_as(user or shop.sophie)
    response = client.get(f"/clients/{(company or shop.dupont).id}/portal")
    assert response.status_code == 200
    return words(text(response))


def test_the_home_shows_this_months_hours_left_and_the_next_invoice_estimate(client, login_as, shop):
    page = home_words(client, login_as, shop)
    assert "Heures consacrées 12 h 30 sur 30 h incluses" in page
    assert "Heures restantes 17 h 30" in page
    # a plain retainer: the fee, HT and with 20 % VAT
    assert "Prochaine facture estimée 708,00 € HT soit 849,60 € TTC" in page
    assert "42 % des heures incluses utilisées" in page


def test_unpaid_invoices_add_up_to_the_cent_and_the_overdue_one_is_marked(client, login_as, shop):
    page = home_words(client, login_as, shop)
    # 300,00 (overdue) + 849,60 + (444,42 - 100,00 paid) = 1 494,02
    assert "Total à régler 1 494,02 €" in page
    assert "dont 300,00 € en retard" in page
    assert f"{shop.overdue.number} échéance le" in page
    assert "300,00 € En retard 30 jours de retard" in page
    assert f"{shop.partly.number} échéance le" in page and "344,42 € Partiellement payée" in page
    assert f"{shop.unpaid.number} échéance le" in page and "849,60 € À payer" in page
    due = page.split("À régler", 1)[1].split("Rapports d'activité", 1)[0]
    assert shop.paid.number not in due  # paid: nothing left to pay


def test_the_invoice_list_shows_each_with_its_status_and_download(client, login_as, shop):
    login_as(shop.sophie)
    raw = text(client.get(shop.portal))
    page = words(raw)
    listed = page.split("Factures Numéro", 1)[1]
    assert f"{shop.paid.number}" in listed and "144,00 € Payée" in listed
    assert "444,42 € Partiellement payée" in listed
    assert "300,00 € En retard" in listed
    for invoice in (shop.overdue, shop.unpaid, shop.partly, shop.paid):
        assert f'href="/clients/{shop.dupont.id}/invoices/{invoice.id}/pdf"' in raw
        assert f'href="/clients/{shop.dupont.id}/portal/invoices/{invoice.id}"' in raw


def test_no_draft_no_pdf_less_invoice_no_draft_report(client, login_as, shop):
    login_as(shop.sophie)
    raw = text(client.get(shop.portal))
    page = words(raw)
    assert "7 777,77" not in page and "9 333,32" not in page and "Brouillon secret" not in page
    assert shop.no_pdf.number not in page and "5 555,55" not in page
    assert f"/invoices/{shop.draft.id}" not in raw and f"/invoices/{shop.no_pdf.id}" not in raw
    assert "BROUILLON-SECRET" not in page
    assert f"/portal/reports/{shop.draft_report.id}" not in raw


def test_no_cost_margin_or_internal_note(client, login_as, shop):
    page = home_words(client, login_as, shop)
    lowered = page.lower()
    for secret in ("389,63", "318,37", "31,17", "NOTE-INTERNE"):
        assert secret not in page, secret
    for word in ("marge", "coût", "rentabilité"):
        assert word not in lowered, word


def test_nothing_of_another_client(client, login_as, shop):
    login_as(shop.sophie)
    raw = text(client.get(shop.portal))
    page = words(raw)
    for secret in (*RIVAL_SECRETS, shop.rival_invoice.number):
        assert secret not in page, secret
    assert f"/clients/{shop.rival.id}/" not in raw
    # and the rival's own home shows its own figures, none of Dupont's
    rival = home_words(client, login_as, shop, user=shop.paul, company=shop.rival)
    assert "Espace de Fromagerie Concurrente" in rival and "9 876,54 € HT" in rival
    assert "Heures consacrées 20 h 02 sur 99 h incluses" in rival
    for secret in ("Boulangerie Dupont", "Animation Instagram", "1 494,02", "12 h 30", shop.unpaid.number):
        assert secret not in rival, secret


def test_the_latest_report_shows_its_signoff_state(client, login_as, shop):
    login_as(shop.sophie)
    raw = text(client.get(shop.portal))
    page = words(raw)
    latest = page.split("Dernier rapport", 1)[1]
    assert latest.lstrip().startswith(
        f"{_month(shop.published.month)} · Animation Instagram En attente de validation"
    )
    assert "Lire et valider" in latest
    assert f'href="/clients/{shop.dupont.id}/portal/reports/{shop.published.id}"' in raw
    assert f'href="/clients/{shop.dupont.id}/reports/{shop.published.id}/versions/1.pdf"' in raw


def _month(day: date) -> str:
    from babel.dates import format_date

    return format_date(day, "LLLL yyyy", locale="fr_FR").capitalize()


def test_the_lead_previews_the_same_figures_without_drafts(client, login_as, shop):
    page = home_words(client, login_as, shop, user=shop.lead)
    assert "Aperçu de l'espace client" in page
    assert "Total à régler 1 494,02 €" in page
    assert "Brouillon secret" not in page and shop.no_pdf.number not in page
    assert "BROUILLON-SECRET" not in page
    assert "Lire et valider" not in page  # the lead does not sign off


# -- an hourly contract: the estimate follows the pace ----------------------------------------


@pytest.fixture
def garage(db, monkeypatch):
    """Garage Leroy, billed 45 € HT an hour with a 1 000 € ceiling, 10 h
    logged in the first two weeks of March 2026 (10 of its 22 working days)."""
    make_agency_settings()
    garage = make_client("Garage Leroy")
    contract = make_contract(
        garage, title="Réseaux du garage", start=date(2026, 1, 1), model="hourly", fee=None, rate="45.00",
        ceiling="1000.00", included_hours=None,
    )  # fmt: skip
    cm = make_cm()
    for day in (2, 4, 6, 9, 11):
        make_entry(contract, cm, date(2026, 3, day), 120)
    user = make_client_user(garage)

    def on(day: date) -> None:
        monkeypatch.setattr("app.portal.services.today", lambda: day)
        monkeypatch.setattr("app.portal.views.today", lambda: day)

    return garage, contract, user, on


def test_an_hourly_estimate_follows_the_pace_of_the_month(client, login_as, garage):
    company, _contract, user, on = garage
    login_as(user)
    on(date(2026, 3, 13))  # 10 working days out of 22: 10 h now, 22 h at this pace
    page = words(text(client.get(f"/clients/{company.id}/portal")))
    assert "Ce mois-ci mars 2026" in page
    assert "Heures consacrées 10 h" in page and "Heures restantes" not in page
    assert "Prochaine facture estimée 990,00 € HT soit 1 188,00 € TTC" in page
    assert "Budget du mois : 450,00 € HT engagés sur 1 000,00 € HT" in page
    assert "environ 22 h sur le mois" in page
    assert "dépasserait le plafond" not in page

    on(date(2026, 3, 31))  # the month is over: the estimate is what was logged
    page = words(text(client.get(f"/clients/{company.id}/portal")))
    assert "Prochaine facture estimée 450,00 € HT soit 540,00 € TTC" in page


def test_an_estimate_past_the_ceiling_is_announced(client, login_as, garage, db):
    company, contract, user, on = garage
    contract.terms[0].budget_ceiling = Decimal("800.00")
    db.session.flush()
    login_as(user)
    on(date(2026, 3, 13))
    page = words(text(client.get(f"/clients/{company.id}/portal")))
    assert "le mois dépasserait le plafond de 800,00 € HT prévu au contrat" in page


def test_under_the_vat_franchise_the_estimate_has_no_vat(client, login_as, garage):
    from app.agency.models import VatRegime

    company, _contract, user, on = garage
    make_agency_settings(vat_regime=VatRegime.FRANCHISE)
    login_as(user)
    on(date(2026, 3, 31))
    page = words(text(client.get(f"/clients/{company.id}/portal")))
    assert "Prochaine facture estimée 450,00 € HT TVA non applicable" in page


# -- empty states, long lists --------------------------------------------------------------


def test_a_new_client_sees_clear_empty_states(client, login_as, db):
    make_agency_settings()
    company = make_client("Cabinet Kiné Rivière")
    login_as(make_client_user(company))
    page = words(text(client.get(f"/clients/{company.id}/portal")))
    assert "Aucun contrat en cours ce mois-ci" in page
    assert "Rien à régler pour l'instant." in page
    assert "Aucun rapport publié pour l'instant" in page
    assert "Aucune facture Vos factures apparaîtront ici" in page
    assert "Total à régler" not in page and "Voir toutes" not in page


def test_all_paid_says_so(client, login_as, db):
    from app.invoices.receipts import record_payment
    from app.timeutil import today

    company = make_client("Fromagerie Martin")
    lead = make_lead()
    invoice = make_issued_invoice(company, lead=lead)
    record_payment(lead, invoice, amount=invoice.total_ttc, received_on=today())
    login_as(make_client_user(company))
    page = words(text(client.get(f"/clients/{company.id}/portal")))
    assert "Rien à régler : toutes vos factures sont payées. Merci !" in page


def test_long_lists_end_with_a_link_to_every_report_and_invoice(client, login_as, db):
    from app.timesheets.calendar import add_months, month_start
    from app.timeutil import today

    company = make_client("Garage du Centre")
    contract = make_contract(company, start=add_months(month_start(today()), -12))
    lead = make_lead()
    reports = []
    for back in range(1, HOME_ROWS + 3):
        report = make_report(contract, add_months(month_start(today()), -back))
        make_version(report)
        reports.append(report)
    invoices = [make_issued_invoice(company, lead=lead) for _ in range(HOME_ROWS + 2)]
    login_as(make_client_user(company))
    raw = text(client.get(f"/clients/{company.id}/portal"))
    assert f'href="/clients/{company.id}/portal/reports"' in raw
    assert f'href="/clients/{company.id}/portal/invoices"' in raw
    assert f'/portal/reports/{reports[-1].id}"' not in raw  # the oldest waits on the full list
    assert invoices[0].number not in raw.split('id="invoices"', 1)[1]  # the oldest, in the full list

    everything = text(client.get(f"/clients/{company.id}/portal/reports"))
    assert all(f'/portal/reports/{r.id}"' in everything for r in reports)
    everything = text(client.get(f"/clients/{company.id}/portal/invoices"))
    assert all(i.number in everything for i in invoices)


def test_the_full_lists_page_and_hide_drafts(client, login_as, shop, app, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE", 2)
    login_as(shop.sophie)
    first = words(text(client.get(f"/clients/{shop.dupont.id}/portal/invoices")))
    second = words(text(client.get(f"/clients/{shop.dupont.id}/portal/invoices?page=2")))
    assert "Page 1 sur 2" in first and "Page 2 sur 2" in second
    shown = first + second
    for invoice in (shop.overdue, shop.unpaid, shop.partly, shop.paid):
        assert invoice.number in shown
    assert shop.no_pdf.number not in shown and "Brouillon secret" not in shown
    reports = text(client.get(f"/clients/{shop.dupont.id}/portal/reports"))
    assert f'/portal/reports/{shop.published.id}"' in reports
    assert f'/portal/reports/{shop.draft_report.id}"' not in reports
    assert client.get(f"/clients/{shop.rival.id}/portal/invoices").status_code == 404
    assert client.get(f"/clients/{shop.rival.id}/portal/reports").status_code == 404


def test_a_cm_may_not_open_the_lists(client, login_as, shop):
    login_as(shop.cm)
    assert client.get(f"/clients/{shop.dupont.id}/portal/invoices").status_code == 403
    assert client.get(f"/clients/{shop.dupont.id}/portal/reports").status_code == 403
