"""The Factur-X (EN 16931) XML of an issued invoice or credit note, and its
embedding in the PDF/A-3.

The XML is built with drafthorse (UN/CEFACT CII, guideline
`urn:cen.eu:en16931:2017`) from the FROZEN invoice only: its number and
dates, its `seller` and `buyer` snapshots, its lines and totals. Live
settings are never read, so rendering again gives the same content.

drafthorse checks it against the Factur-X EN 16931 XSD as it serializes it.
WeasyPrint embeds it as `factur-x.xml` (AFRelationship Data, text/xml) in the
PDF/A-3b it renders, in the same pass (`write_facturx_pdf`), with the XMP
metadata Factur-X asks for: the PDF/A extension schema that declares the
`fx:` properties, and the document type, file name, version and level. The
Info dictionary and the XMP come from the same metadata, so they agree, as
PDF/A requires. (The factur-x package, which rewrote the whole PDF with
pypdf to do this, now only reads and checks the result, in the tests.)

Codes used: document type 380 (invoice) or 381 (credit note, with the
invoice it corrects); VAT category S (standard), E (exempt: the franchise
regime, "TVA non applicable, art. 293 B du CGI", or a 0 % line under the
normal regime); payment means 58 (SEPA credit transfer); legal identifiers
SIREN under scheme 0002 and VAT numbers under "VA"; units C62 (one) and
HUR (hour).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, SubElement, fromstring, register_namespace, tostring

from babel.numbers import format_currency, format_decimal
from drafthorse.models.accounting import ApplicableTradeTax
from drafthorse.models.document import Document
from drafthorse.models.note import IncludedNote
from drafthorse.models.party import TaxRegistration, TradeParty
from drafthorse.models.payment import PaymentMeans, PaymentTerms
from drafthorse.models.tradelines import LineItem
from weasyprint import Attachment
from weasyprint.document import Document as RenderedDocument
from weasyprint.pdf.metadata import DocumentMetadata

import app.pdf  # noqa: F401  (imported after WeasyPrint, it turns Pillow's LOAD_TRUNCATED_IMAGES back off)
from app.invoices.models import Invoice, InvoiceKind
from app.money import ZERO

GUIDELINE = "urn:cen.eu:en16931:2017"
LEVEL = "en16931"
PDF_VARIANT = "pdf/a-3b"
FILENAME = "factur-x.xml"
# The XMP's Factur-X properties (Factur-X 1.0, section 6.2.2).
FX_NAMESPACE = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
FX_PROPERTIES = {
    "DocumentType": ("INVOICE", "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER"),
    "DocumentFileName": (FILENAME, "The name of the embedded XML document"),
    "Version": ("1.0", "The actual version of the standard applying to the embedded XML document"),
    "ConformanceLevel": ("EN 16931", "The conformance level of the embedded XML document"),
}
TYPE_INVOICE = "380"
TYPE_CREDIT_NOTE = "381"
SEPA_TRANSFER = "58"
SIREN_SCHEME = "0002"
CURRENCY = "EUR"
LOCALE = "fr_FR"
UNIT_CODES = {"unit": "C62", "hour": "HUR"}

FRANCHISE_REASON = "TVA non applicable, art. 293 B du CGI"
EXEMPT_REASON = "Exonération de TVA"
PENALTY_INDEMNITY = "Indemnité forfaitaire pour frais de recouvrement : 40 €"
NO_DISCOUNT = "Pas d'escompte pour paiement anticipé"


class FacturXError(ValueError):
    """The invoice cannot make a valid Factur-X XML (a draft, totals that
    do not add up...)."""


def vat_category(rate: Decimal, franchise: bool) -> tuple[str, str | None]:
    """(EN 16931 VAT category code, exemption reason) of a VAT rate."""
    if franchise:
        return "E", FRANCHISE_REASON
    if rate == 0:
        return "E", EXEMPT_REASON
    return "S", None


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else ZERO


def penalty_note(seller: dict) -> str:
    """The late-payment mention, in French whatever the reader's language."""
    rate = format_decimal(_decimal(seller.get("late_penalty_rate")), locale=LOCALE)
    return (
        f"Pénalités de retard : taux annuel de {rate}\u00a0%, exigibles dès le lendemain de la date "
        "d'échéance (art. L441-10 du Code de commerce)."
    )


def spaced_siren(siren: str) -> str:
    """ "443061841" -> "443 061 841" (a SIRET keeps its NIC apart)."""
    digits = (siren or "").replace(" ", "")
    if len(digits) == 9 and digits.isdigit():
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    if len(digits) == 14 and digits.isdigit():
        return f"{spaced_siren(digits[:9])} {digits[9:]}"
    return siren or ""


def legal_description(seller: dict) -> str:
    """The seller's legal form, capital and RCS (BT-33, and the PDF's footer):
    "SAS au capital de 10 000,00 € · RCS Annecy 443 061 841"."""
    form = seller.get("legal_form_label") or seller.get("legal_form") or ""
    capital = seller.get("share_capital")
    if form and capital:
        form += " au capital de " + format_currency(_decimal(capital), CURRENCY, locale=LOCALE)
    parts = [form]
    if seller.get("rcs_city") and seller.get("siren"):
        parts.append(f"RCS {seller['rcs_city']} {spaced_siren(seller['siren'])}")
    return " · ".join(part for part in parts if part)


def _party(party: TradeParty, snapshot: dict, *, seller: bool) -> None:
    party.name = snapshot.get("name") or ""
    if seller:
        description = legal_description(snapshot)
        if description:
            party.description = description
    if snapshot.get("siren"):
        party.legal_organization.id = (SIREN_SCHEME, snapshot["siren"])
    address = party.address
    address.postcode = snapshot.get("postal_code") or ""
    address.line_one = snapshot.get("address_line") or ""
    address.city_name = snapshot.get("city") or ""
    address.country_id = snapshot.get("country_code") or "FR"
    if snapshot.get("email"):
        party.electronic_address.uri_ID = ("EM", snapshot["email"])
    if snapshot.get("vat_number"):
        party.tax_registrations.add(TaxRegistration(id=("VA", snapshot["vat_number"])))
    elif seller and snapshot.get("siren"):
        # Exempt lines need the seller's VAT number or its tax registration
        # (BR-E-02): a seller under the franchise may have no VAT number; its
        # SIREN is its tax identifier.
        party.tax_registrations.add(TaxRegistration(id=("FC", snapshot["siren"])))


def _note(text: str, subject: str | None = None) -> IncludedNote:
    note = IncludedNote()
    note.content = text
    if subject:
        note.subject_code = subject
    return note


def build_document(invoice: Invoice) -> Document:
    """The drafthorse model of the issued `invoice` (see the module's docstring)."""
    from app.invoices.services import vat_groups

    if invoice.is_draft or not invoice.number or invoice.issue_date is None or invoice.due_date is None:
        raise FacturXError("only an issued invoice has a Factur-X XML")
    seller, buyer = invoice.seller or {}, invoice.buyer or {}
    franchise = bool(invoice.vat_franchise)
    credit = invoice.kind == InvoiceKind.CREDIT_NOTE
    groups = vat_groups(invoice.lines, franchise)
    total_ht = sum((g.base for g in groups), ZERO)
    total_vat = sum((g.vat for g in groups), ZERO)
    if (total_ht, total_vat, total_ht + total_vat) != (
        invoice.total_ht,
        invoice.total_vat,
        invoice.total_ttc,
    ):
        raise FacturXError(f"invoice {invoice.number}: its lines do not add up to its totals")

    doc = Document()
    doc.context.guideline_parameter.id = GUIDELINE
    header = doc.header
    header.id = invoice.number
    header.type_code = TYPE_CREDIT_NOTE if credit else TYPE_INVOICE
    header.issue_date_time = invoice.issue_date
    if credit and invoice.credit_reason:
        header.notes.add(_note(f"Motif de l'avoir : {invoice.credit_reason}", "AAI"))
    if franchise:
        header.notes.add(_note(FRANCHISE_REASON, "TXD"))
    header.notes.add(_note(penalty_note(seller), "PMD"))
    header.notes.add(_note(PENALTY_INDEMNITY, "PMT"))
    header.notes.add(_note(NO_DISCOUNT, "AAB"))

    for position, line in enumerate(invoice.lines, start=1):
        rate = ZERO if franchise else _decimal(line.vat_rate)
        category, _reason = vat_category(rate, franchise)
        item = LineItem()
        item.document.line_id = str(position)
        item.product.name = line.description
        item.agreement.net.amount = _decimal(line.unit_price)
        item.delivery.billed_quantity = (_decimal(line.quantity), UNIT_CODES.get(line.unit, "C62"))
        item.settlement.trade_tax.type_code = "VAT"
        item.settlement.trade_tax.category_code = category
        item.settlement.trade_tax.rate_applicable_percent = rate
        item.settlement.monetary_summation.total_amount = _decimal(line.total_ht)
        doc.trade.items.add(item)

    _party(doc.trade.agreement.seller, seller, seller=True)
    _party(doc.trade.agreement.buyer, buyer, seller=False)

    settlement = doc.trade.settlement
    settlement.payment_reference = invoice.number
    settlement.currency_code = CURRENCY
    if seller.get("iban") and not credit:
        means = PaymentMeans()
        means.type_code = SEPA_TRANSFER
        means.information.add("Virement SEPA")
        means.payee_account.iban = seller["iban"].replace(" ", "")
        if seller.get("name"):
            means.payee_account.account_name = seller["name"]
        if seller.get("bic"):
            means.payee_institution.bic = seller["bic"]
        settlement.payment_means.add(means)
    for group in groups:
        category, reason = vat_category(group.rate, franchise)
        tax = ApplicableTradeTax()
        tax.calculated_amount = group.vat
        tax.type_code = "VAT"
        if reason:
            tax.exemption_reason = reason
        tax.basis_amount = group.base
        tax.category_code = category
        tax.rate_applicable_percent = group.rate
        settlement.trade_tax.add(tax)
    if invoice.period_start and invoice.period_end:
        settlement.period.start = invoice.period_start
        settlement.period.end = invoice.period_end
    terms = PaymentTerms()
    terms.description = (
        f"Avoir sur la facture {_credited_number(invoice)}"
        if credit
        else f"Paiement par virement au plus tard le {invoice.due_date:%d/%m/%Y}"
    )
    terms.due = invoice.due_date
    settlement.terms.add(terms)

    summation = settlement.monetary_summation
    summation.line_total = total_ht
    summation.charge_total = ZERO
    summation.allowance_total = ZERO
    summation.tax_basis_total = total_ht
    summation.tax_total = (total_vat, CURRENCY)
    summation.grand_total = invoice.total_ttc
    summation.due_amount = invoice.total_ttc

    if credit and invoice.credited_invoice is not None:
        reference = settlement.invoice_referenced_document
        reference.issuer_assigned_id = invoice.credited_invoice.number
        reference.issue_date_time = invoice.credited_invoice.issue_date
    return doc


def _credited_number(invoice: Invoice) -> str:
    credited = invoice.credited_invoice
    return credited.number if credited is not None and credited.number else ""


def build_xml(invoice: Invoice) -> bytes:
    """The Factur-X XML (UTF-8 bytes), checked against the EN 16931 XSD by
    drafthorse as it serialises, then by the factur-x package (the reference
    implementation of the Factur-X specification): an invoice whose XML fails
    either is never rendered."""
    import facturx

    xml = build_document(invoice).serialize(schema="FACTUR-X_EN16931")
    facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")  # raises on failure
    return xml


# -- the PDF/A-3 with its XML -------------------------------------------------------------

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PDFA_EXTENSION = "http://www.aiim.org/pdfa/ns/extension/"
PDFA_SCHEMA = "http://www.aiim.org/pdfa/ns/schema#"
PDFA_PROPERTY = "http://www.aiim.org/pdfa/ns/property#"
for _prefix, _uri in (
    ("pdfaExtension", PDFA_EXTENSION),
    ("pdfaSchema", PDFA_SCHEMA),
    ("pdfaProperty", PDFA_PROPERTY),
    ("fx", FX_NAMESPACE),
):
    register_namespace(_prefix, _uri)


def _fx_descriptions() -> list[Element]:
    """The XMP descriptions Factur-X adds: its PDF/A extension schema, then
    its four properties."""
    resource = {f"{{{RDF}}}parseType": "Resource"}
    schemas = Element(f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""})
    item = SubElement(
        SubElement(SubElement(schemas, f"{{{PDFA_EXTENSION}}}schemas"), f"{{{RDF}}}Bag"),
        f"{{{RDF}}}li",
        resource,
    )
    SubElement(item, f"{{{PDFA_SCHEMA}}}schema").text = "Factur-X PDFA Extension Schema"
    SubElement(item, f"{{{PDFA_SCHEMA}}}namespaceURI").text = FX_NAMESPACE
    SubElement(item, f"{{{PDFA_SCHEMA}}}prefix").text = "fx"
    properties = SubElement(SubElement(item, f"{{{PDFA_SCHEMA}}}property"), f"{{{RDF}}}Seq")
    for name, (_value, description) in FX_PROPERTIES.items():
        prop = SubElement(properties, f"{{{RDF}}}li", resource)
        SubElement(prop, f"{{{PDFA_PROPERTY}}}name").text = name
        SubElement(prop, f"{{{PDFA_PROPERTY}}}valueType").text = "Text"
        SubElement(prop, f"{{{PDFA_PROPERTY}}}category").text = "external"
        SubElement(prop, f"{{{PDFA_PROPERTY}}}description").text = description
    values = Element(f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""})
    for name, (value, _description) in FX_PROPERTIES.items():
        SubElement(values, f"{{{FX_NAMESPACE}}}{name}").text = value
    return [schemas, values]


class FacturXMetadata(DocumentMetadata):
    """WeasyPrint's document metadata, plus what Factur-X asks of the XMP.

    WeasyPrint writes the Info dictionary and the XMP from these same
    fields (title, author, subject, creator tool, dates, producer), so they
    agree as PDF/A requires. The metadata stream stays unfiltered, so any
    reader finds the Factur-X level in it as is."""

    def generate_rdf_metadata(self, variant, version, conformance):
        rdf = fromstring(super().generate_rdf_metadata(variant, version, conformance))  # noqa: S314 (ours)
        about = f"{{{RDF}}}about"
        for description in rdf:
            # Properties as elements (<pdfaid:part>3</pdfaid:part>), not as
            # attributes of their description: the same RDF, in the form
            # the Factur-X samples use and every checker reads.
            for name, value in [(k, v) for k, v in description.attrib.items() if k != about]:
                del description.attrib[name]
                SubElement(description, name).text = value
        rdf.extend(_fx_descriptions())
        return tostring(rdf, encoding="utf-8")

    def include_in_pdf(self, pdf, variant, version, conformance, compress):
        # WeasyPrint 70 lists an attachment twice in the catalog's /AF (once
        # from the EmbeddedFiles name tree, once as a Filespec): once is right.
        if "AF" in pdf.catalog:
            pdf.catalog["AF"][:] = list(dict.fromkeys(pdf.catalog["AF"]))
        super().include_in_pdf(pdf, variant, version, conformance, False)


def _xmp_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def write_facturx_pdf(
    document: RenderedDocument,
    xml: bytes,
    *,
    title: str,
    author: str,
    subject: str,
    moment: datetime,
) -> bytes:
    """`document` (rendered by WeasyPrint) as a PDF/A-3b carrying `xml` as
    factur-x.xml, in one pass. `moment` (the issue's) dates the PDF and the
    attachment, so rendering again gives the same metadata."""
    metadata = FacturXMetadata()
    metadata.__dict__.update(vars(document.metadata))
    metadata.title, metadata.description, metadata.keywords = title, subject, []
    metadata.authors = [author] if author else []
    metadata.created = metadata.modified = _xmp_date(moment)
    attachment = Attachment(
        string=xml,
        name=FILENAME,  # text/xml, from its extension
        description="Factur-X XML file",
        relationship="Data",
        created=moment.astimezone(UTC),
        modified=moment.astimezone(UTC),
    )
    metadata.attachments = [*metadata.attachments, attachment]
    document.metadata = metadata
    pdf = document.write_pdf(pdf_variant=PDF_VARIANT)
    if pdf is None:  # pragma: no cover - only with a `target`, which we never pass
        raise RuntimeError("WeasyPrint returned no bytes")
    return pdf
