"""The agency's own settings: one row (id 1), created on first use.

`get_settings()` is the one way to read them, everywhere (invoices, portal,
dashboard). Services flush, never commit; the caller commits once.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.agency.models import AgencySettings, LegalForm, VatRegime
from app.audit.services import record
from app.auth.models import User
from app.clients.logos import LogoError, normalise_logo
from app.documents.models import Document
from app.documents.services import store_document
from app.extensions import db

__all__ = [
    "FIELD_LABELS",
    "LEGAL_FORM_LABELS",
    "LogoError",
    "SettingsDetails",
    "VAT_REGIME_LABELS",
    "get_settings",
    "legal_form_label",
    "remove_logo",
    "set_logo",
    "update_settings",
]

LEGAL_FORM_LABELS: dict[str, Any] = {
    LegalForm.SAS: _l("SAS"),
    LegalForm.SASU: _l("SASU"),
    LegalForm.SARL: _l("SARL"),
    LegalForm.EURL: _l("EURL"),
    LegalForm.EI: _l("Entreprise individuelle (EI)"),
    LegalForm.MICRO: _l("Micro-entreprise (auto-entrepreneur)"),
    LegalForm.SA: _l("SA"),
    LegalForm.ASSOCIATION: _l("Association"),
    LegalForm.OTHER: _l("Autre"),
}

VAT_REGIME_LABELS: dict[str, Any] = {
    VatRegime.NORMAL: _l("Régime normal : TVA facturée (taux normal 20 %)"),
    VatRegime.FRANCHISE: _l("Franchise en base : « TVA non applicable, art. 293 B du CGI »"),
}

# Names of the settings as the audit log and messages show them.
FIELD_LABELS: dict[str, Any] = {
    "legal_name": _l("raison sociale"),
    "legal_form": _l("forme juridique"),
    "share_capital": _l("capital social"),
    "rcs_city": _l("ville du RCS"),
    "address_line": _l("adresse"),
    "postal_code": _l("code postal"),
    "city": _l("ville"),
    "country_code": _l("pays"),
    "email": _l("e-mail"),
    "phone": _l("téléphone"),
    "siren": _l("SIREN"),
    "siret": _l("SIRET"),
    "vat_number": _l("n° de TVA"),
    "vat_regime": _l("régime de TVA"),
    "iban": _l("IBAN"),
    "bic": _l("BIC"),
    "payment_terms_days": _l("délai de paiement"),
    "late_penalty_rate": _l("taux des pénalités de retard"),
    "invoice_prefix": _l("préfixe des factures"),
    "credit_note_prefix": _l("préfixe des avoirs"),
    "signoff_days": _l("délai de validation des rapports"),
    "share_link_days": _l("durée des liens de partage"),
    "retention_personal_years": _l("durée de conservation des données personnelles"),
}


def legal_form_label(code: str | None) -> str:
    if not code:
        return ""
    return str(LEGAL_FORM_LABELS.get(code, code))


def get_settings() -> AgencySettings:
    """The settings row, added (and flushed) the first time it is needed.

    Two first requests at once: the second insert fails in its savepoint and
    reads the row the first one wrote.
    """
    settings = db.session.get(AgencySettings, 1)
    if settings is not None:
        return _kept(settings)
    try:
        with db.session.begin_nested():
            settings = AgencySettings(id=1)
            db.session.add(settings)
    except IntegrityError:
        settings = db.session.get(AgencySettings, 1, populate_existing=True)
        if settings is None:  # pragma: no cover - the other insert was rolled back meanwhile
            raise
    return _kept(settings)


def _kept(settings: AgencySettings) -> AgencySettings:
    """Held by the session itself: its identity map only holds objects weakly,
    so a caller reading one attribute would otherwise let the row go, and the
    next caller of the same request would read it again."""
    db.session.info["agency_settings"] = settings
    return settings


@dataclass
class SettingsDetails:
    """Every editable setting, already validated and normalised by the form."""

    legal_name: str
    legal_form: str
    share_capital: Decimal | None
    rcs_city: str
    address_line: str
    postal_code: str
    city: str
    country_code: str
    email: str
    phone: str
    siren: str
    siret: str
    vat_regime: str
    vat_number: str
    iban: str
    bic: str
    payment_terms_days: int
    late_penalty_rate: Decimal
    invoice_prefix: str
    credit_note_prefix: str
    signoff_days: int
    share_link_days: int
    retention_personal_years: int


def update_settings(actor: User, details: SettingsDetails) -> list[str]:
    """Apply `details`; returns the names of the settings that changed (and
    logs them, without their values) or [] when nothing did."""
    settings = get_settings()
    changed: list[str] = []
    for item in fields(details):
        value = getattr(details, item.name)
        if isinstance(value, str):
            value = value.strip()
        if getattr(settings, item.name) != value:
            setattr(settings, item.name, value)
            changed.append(item.name)
    if changed:
        record(
            actor,
            "settings.updated",
            settings,
            summary=_(
                "Paramètres de l'agence modifiés : %(fields)s",
                fields=", ".join(str(FIELD_LABELS.get(name, name)) for name in changed),
            ),
            data={"fields": changed},
        )
        db.session.flush()
    return changed


def set_logo(actor: User, raw: bytes, max_bytes: int) -> Document:
    """Check the upload by its content (PNG or JPEG), re-encode it to PNG,
    store it and make it the agency's logo. LogoError says why it is refused."""
    png = normalise_logo(raw, max_bytes)
    document = store_document(png, "image/png")
    settings = get_settings()
    if settings.logo_sha256 != document.sha256:
        settings.logo_sha256 = document.sha256
        record(
            actor,
            "settings.logo_updated",
            settings,
            summary=_("Logo de l'agence changé"),
            data={"sha256": document.sha256},
        )
        db.session.flush()
    return document


def remove_logo(actor: User) -> bool:
    """Stop showing the logo (the stored file stays: documents are never
    deleted). False when there was none."""
    settings = get_settings()
    if settings.logo_sha256 is None:
        return False
    settings.logo_sha256 = None
    record(actor, "settings.logo_removed", settings, summary=_("Logo de l'agence retiré"))
    db.session.flush()
    return True
