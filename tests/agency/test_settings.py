"""Agency settings: validation (French messages, nothing saved), saving,
the audit entry, the franchise regime, and who may open the page."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.agency.models import AgencySettings
from app.agency.services import SettingsDetails, get_settings, update_settings
from app.audit.models import AuditEntry
from app.extensions import db as _db
from tests.agency.conftest import page_text
from tests.factories import make_agency_settings, make_client, make_client_user, make_cm, make_lead

URL = "/agency/settings"


def settings_audit_entries():
    return list(_db.session.scalars(select(AuditEntry).where(AuditEntry.action == "settings.updated")))


# -- saving -----------------------------------------------------------------------


def test_lead_saves_valid_settings_normalised(client, login_as, valid_form, db):
    login_as(make_lead())
    response = client.post(URL, data=valid_form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(URL)

    settings = db.session.get(AgencySettings, 1)
    assert settings.legal_name == "Agence Relais"
    assert settings.legal_form == "SAS"
    assert settings.share_capital == Decimal("5000.00")
    assert settings.siren == "443061841"
    assert settings.siret == "44306184100013"
    assert settings.vat_number == "FR64443061841"
    assert settings.iban == "FR7630006000011234567890189"
    assert settings.bic == "BNPAFRPP"
    assert settings.email == "contact@agence-relais.fr"
    assert settings.payment_terms_days == 30
    assert settings.late_penalty_rate == Decimal("12.50")
    assert settings.invoice_prefix == "REL"
    assert settings.credit_note_prefix == "AV"
    assert settings.is_complete

    page = page_text(client.get(URL))
    assert "Les paramètres de l'agence ont été enregistrés." in page
    assert "FR76 3000 6000 0112 3456 7890 189" in page  # shown in groups of four


def test_saving_writes_an_audit_entry_with_the_changed_field_names(client, login_as, valid_form, db):
    lead = make_lead()
    make_agency_settings(phone="")
    login_as(lead)
    valid_form["iban"] = "DE89 3704 0044 0532 0130 00"
    valid_form["bic"] = "DEUTDEFF"
    client.post(URL, data=valid_form)

    (entry,) = settings_audit_entries()
    assert entry.actor_id == lead.id
    assert entry.client_id is None
    assert set(entry.data["fields"]) >= {"iban", "bic", "phone", "invoice_prefix"}
    assert "legal_name" not in entry.data["fields"]  # unchanged: "Agence Relais"
    assert "IBAN" in entry.summary and "BIC" in entry.summary
    assert "DE89" not in entry.summary and "DE89" not in str(entry.data)  # names, never values


def test_saving_unchanged_settings_writes_no_audit_entry(client, login_as, valid_form, db):
    login_as(make_lead())
    client.post(URL, data=valid_form)
    response = client.post(URL, data=valid_form, follow_redirects=True)
    assert "Aucune modification à enregistrer." in page_text(response)
    assert len(settings_audit_entries()) == 1


def test_franchise_regime_is_saved_without_a_vat_number(client, login_as, valid_form, db):
    login_as(make_lead())
    valid_form.update(vat_regime="franchise", vat_number="")
    assert client.post(URL, data=valid_form).status_code == 302
    settings = db.session.get(AgencySettings, 1)
    assert settings.vat_regime == "franchise"
    assert settings.is_franchise
    assert settings.vat_number == ""
    assert settings.is_complete


def test_a_vat_number_is_required_under_the_normal_regime(client, login_as, valid_form, db):
    login_as(make_lead())
    valid_form.update(vat_regime="normal", vat_number="")
    response = client.post(URL, data=valid_form)
    assert response.status_code == 200
    assert "le numéro de TVA intracommunautaire est obligatoire" in page_text(response)
    assert db.session.get(AgencySettings, 1) is None


# -- refusals: each with its French message, nothing saved --------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("siren", "443 061 842", "Ce SIREN n'est pas valide : sa clé de contrôle ne correspond pas."),
        ("siren", "44306184", "Le SIREN compte exactement 9 chiffres."),
        ("siret", "443 061 841 00014", "Ce SIRET n'est pas valide : sa clé de contrôle ne correspond pas."),
        ("siret", "732 829 320 00074", "Le SIRET doit commencer par les 9 chiffres du SIREN."),
        ("iban", "FR76 3000 6000 0112 3456 7890 188", "Cet IBAN n'est pas valide"),
        ("iban", "FR76 3000 6000 0112 3456 7890 1", "compte 27 caractères"),
        ("vat_number", "FR00443061841", "ne correspond pas à son SIREN : attendu FR64443061841"),
        ("vat_number", "FR27552032534", "Ce numéro de TVA ne correspond pas au SIREN indiqué"),
        ("bic", "BNPAFR", "Un BIC compte 8 ou 11 caractères"),
        ("bic", "", "Indiquez le BIC de la banque qui va avec cet IBAN."),
        ("payment_terms_days", "61", "la loi plafonne le délai de paiement à 60 jours"),
        ("payment_terms_days", "-1", "Entre 0 et 60 jours"),
        ("late_penalty_rate", "dix", "Saisissez un nombre"),
        ("invoice_prefix", "FAC 2026!", "De 1 à 10 caractères : lettres sans accent, chiffres ou tiret"),
        ("invoice_prefix", "ABCDEFGHIJK", "De 1 à 10 caractères"),
        ("credit_note_prefix", "", "Indiquez un préfixe pour les numéros d'avoir."),
        ("credit_note_prefix", "AV 26", "De 1 à 10 caractères : lettres sans accent, chiffres ou tiret"),
        ("credit_note_prefix", "rel", "Choisissez un préfixe différent de celui des factures"),
        ("postal_code", "740", "Un code postal français compte 5 chiffres."),
        ("email", "contact@", "Cette adresse e-mail n'est pas valide."),
        ("phone", "appelez-moi", "Ce numéro de téléphone n'est pas valide"),
        ("legal_name", "", "Indiquez la raison sociale de l'agence."),
        ("legal_form", "", "Choisissez la forme juridique."),
        ("legal_form", "GIE", "Choisissez la forme juridique."),
        ("vat_regime", "mixte", "Choisissez le régime de TVA."),
    ],
)
def test_invalid_settings_are_refused_with_a_french_message_and_nothing_saved(
    client, login_as, valid_form, db, field, value, message
):
    make_agency_settings(legal_name="Ancienne raison sociale", invoice_prefix="F")
    login_as(make_lead())
    valid_form[field] = value
    response = client.post(URL, data=valid_form)

    assert response.status_code == 200
    page = page_text(response)
    assert message in page
    assert "Rien n'a été enregistré" in page
    settings = db.session.get(AgencySettings, 1)
    assert settings.legal_name == "Ancienne raison sociale"
    assert settings.invoice_prefix == "F"
    assert settings_audit_entries() == []


def test_the_form_shows_what_was_typed_after_an_error(client, login_as, valid_form, db):
    login_as(make_lead())
    valid_form["siren"] = "443 061 842"
    page = page_text(client.post(URL, data=valid_form))
    assert 'value="8 avenue du Parmelan"' in page
    assert 'aria-invalid="true"' in page


# -- the service ------------------------------------------------------------------------


def test_get_settings_creates_the_single_row_once(db):
    assert db.session.get(AgencySettings, 1) is None
    first = get_settings()
    assert first.id == 1
    assert first.vat_regime == "normal"
    assert first.payment_terms_days == 30
    assert get_settings() is first
    assert db.session.scalar(select(func.count()).select_from(AgencySettings)) == 1


def test_update_settings_returns_the_changed_fields(db):
    lead = make_lead()
    settings = make_agency_settings()
    details = SettingsDetails(
        **{
            name: getattr(settings, name)
            for name in SettingsDetails.__dataclass_fields__  # type: ignore[attr-defined]
        }
    )
    assert update_settings(lead, details) == []
    details.payment_terms_days = 45
    details.city = "  Annecy-le-Vieux "
    assert update_settings(lead, details) == ["city", "payment_terms_days"]
    assert settings.city == "Annecy-le-Vieux"


# -- who may ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_cm_and_client_users_get_403_on_settings(client, login_as, valid_form, db, method):
    company = make_client("Boulangerie Dupont")
    for user in (make_cm(), make_client_user(company)):
        login_as(user)
        response = getattr(client, method)(URL, data=valid_form if method == "post" else None)
        assert response.status_code == 403
    assert db.session.get(AgencySettings, 1) is None


def test_anonymous_visitor_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_post_without_csrf_token_is_refused(client, login_as, valid_form, db, csrf_enabled):
    login_as(make_lead())
    response = client.post(URL, data=valid_form)
    assert response.status_code == 400
    assert db.session.get(AgencySettings, 1) is None
