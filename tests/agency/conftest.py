"""Helpers shared by the agency tests."""

from __future__ import annotations

import html
import io

import pytest
from PIL import Image

# A complete, valid settings form as a lead would type it (spaces, lower case...).
VALID_FORM = {
    "legal_name": "Agence Relais",
    "legal_form": "SAS",
    "share_capital": "5 000",
    "rcs_city": "Annecy",
    "siren": "443 061 841",
    "siret": "443 061 841 00013",
    "address_line": "8 avenue du Parmelan",
    "postal_code": "74000",
    "city": "Annecy",
    "country_code": "FR",
    "email": "Contact@Agence-Relais.fr",
    "phone": "04 50 12 34 56",
    "vat_regime": "normal",
    "vat_number": "fr 64 443 061 841",
    "iban": "fr76 3000 6000 0112 3456 7890 189",
    "bic": "bnpafrpp",
    "payment_terms_days": "30",
    "late_penalty_rate": "12,5",
    "invoice_prefix": "REL",
    "credit_note_prefix": "AV",
    "signoff_days": "7",
    "share_link_days": "30",
    "retention_personal_years": "3",
}


def page_text(response) -> str:
    """The body with HTML entities decoded (French apostrophes...)."""
    return html.unescape(response.get_data(as_text=True))


def image_bytes(fmt: str = "PNG", size=(64, 32), color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt, **save)
    return out.getvalue()


def noise_png(side: int = 300) -> bytes:
    """A PNG that compresses badly (random pixels), for size limits."""
    import os

    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def valid_form() -> dict[str, str]:
    return dict(VALID_FORM)
