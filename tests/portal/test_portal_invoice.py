"""One invoice in the client's space: lines, VAT, totals, what is paid and
left, how to pay it (card when enabled, always by transfer); 404 for a
draft, an invoice whose PDF is not rendered yet, or another client's; and
downloads that no cache keeps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.documents.services import store_document
from app.extensions import db as _db
from app.invoices.models import RenderState
from app.invoices.services import cancel_invoice
from tests.portal.conftest import RIVAL_SECRETS, text, words


def page_of(client, shop, invoice) -> str:
    response = client.get(shop.invoice_page(invoice))
    assert response.status_code == 200
    return words(text(response))


def test_the_client_reads_an_invoice_with_its_lines_vat_totals_and_what_is_left(client, login_as, shop):
    login_as(shop.sophie)
    page = page_of(client, shop, shop.partly)
    assert f"Facture {shop.partly.number} Partiellement payée" in page
    assert "Campagne sponsorisée 3 123,45 € 20 % 370,35 €" in page
    assert "Total HT 370,35 € TVA 20 % sur 370,35 € 74,07 € Total TTC 444,42 €" in page
    assert "Déjà payé 100,00 € Reste à payer 344,42 €" in page
    assert "Virement" in page  # the payment received, by its method
    # the transfer details, with the invoice number as the reference
    assert "Titulaire Agence Relais IBAN FR76 3000 6000 0112 3456 7890 189 BIC BNPAFRPP" in page
    assert f"Référence à indiquer {shop.partly.number}" in page
    assert "Facturé à Boulangerie Dupont 12 rue Royale 74000 Annecy" in page
    raw = text(client.get(shop.invoice_page(shop.partly)))
    assert f'href="/clients/{shop.dupont.id}/invoices/{shop.partly.id}/pdf"' in raw
    for secret in (*RIVAL_SECRETS, "NOTE-INTERNE", "Marc Lead"):
        assert secret not in page, secret


def test_an_overdue_invoice_says_how_late_it_is(client, login_as, shop):
    login_as(shop.sophie)
    page = page_of(client, shop, shop.overdue)
    assert f"Facture {shop.overdue.number} En retard 30 jours de retard" in page
    assert "Reste à payer 300,00 €" in page


def test_a_paid_invoice_has_nothing_to_pay(client, login_as, shop):
    login_as(shop.sophie)
    page = page_of(client, shop, shop.paid)
    assert "Facture réglée" in page and "Payer par carte" not in page and "Référence à indiquer" not in page


@pytest.mark.parametrize("which", ["draft", "no_pdf", "rival_invoice"])
def test_a_draft_a_pdf_less_or_another_clients_invoice_is_404(client, login_as, shop, which):
    login_as(shop.sophie)
    invoice = getattr(shop, which)
    assert client.get(f"/clients/{shop.dupont.id}/portal/invoices/{invoice.id}").status_code == 404
    assert client.get(f"/clients/{invoice.client_id}/portal/invoices/{invoice.id}").status_code == 404


def test_the_lead_preview_shows_no_draft_either(client, login_as, shop):
    login_as(shop.lead)
    assert client.get(shop.invoice_page(shop.draft)).status_code == 404
    assert client.get(shop.invoice_page(shop.no_pdf)).status_code == 404
    page = page_of(client, shop, shop.unpaid)
    assert "Aperçu de l'espace client" in page and "Reste à payer 849,60 €" in page


def test_a_cm_may_not_open_an_invoice(client, login_as, shop):
    login_as(shop.cm)
    assert client.get(shop.invoice_page(shop.unpaid)).status_code == 403


def test_card_payment_is_offered_only_when_enabled_and_never_in_a_preview(
    client, login_as, shop, monkeypatch
):
    login_as(shop.sophie)
    assert "Payer par carte" not in page_of(client, shop, shop.unpaid)  # Stripe not configured

    monkeypatch.setattr("app.payments.services.card_payments_enabled", lambda: True)
    raw = text(client.get(shop.invoice_page(shop.unpaid)))
    assert f'action="/clients/{shop.dupont.id}/invoices/{shop.unpaid.id}/pay"' in raw
    assert 'name="csrf_token"' in raw and "Payer par carte" in raw
    assert "IBAN" in raw  # the transfer stays offered
    assert "Payer par carte" not in page_of(client, shop, shop.paid)

    login_as(shop.lead)
    raw = text(client.get(shop.invoice_page(shop.unpaid)))
    assert '/pay"' not in raw
    assert "Le bouton « Payer par carte » s'affiche pour les contacts du client." in raw


def test_a_cancelled_invoice_and_its_credit_note(client, login_as, shop):
    credit = cancel_invoice(shop.lead, shop.unpaid, "Erreur de tarif")
    _db.session.info.pop("relais_pending_jobs", None)
    credit.pdf_sha256 = store_document(b"%PDF-1.7 avoir", "application/pdf").sha256
    credit.render_state = RenderState.DONE
    _db.session.flush()
    login_as(shop.sophie)
    page = page_of(client, shop, shop.unpaid)
    assert f"Facture {shop.unpaid.number} Annulée" in page
    assert f"Avoir {credit.number}" in page and "Reste à payer 0,00 €" in page
    assert "Facture annulée" in page and "Référence à indiquer" not in page
    page = page_of(client, shop, credit)
    assert f"Avoir {credit.number} Avoir" in page
    assert f"Corrige la facture {shop.unpaid.number}" in page
    assert "vous n'avez rien à régler" in page
    home = words(text(client.get(shop.portal)))
    assert "Total à régler 644,42 €" in home  # 1 494,02 - 849,60
    listed = home.split("Factures Numéro", 1)[1]
    assert f"{credit.number} · avoir" in listed and "− 849,60 € Avoir" in listed


# -- downloads -----------------------------------------------------------------------------


def test_an_invoice_download_is_an_attachment_no_cache_keeps(client, login_as, shop):
    login_as(shop.sophie)
    response = client.get(f"/clients/{shop.dupont.id}/invoices/{shop.unpaid.id}/pdf")
    assert response.status_code == 200
    assert response.data == b"%PDF-1.7 facture"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="Facture {shop.unpaid.number} - Boulangerie Dupont.pdf"' in disposition
    for invoice in (shop.draft, shop.no_pdf, shop.rival_invoice):
        assert client.get(f"/clients/{shop.dupont.id}/invoices/{invoice.id}/pdf").status_code == 404


def test_a_report_download_is_an_attachment_no_cache_keeps(client, login_as, shop):
    login_as(shop.sophie)
    url = f"/clients/{shop.dupont.id}/reports/{shop.published.id}/versions/1.pdf?name=../../evil.exe"
    response = client.get(url)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert "no-store" in response.headers["Cache-Control"].split(", ")
    disposition = response.headers["Content-Disposition"]
    month = f"{shop.published.month:%Y-%m}"
    assert disposition == f'attachment; filename="rapport-boulangerie-dupont-{month}-v1.pdf"'
    assert (
        client.get(f"/clients/{shop.dupont.id}/reports/{shop.draft_report.id}/draft.pdf").status_code == 404
    )


def test_amounts_are_exact_decimals(shop):
    assert shop.partly.amount_due == Decimal("344.42")
    assert shop.overdue.amount_due + shop.unpaid.amount_due + shop.partly.amount_due == Decimal("1494.02")
