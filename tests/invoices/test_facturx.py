"""The Factur-X XML (CII, EN 16931) of issued invoices and credit notes: built
from the frozen invoice by drafthorse, valid against the EN 16931 XSD that
factur-x ships, and embedded in a PDF/A-3 that factur-x reads back."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from app.invoices.document import render_invoice_pdf
from app.invoices.facturx import FacturXError, build_xml
from app.invoices.services import create_credit_note, issue_invoice
from tests.factories import make_agency_settings, make_client, make_invoice, make_issued_invoice, make_lead

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}
SETTLEMENT = "//ram:ApplicableHeaderTradeSettlement"
SUMMATION = SETTLEMENT + "/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
D = Decimal


def xpath(xml: bytes, path: str) -> list[str]:
    """The texts (or attribute values) at `path`."""
    found = etree.fromstring(xml).xpath(path, namespaces=NS)
    return [item if isinstance(item, str) else (item.text or "") for item in found]


def one(xml: bytes, path: str) -> str:
    values = xpath(xml, path)
    assert len(values) == 1, (path, values)
    return values[0]


def ymd(day) -> str:
    return f"{day:%Y%m%d}"


@pytest.fixture
def buyer(db):
    make_agency_settings(share_capital=D("10000.00"), rcs_city="Annecy")
    return make_client(
        "Boulangerie Dupont",
        address_line="3 rue Sommeiller",
        postal_code="74000",
        city="Annecy",
        siren="552100554",
        vat_number="FR12552100554",
    )


def test_the_worked_example_708_at_20_percent_is_a_valid_en16931_invoice(buyer):
    invoice = make_issued_invoice(buyer, pdf=None)
    xml = build_xml(invoice)

    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert one(xml, "//rsm:ExchangedDocumentContext//ram:ID") == "urn:cen.eu:en16931:2017"
    assert one(xml, "//rsm:ExchangedDocument/ram:ID") == invoice.number
    assert one(xml, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert one(xml, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == ymd(invoice.issue_date)
    # the line, its price, quantity and VAT
    assert one(xml, "//ram:IncludedSupplyChainTradeLineItem//ram:ChargeAmount") == "708.00"
    assert one(xml, "//ram:BilledQuantity") == "1.00"
    assert one(xml, "//ram:BilledQuantity/@unitCode") == "C62"
    assert one(xml, "//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == "S"
    assert one(xml, "//ram:SpecifiedLineTradeSettlement//ram:RateApplicablePercent") == "20.00"
    assert one(xml, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount") == "708.00"
    # VAT breakdown and totals
    assert one(xml, SETTLEMENT + "/ram:ApplicableTradeTax/ram:BasisAmount") == "708.00"
    assert one(xml, SETTLEMENT + "/ram:ApplicableTradeTax/ram:CalculatedAmount") == "141.60"
    assert one(xml, SETTLEMENT + "/ram:ApplicableTradeTax/ram:CategoryCode") == "S"
    assert one(xml, SUMMATION + "/ram:LineTotalAmount") == "708.00"
    assert one(xml, SUMMATION + "/ram:TaxBasisTotalAmount") == "708.00"
    assert one(xml, SUMMATION + "/ram:TaxTotalAmount") == "141.60"
    assert one(xml, SUMMATION + "/ram:TaxTotalAmount/@currencyID") == "EUR"
    assert one(xml, SUMMATION + "/ram:GrandTotalAmount") == "849.60"
    assert one(xml, SUMMATION + "/ram:DuePayableAmount") == "849.60"
    assert one(xml, SETTLEMENT + "/ram:InvoiceCurrencyCode") == "EUR"
    # payment: SEPA transfer to the agency's IBAN, due date, the number as reference
    means = SETTLEMENT + "/ram:SpecifiedTradeSettlementPaymentMeans"
    assert one(xml, means + "/ram:TypeCode") == "58"
    assert one(xml, means + "//ram:IBANID") == "FR7630006000011234567890189"
    assert one(xml, means + "//ram:BICID") == "BNPAFRPP"
    assert one(xml, SETTLEMENT + "/ram:PaymentReference") == invoice.number
    assert one(xml, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == ymd(
        invoice.due_date
    )
    assert one(xml, "//ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString") == ymd(
        invoice.period_start
    )


def test_seller_and_buyer_carry_siren_vat_number_and_address(buyer):
    xml = build_xml(make_issued_invoice(buyer, pdf=None))

    seller, client = "//ram:SellerTradeParty", "//ram:BuyerTradeParty"
    assert one(xml, seller + "/ram:Name") == "Agence Relais"
    assert one(xml, seller + "/ram:SpecifiedLegalOrganization/ram:ID") == "443061841"
    assert one(xml, seller + "/ram:SpecifiedLegalOrganization/ram:ID/@schemeID") == "0002"
    assert one(xml, seller + "/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "FR64443061841"
    assert one(xml, seller + "/ram:PostalTradeAddress/ram:LineOne") == "8 avenue du Parmelan"
    assert one(xml, seller + "/ram:PostalTradeAddress/ram:CountryID") == "FR"
    assert "SAS au capital de 10" in one(xml, seller + "/ram:Description")
    assert "RCS Annecy 443 061 841" in one(xml, seller + "/ram:Description")
    assert one(xml, client + "/ram:Name") == "Boulangerie Dupont"
    assert one(xml, client + "/ram:SpecifiedLegalOrganization/ram:ID[@schemeID='0002']") == "552100554"
    assert one(xml, client + "/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "FR12552100554"
    assert one(xml, client + "/ram:PostalTradeAddress/ram:PostcodeCode") == "74000"
    assert one(xml, client + "/ram:PostalTradeAddress/ram:CityName") == "Annecy"
    assert one(xml, client + "/ram:PostalTradeAddress/ram:CountryID") == "FR"
    notes = xpath(xml, "//rsm:ExchangedDocument/ram:IncludedNote/ram:Content")
    assert "Indemnité forfaitaire pour frais de recouvrement : 40 €" in notes
    assert "Pas d'escompte pour paiement anticipé" in notes


def test_mixed_vat_rates_are_broken_down_per_rate_to_the_cent(buyer):
    invoice = make_issued_invoice(
        buyer,
        pdf=None,
        lines=[
            ("Animation", "12.5", "45.00", "20.00"),  # 562.50 -> 112.50
            ("Livre blanc", "3", "19.99", "5.50"),  # 59.97 -> 3.2984 -> 3.30
            ("Atelier", "1", "250.00", "10.00"),  # 250.00 -> 25.00
        ],
    )
    xml = build_xml(invoice)

    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    taxes = etree.fromstring(xml).xpath(SETTLEMENT + "/ram:ApplicableTradeTax", namespaces=NS)
    breakdown = {
        tax.findtext("ram:RateApplicablePercent", namespaces=NS): (
            tax.findtext("ram:BasisAmount", namespaces=NS),
            tax.findtext("ram:CalculatedAmount", namespaces=NS),
            tax.findtext("ram:CategoryCode", namespaces=NS),
        )
        for tax in taxes
    }
    assert breakdown == {
        "20.00": ("562.50", "112.50", "S"),
        "10.00": ("250.00", "25.00", "S"),
        "5.50": ("59.97", "3.30", "S"),
    }
    assert one(xml, SUMMATION + "/ram:TaxBasisTotalAmount") == "872.47" == str(invoice.total_ht)
    assert one(xml, SUMMATION + "/ram:TaxTotalAmount") == "140.80" == str(invoice.total_vat)
    assert one(xml, SUMMATION + "/ram:GrandTotalAmount") == "1013.27" == str(invoice.total_ttc)
    assert xpath(xml, "//ram:BilledQuantity") == ["12.50", "3.00", "1.00"]


def test_a_zero_rate_line_in_the_normal_regime_is_exempt_with_a_reason(buyer):
    invoice = make_issued_invoice(
        buyer, pdf=None, lines=[("Forfait", "1", "708.00", "20.00"), ("Débours", "1", "30.00", "0.00")]
    )
    xml = build_xml(invoice)

    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    exempt = SETTLEMENT + "/ram:ApplicableTradeTax[ram:CategoryCode='E']"
    assert one(xml, exempt + "/ram:BasisAmount") == "30.00"
    assert one(xml, exempt + "/ram:CalculatedAmount") == "0.00"
    assert one(xml, exempt + "/ram:ExemptionReason")
    assert xpath(xml, "//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == [
        "S",
        "E",
    ]


def test_under_the_franchise_regime_vat_is_exempt_with_the_293_b_mention(db):
    make_agency_settings(vat_regime="franchise", vat_number="", legal_form="EI")
    client = make_client("Fromagerie Martin", siren="552100554")
    invoice = make_issued_invoice(client, pdf=None, lines=[("Forfait", "1", "708.00", "20.00")])
    xml = build_xml(invoice)

    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert one(xml, SETTLEMENT + "/ram:ApplicableTradeTax/ram:CategoryCode") == "E"
    assert one(xml, SETTLEMENT + "/ram:ApplicableTradeTax/ram:ExemptionReason") == (
        "TVA non applicable, art. 293 B du CGI"
    )
    assert one(xml, "//ram:SpecifiedLineTradeSettlement//ram:CategoryCode") == "E"
    assert one(xml, "//ram:SpecifiedLineTradeSettlement//ram:RateApplicablePercent") == "0.00"
    assert one(xml, SUMMATION + "/ram:TaxTotalAmount") == "0.00"
    assert (
        one(xml, SUMMATION + "/ram:GrandTotalAmount")
        == "708.00"
        == one(xml, SUMMATION + "/ram:TaxBasisTotalAmount")
    )
    # no VAT number: the seller's SIREN as its tax registration (BR-E-02)
    assert xpath(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == []
    assert (
        one(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']") == "443061841"
    )


def test_a_credit_note_is_381_and_refers_to_the_invoice_it_corrects(buyer):
    lead = make_lead()
    invoice = make_issued_invoice(buyer, pdf=None, lead=lead)
    credit_note = issue_invoice(lead, create_credit_note(lead, invoice, reason="Forfait facturé deux fois"))
    xml = build_xml(credit_note)

    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert one(xml, "//rsm:ExchangedDocument/ram:ID") == credit_note.number != invoice.number
    assert one(xml, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    reference = SETTLEMENT + "/ram:InvoiceReferencedDocument"
    assert one(xml, reference + "/ram:IssuerAssignedID") == invoice.number
    assert one(xml, reference + "/ram:FormattedIssueDateTime/qdt:DateTimeString") == ymd(invoice.issue_date)
    assert any("Forfait facturé deux fois" in note for note in xpath(xml, "//ram:IncludedNote/ram:Content"))
    assert one(xml, SUMMATION + "/ram:GrandTotalAmount") == "849.60"


def test_a_draft_has_no_xml(buyer):
    with pytest.raises(FacturXError):
        build_xml(make_invoice(buyer))


def test_lines_that_do_not_add_up_to_the_totals_are_refused(db, buyer):
    invoice = make_issued_invoice(buyer, pdf=None)
    with db.session.no_autoflush:
        invoice.total_vat = D("141.59")  # never flushed: the freeze would refuse it
        with pytest.raises(FacturXError, match="do not add up"):
            build_xml(invoice)
    db.session.expire(invoice)


def test_the_pdf_is_a_pdfa3_with_the_same_xml_embedded(buyer):
    invoice = make_issued_invoice(buyer, pdf=None)
    pdf = render_invoice_pdf(invoice)

    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    assert xml == build_xml(invoice)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert one(xml, "//rsm:ExchangedDocument/ram:ID") == invoice.number
    assert one(xml, SUMMATION + "/ram:GrandTotalAmount") == str(invoice.total_ttc)

    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r"<pdfaid:part>3</pdfaid:part>", xmp)
    assert re.search(r"<pdfaid:conformance>B</pdfaid:conformance>", xmp)
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert "/Filter" not in root["/Metadata"].get_object()
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert [spec.get_object()["/AFRelationship"] for spec in root["/AF"]] == ["/Data"]
    # Info agrees with XMP (PDF/A): producer, title, dates
    info = reader.metadata
    assert f"<pdf:Producer>{info['/Producer']}</pdf:Producer>" in xmp
    assert info["/Title"] == f"Facture {invoice.number}"
    modified = re.search(r"<xmp:ModifyDate>([^<]+)</xmp:ModifyDate>", xmp).group(1)
    assert info["/ModDate"][2:16] == re.sub(r"\D", "", modified)[:14]
    assert "/Keywords" not in info
