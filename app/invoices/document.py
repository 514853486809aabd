"""The invoice or credit note as a document: what it shows
(`invoice_context`), its HTML (`invoice_html`) and its PDF
(`render_invoice_pdf`, a PDF/A-3 with its Factur-X XML).

An issued invoice is rendered from what issuing froze, only: its number and
dates, the `seller` and `buyer` snapshots, its lines and totals. Live
settings are never read, so rendering it again shows the same thing. A
draft (the lead's preview) takes the agency's and the client's details as
they are today, carries a "BROUILLON" mark and no number, and its PDF has no
XML.

The document speaks French, whoever renders it: every mention French law
asks of an invoice between businesses is on it (seller and buyer identities,
number, dates, period, nature of the operation, lines with their VAT rate,
VAT per rate, totals, due date, late-payment penalties, the 40 € recovery
indemnity, no discount for early payment, or the franchise mention).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import render_template, url_for
from flask_babel import force_locale, format_decimal, get_locale
from flask_babel import gettext as _

from app.invoices.facturx import (
    build_xml,
    legal_description,
    spaced_siren,
    vat_category,
    write_facturx_pdf,
)
from app.invoices.models import Invoice
from app.money import ZERO
from app.pdf import STATIC_SCHEME, document_url, render_pdf, static_url, url_fetcher
from app.timeutil import utcnow

STYLESHEET = "css/invoice-pdf.css"
LANGUAGE = "fr"


@dataclass(frozen=True)
class Party:
    """The seller or the buyer as the document names them."""

    name: str
    address_lines: list[str]
    siren: str
    siret: str
    vat_number: str
    email: str
    phone: str


@dataclass(frozen=True)
class Row:
    """One line of the lines table."""

    description: str
    quantity: str
    unit_price: Decimal
    vat_rate: Decimal
    total_ht: Decimal


@dataclass(frozen=True)
class VatRow:
    """One VAT rate of the breakdown: its base, its VAT and its category."""

    rate: Decimal
    base: Decimal
    vat: Decimal
    exempt: bool


def _address(snapshot: dict) -> list[str]:
    lines = [snapshot["address_line"].strip()] if (snapshot.get("address_line") or "").strip() else []
    town = " ".join(part for part in (snapshot.get("postal_code"), snapshot.get("city")) if part).strip()
    if town:
        lines.append(town)
    country = snapshot.get("country_code") or "FR"
    if country != "FR":
        lines.append(get_locale().territories.get(country, country))
    return lines


def _party(snapshot: dict) -> Party:
    return Party(
        name=snapshot.get("name") or "",
        address_lines=_address(snapshot),
        siren=spaced_siren(snapshot.get("siren") or ""),
        siret=spaced_siren(snapshot.get("siret") or ""),
        vat_number=snapshot.get("vat_number") or "",
        email=snapshot.get("email") or "",
        phone=snapshot.get("phone") or "",
    )


def _quantity(quantity: Decimal, unit: str) -> str:
    """ "1", "2,5", "12,75 h"."""
    if unit == "hour":
        return _("%(hours)s h", hours=format_decimal(quantity, format="#,##0.00"))
    return format_decimal(quantity, format="#,##0.##")


def spaced_iban(iban: str) -> str:
    compact = (iban or "").replace(" ", "").upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _snapshots(invoice: Invoice) -> tuple[dict, dict, bool]:
    """(seller, buyer, franchise): frozen when issued; today's for a draft."""
    if invoice.is_draft:
        from app.agency.services import get_settings
        from app.invoices.services import buyer_snapshot, seller_snapshot

        return seller_snapshot(), buyer_snapshot(invoice.client), get_settings().is_franchise
    return invoice.seller or {}, invoice.buyer or {}, bool(invoice.vat_franchise)


def invoice_context(invoice: Invoice) -> dict[str, Any]:
    """Everything the document shows (see the module's docstring)."""
    from app.invoices.services import vat_groups

    seller, buyer, franchise = _snapshots(invoice)
    groups = vat_groups(invoice.lines, franchise)
    credited = invoice.credited_invoice if invoice.is_credit_note else None
    penalty_rate = Decimal(str(seller.get("late_penalty_rate") or "0"))
    return {
        "invoice": invoice,
        "draft": invoice.is_draft,
        "credit": invoice.is_credit_note,
        "number": invoice.number,
        "title": invoice.title,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "period": period_label(invoice.period_start, invoice.period_end),
        "seller": _party(seller),
        "seller_legal": legal_description(seller),
        "buyer": _party(buyer),
        "franchise": franchise,
        "rows": [
            Row(
                line.description,
                _quantity(Decimal(line.quantity), line.unit),
                Decimal(line.unit_price),
                ZERO if franchise else Decimal(line.vat_rate),
                Decimal(line.total_ht),
            )
            for line in invoice.lines
        ],
        "vat_rows": [
            VatRow(g.rate, g.base, g.vat, vat_category(g.rate, franchise)[0] != "S") for g in groups
        ],
        "total_ht": invoice.total_ht,
        "total_vat": invoice.total_vat,
        "total_ttc": invoice.total_ttc,
        "credited_number": credited.number if credited is not None else None,
        "credited_date": credited.issue_date if credited is not None else None,
        "credit_reason": invoice.credit_reason if invoice.is_credit_note else "",
        "iban": spaced_iban(seller.get("iban") or ""),
        "bic": seller.get("bic") or "",
        "penalty_rate": penalty_rate,
        "logo_sha256": seller.get("logo_sha256"),
    }


def _heading(context: dict[str, Any]) -> str:
    """ "FACTURE F2026-0001", "AVOIR A2026-0001", "FACTURE (BROUILLON)"."""
    what = _("AVOIR") if context["credit"] else _("FACTURE")
    if context["draft"]:
        return _("%(what)s (BROUILLON)", what=what)
    return f"{what} {context['number']}"


def invoice_html(invoice: Invoice, *, for_pdf: bool = True) -> str:
    """The document as HTML, in French: for WeasyPrint (resources by our own
    URL schemes, see app.pdf) or, with `for_pdf=False`, for a preview in the
    browser (needs a request: the stylesheet and the logo by app URLs)."""
    with force_locale(LANGUAGE):
        context = invoice_context(invoice)
        logo = context["logo_sha256"]
        if for_pdf:
            stylesheet = static_url(STYLESHEET)
            logo_src = document_url(logo) if logo else None
        else:
            from app.agency.services import get_settings

            stylesheet = url_for("static", filename=STYLESHEET)
            # The app serves the agency's current logo only: an issued
            # invoice's preview shows it if it is still the one it froze.
            current = get_settings().logo_sha256
            logo_src = url_for("agency.logo", v=logo[:12]) if logo and logo == current else None
        return render_template(
            "invoices/document.html",
            for_pdf=for_pdf,
            stylesheet=stylesheet,
            logo_src=logo_src,
            heading=_heading(context),
            **context,
        )


def pdf_metadata(invoice: Invoice) -> dict[str, str]:
    """Title, author and subject of the PDF (Info and XMP), in French."""
    seller = invoice.seller or {}
    what = "Avoir" if invoice.is_credit_note else "Facture"
    buyer = (invoice.buyer or {}).get("name", "")
    issued = invoice.issue_date.strftime("%d/%m/%Y") if invoice.issue_date else ""
    return {
        "title": f"{what} {invoice.number}",
        "author": seller.get("name") or "",
        "subject": f"{what} {invoice.number} du {issued} — {buyer}",
    }


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The PDF of `invoice`: for an issued invoice or credit note, a PDF/A-3b
    carrying its Factur-X XML (EN 16931), checked against the XSD, written by
    WeasyPrint in the same pass as the pages; for a draft, a plain PDF
    marked "BROUILLON"."""
    from weasyprint import HTML

    html = invoice_html(invoice)
    if invoice.is_draft:
        return render_pdf(html)
    xml = build_xml(invoice)  # before rendering: an invalid XML renders nothing
    # As app.pdf.render_pdf does, but the rendered document takes its
    # Factur-X metadata and attachment before it is written.
    document = HTML(string=html, base_url=STATIC_SCHEME + "/", url_fetcher=url_fetcher()).render()
    return write_facturx_pdf(document, xml, moment=invoice.issued_at or utcnow(), **pdf_metadata(invoice))


def period_label(start: date | None, end: date | None) -> str:
    """ "du 1 octobre au 31 octobre 2026", "le 3 novembre 2026"."""
    from app.formatting import long_day

    if start is None or end is None:
        return ""
    if start == end:
        return _("le %(day)s", day=long_day(start))
    first = long_day(start, year=start.year != end.year)
    return _("du %(first)s au %(last)s", first=first, last=long_day(end))
