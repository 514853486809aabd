"""The invoice document: every mention French law requires, in French
formats, on one A4 page, read back from real PDF bytes (pdftotext); rendered
from the frozen invoice only; a draft's preview marked "BROUILLON".

Rendering costs about 0.3 s: each scenario is rendered once per module
(`rendered`) and its bytes shared by the tests that read it."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import facturx
from babel.dates import format_date
from flask_babel import force_locale
from PIL import Image
from pypdf import PdfReader

from app.documents.services import store_document
from app.invoices.document import invoice_html, render_invoice_pdf
from app.invoices.facturx import build_xml
from app.invoices.models import Invoice
from app.invoices.services import create_credit_note, issue_invoice
from tests.factories import make_agency_settings, make_client, make_invoice, make_issued_invoice, make_lead

D = Decimal


def french(day: date) -> str:
    """ "24 novembre 2026", by Babel directly (not the app's filters)."""
    return format_date(day, "d MMMM yyyy", locale="fr_FR")


def pdf_text(pdf: bytes) -> str:
    """The PDF's text in content order, its spaces (no-break, narrow) made plain."""
    raw = subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return re.sub(r"\s+", " ", raw.decode().replace("\u00a0", " ").replace("\u202f", " "))


def png(colour: str = "#2f7d6d") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), colour).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    text: str
    number: str | None
    issue_date: date | None
    due_date: date | None
    credited_number: str | None = None
    credited_date: date | None = None


_rendered: dict[str, Rendered] = {}


def rendered(name: str, build: Callable[[], Invoice]) -> Rendered:
    """Scenario `name` rendered once for the module (each test's database is
    rolled back, and built again the same way, so the facts hold)."""
    if name not in _rendered:
        invoice = build()
        pdf = render_invoice_pdf(invoice)
        credited = invoice.credited_invoice
        _rendered[name] = Rendered(
            pdf,
            pdf_text(pdf),
            invoice.number,
            invoice.issue_date,
            invoice.due_date,
            credited.number if credited is not None else None,
            credited.issue_date if credited is not None else None,
        )
    return _rendered[name]


def dupont():
    return make_client(
        "Boulangerie Dupont",
        address_line="3 rue Sommeiller",
        postal_code="74000",
        city="Annecy",
        siren="552100554",
        vat_number="FR12552100554",
    )


def worked_example() -> Invoice:
    logo = store_document(png(), "image/png")
    make_agency_settings(share_capital=D("10000.00"), rcs_city="Annecy", logo_sha256=logo.sha256)
    return make_issued_invoice(
        dupont(),
        pdf=None,
        title="Community management — octobre 2026",
        lines=[("Community management — forfait mensuel octobre 2026", "1", "708.00", "20.00")],
    )


def mixed_rates() -> Invoice:
    make_agency_settings()
    return make_issued_invoice(
        dupont(),
        pdf=None,
        lines=[
            ("Animation des réseaux", "12.5", "45.00", "20.00"),
            ("Livre blanc imprimé", "3", "19.99", "5.50"),
            ("Atelier stratégie", "1", "250.00", "10.00"),
        ],
    )


def franchise() -> Invoice:
    make_agency_settings(vat_regime="franchise", vat_number="", legal_form="EI")
    return make_issued_invoice(dupont(), pdf=None, lines=[("Forfait mensuel", "1", "708.00", "20.00")])


def credit_note() -> Invoice:
    make_agency_settings()
    lead = make_lead()
    invoice = make_issued_invoice(dupont(), pdf=None, lead=lead)
    return issue_invoice(lead, create_credit_note(lead, invoice, reason="Forfait facturé deux fois"))


# -- the worked example --------------------------------------------------------------------


def test_the_worked_example_shows_708_ht_141_60_vat_849_60_ttc(db):
    doc = rendered("worked", worked_example)

    assert f"FACTURE {doc.number}" in doc.text
    assert "Community management — forfait mensuel octobre 2026 1 708,00 € 20 % 708,00 €" in doc.text
    assert "Total HT 708,00 €" in doc.text
    assert "TVA 20 % 141,60 €" in doc.text
    assert "Total TTC 849,60 €" in doc.text
    assert "20 % 708,00 € 141,60 €" in doc.text  # the VAT breakdown: rate, base, VAT


def test_every_mention_french_law_requires_is_on_the_invoice(db):
    doc = rendered("worked", worked_example)
    mentions = [
        # the seller: name, legal form, capital, RCS, address, SIREN/SIRET, VAT number
        "Agence Relais",
        "SAS au capital de 10 000,00 €",
        "RCS Annecy 443 061 841",
        "8 avenue du Parmelan",
        "74000 Annecy",
        "SIREN 443 061 841",
        "SIRET 443 061 841 00013",
        "FR64443061841",
        # the buyer: name, address, SIREN, VAT number
        "Boulangerie Dupont",
        "3 rue Sommeiller",
        "SIREN 552 100 554",
        "FR12552100554",
        # number, dates, period, nature of the operation
        f"FACTURE {doc.number}",
        f"Date d'émission {french(doc.issue_date)}",
        f"Échéance {french(doc.due_date)}",
        f"Période le {french(doc.issue_date)}",
        "Prestations de services",
        # lines: quantity, unit price HT, VAT rate; totals
        "PRIX UNITAIRE HT",  # the table header (upper case by CSS)
        "Total HT 708,00 €",
        "Total TTC 849,60 €",
        # payment: due date, penalties, the 40 € indemnity, no discount
        f"À payer avant le {french(doc.due_date)}",
        "pénalités au taux annuel de 10 %",
        "Indemnité forfaitaire pour frais de recouvrement : 40 €",
        "Pas d'escompte pour paiement anticipé",
        # transfer: IBAN, BIC and the reference to give
        "IBAN FR76 3000 6000 0112 3456 7890 189",
        "BIC BNPAFRPP",
        f"Référence à indiquer {doc.number}",
    ]
    missing = [mention for mention in mentions if mention not in doc.text]
    assert missing == []
    assert "art. 293 B" not in doc.text  # not under the franchise


def test_a_normal_invoice_is_one_a4_page_with_the_agency_logo(db):
    doc = rendered("worked", worked_example)
    reader = PdfReader(io.BytesIO(doc.pdf))

    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    assert len(page.images) == 1  # the logo, fetched by its hash


def test_mixed_vat_rates_add_up_to_the_cent(db):
    doc = rendered("mixed", mixed_rates)

    assert "12,50 h" not in doc.text  # units, not hours
    assert "Animation des réseaux 12,5 45,00 € 20 % 562,50 €" in doc.text
    assert "Livre blanc imprimé 3 19,99 € 5,5 % 59,97 €" in doc.text
    assert "Atelier stratégie 1 250,00 € 10 % 250,00 €" in doc.text
    assert "TVA 20 % 112,50 €" in doc.text
    assert "TVA 10 % 25,00 €" in doc.text
    assert "TVA 5,5 % 3,30 €" in doc.text  # 59,97 x 5,5 % = 3,29835
    assert "Total HT 872,47 €" in doc.text
    assert "Total TTC 1 013,27 €" in doc.text


def test_under_the_franchise_regime_no_vat_is_shown_and_ttc_equals_ht(db):
    doc = rendered("franchise", franchise)

    assert "TVA non applicable, art. 293 B du CGI" in doc.text
    assert "Total HT 708,00 €" in doc.text
    assert "Total TTC 708,00 €" in doc.text
    assert "Récapitulatif de la TVA".upper() not in doc.text
    assert not re.search(r"TVA \d", doc.text)  # no VAT line, no VAT rate column
    assert "141,60" not in doc.text
    assert "Forfait mensuel 1 708,00 € 708,00 €" in doc.text


def test_a_credit_note_names_the_invoice_it_corrects_and_why(db):
    doc = rendered("credit", credit_note)

    assert doc.number.startswith("A")
    assert f"AVOIR {doc.number}" in doc.text
    assert f"Cet avoir corrige la facture {doc.credited_number} du {french(doc.credited_date)}." in doc.text
    assert "Motif : Forfait facturé deux fois" in doc.text
    assert "Total TTC 849,60 €" in doc.text
    assert f"849,60 € TTC viennent en déduction de la facture {doc.credited_number}" in doc.text
    assert "Règlement par virement" not in doc.text
    assert "FACTURE" not in doc.text.replace("FACTURÉ", "")


# -- frozen, French, drafts ------------------------------------------------------------------


def test_rendering_again_reads_the_frozen_invoice_never_the_live_settings(db):
    invoice = worked_example()
    html, xml = invoice_html(invoice), build_xml(invoice)

    make_agency_settings(legal_name="Nouvelle Agence", iban="FR1420041010050500013M02606", share_capital=None)
    invoice.client.name = "Dupont & Fils"
    db.session.flush()

    assert invoice_html(invoice) == html
    assert build_xml(invoice) == xml
    assert "Nouvelle Agence" not in html and "Dupont &amp; Fils" not in html


def test_the_document_is_french_whoever_renders_it(db):
    invoice = worked_example()
    with force_locale("en_GB"):
        html = invoice_html(invoice)

    assert '<html lang="fr">' in html
    assert french(invoice.due_date) in html
    assert "849,60\u00a0€" in html
    assert "Pas d'escompte pour paiement anticipé" in html


def test_a_draft_preview_is_marked_brouillon_with_todays_details_and_no_number(db):
    make_agency_settings()
    draft = make_invoice(dupont())
    html = invoice_html(draft)

    assert "BROUILLON" in html and "Brouillon, sans numéro" in html
    assert "Agence Relais" in html and "Boulangerie Dupont" in html
    assert "849,60\u00a0€" in html

    pdf = render_invoice_pdf(draft)
    text = pdf_text(pdf)
    assert "BROUILLON" in text and "Total TTC 849,60 €" in text
    assert "/AF" not in PdfReader(io.BytesIO(pdf)).trailer["/Root"]  # no Factur-X XML in a draft
    assert facturx.get_xml_from_pdf(pdf, check_xsd=False) == (False, False)


def test_the_browser_preview_uses_app_urls(app, db):
    invoice = worked_example()
    with app.test_request_context("/"):
        html = invoice_html(invoice, for_pdf=False)

    assert 'href="/static/css/invoice-pdf.css"' in html
    assert "/agency/logo?v=" in html
    assert "relais-" not in html
    assert "invoice-preview" in html
