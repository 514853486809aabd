"""Forms of the agency settings: they validate and normalise, never write."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Regexp,
    ValidationError,
)

from app.agency.models import AgencySettings, VatRegime
from app.agency.services import LEGAL_FORM_LABELS, VAT_REGIME_LABELS, SettingsDetails
from app.fields import DecimalInputField, IntegerField, country_choices
from app.validators import (
    Bic,
    FrenchVatNumber,
    Iban,
    Siren,
    Siret,
    format_iban,
    normalise_code,
    normalise_digits,
)

# Babel territories that are not countries.
_PHONE = re.compile(r"\+?[0-9 .\-()\u00a0]{6,25}")


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class IbanField(StringField):
    """Shown in groups of four ("FR76 3000 6000 ..."), kept without spaces."""

    def _value(self) -> str:
        return format_iban(self.data) if self.data else ""


class SettingsForm(FlaskForm):
    # -- identity
    legal_name = StringField(
        _l("Raison sociale"),
        filters=[_strip],
        validators=[DataRequired(_l("Indiquez la raison sociale de l'agence.")), Length(max=160)],
        description=_l("Le nom officiel, tel qu'il figure au registre (il apparaît sur les factures)."),
    )
    legal_form = SelectField(
        _l("Forme juridique"),
        validators=[DataRequired(_l("Choisissez la forme juridique."))],
        invalid_choice_message=_l("Choisissez la forme juridique."),
    )
    share_capital = DecimalInputField(
        _l("Capital social (€)"),
        description=_l("Pour une société : mention obligatoire sur les factures."),
    )
    rcs_city = StringField(
        _l("Ville du greffe (RCS)"),
        filters=[_strip],
        validators=[Length(max=80)],
        description=_l("Par exemple « Annecy » pour « RCS Annecy ». Vide si l'agence n'est pas au RCS."),
    )
    siren = StringField(
        _l("SIREN"),
        filters=[normalise_digits],
        validators=[DataRequired(_l("Indiquez le SIREN de l'agence.")), Siren()],
        description=_l("9 chiffres, espaces acceptés."),
    )
    siret = StringField(
        _l("SIRET du siège"),
        filters=[normalise_digits],
        validators=[DataRequired(_l("Indiquez le SIRET de l'agence.")), Siret(siren_field="siren")],
        description=_l("14 chiffres : le SIREN suivi des 5 chiffres de l'établissement."),
    )

    # -- contact
    address_line = StringField(
        _l("Adresse"),
        filters=[_strip],
        validators=[DataRequired(_l("Indiquez l'adresse du siège.")), Length(max=255)],
    )
    postal_code = StringField(
        _l("Code postal"),
        filters=[_strip],
        validators=[DataRequired(_l("Indiquez le code postal.")), Length(max=10)],
    )
    city = StringField(
        _l("Ville"),
        filters=[_strip],
        validators=[DataRequired(_l("Indiquez la ville.")), Length(max=120)],
    )
    country_code = SelectField(
        _l("Pays"), default="FR", invalid_choice_message=_l("Choisissez un pays de la liste.")
    )
    email = EmailField(
        _l("E-mail de contact"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Indiquez l'adresse e-mail de contact de l'agence.")),
            Email(_l("Cette adresse e-mail n'est pas valide.")),
            Length(max=254),
        ],
        description=_l("Affiché à vos clients dans leur espace et sur les factures."),
    )
    phone = StringField(_l("Téléphone"), filters=[_strip], validators=[Length(max=30)])

    # -- VAT
    vat_regime = RadioField(
        _l("Régime de TVA"),
        choices=[SelectChoice(code, label) for code, label in VAT_REGIME_LABELS.items()],
        default=VatRegime.NORMAL,
        invalid_choice_message=_l("Choisissez le régime de TVA."),
        validators=[InputRequired(_l("Choisissez le régime de TVA."))],
        render_kw={"class": "radiolist"},
    )
    vat_number = StringField(
        _l("N° de TVA intracommunautaire"),
        filters=[normalise_code],
        validators=[Length(max=20), FrenchVatNumber(siren_field="siren")],
        description=_l("FR + clé à 2 chiffres + SIREN. Facultatif en franchise en base."),
    )

    # -- bank
    iban = IbanField(
        _l("IBAN"),
        filters=[normalise_code],
        validators=[Length(max=42), Iban()],
        description=_l("Affiché sur les factures et dans l'espace client pour les virements."),
    )
    bic = StringField(_l("BIC"), filters=[normalise_code], validators=[Length(max=11), Bic()])

    # -- invoicing
    payment_terms_days = IntegerField(
        _l("Délai de paiement (jours)"),
        validators=[
            InputRequired(_l("Indiquez le délai de paiement, en jours.")),
            NumberRange(
                min=0,
                max=60,
                message=_l(
                    "Entre 0 et 60 jours : la loi plafonne le délai de paiement "
                    "à 60 jours après la date de la facture."
                ),
            ),
        ],
        description=_l("0 = paiement à réception. 60 jours au plus (art. L441-10 du Code de commerce)."),
        render_kw={"min": 0, "max": 60, "inputmode": "numeric"},
    )
    late_penalty_rate = DecimalInputField(
        _l("Pénalités de retard (% par an)"),
        validators=[InputRequired(_l("Indiquez le taux des pénalités de retard."))],
        maximum=Decimal("99.99"),
        description=_l(
            "Au moins trois fois le taux d'intérêt légal ; à défaut de mention, "
            "le taux de la BCE majoré de 10 points s'applique."
        ),
    )
    invoice_prefix = StringField(
        _l("Préfixe des numéros de facture"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Indiquez un préfixe pour les numéros de facture.")),
            Regexp(
                r"^[A-Za-z0-9-]{1,10}$",
                message=_l(
                    "De 1 à 10 caractères : lettres sans accent, chiffres ou tiret (ex. F, FAC, REL-)."
                ),
            ),
        ],
        description=_l("Par exemple « F » donne F2026-0001."),
    )
    credit_note_prefix = StringField(
        _l("Préfixe des numéros d'avoir"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Indiquez un préfixe pour les numéros d'avoir.")),
            Regexp(
                r"^[A-Za-z0-9-]{1,10}$",
                message=_l(
                    "De 1 à 10 caractères : lettres sans accent, chiffres ou tiret (ex. A, AV, AVR-)."
                ),
            ),
        ],
        description=_l("Les avoirs ont leur propre série : « A » donne A2026-0001."),
    )

    # -- monthly reports
    signoff_days = IntegerField(
        _l("Délai de validation des rapports (jours)"),
        validators=[
            InputRequired(_l("Indiquez le délai de validation, en jours.")),
            NumberRange(min=1, max=60, message=_l("Entre 1 et 60 jours.")),
        ],
        description=_l(
            "Sans réponse du client dans ce délai après la publication, "
            "le rapport est considéré comme validé."
        ),
        render_kw={"min": 1, "max": 60, "inputmode": "numeric"},
    )
    share_link_days = IntegerField(
        _l("Durée des liens de partage (jours)"),
        validators=[
            InputRequired(_l("Indiquez la durée des liens de partage, en jours.")),
            NumberRange(min=1, max=365, message=_l("Entre 1 et 365 jours.")),
        ],
        description=_l(
            "Durée proposée par défaut pour un lien vers un rapport publié (modifiable à chaque lien)."
        ),
        render_kw={"min": 1, "max": 365, "inputmode": "numeric"},
    )

    # -- data retention
    retention_personal_years = IntegerField(
        _l("Conservation des données personnelles (années)"),
        validators=[
            InputRequired(_l("Indiquez la durée de conservation, en années.")),
            NumberRange(min=1, max=10, message=_l("Entre 1 et 10 ans.")),
        ],
        description=_l(
            "Après la dernière activité d'un ancien client (fin de contrat, temps, rapport, facture "
            "ou paiement), ses données personnelles peuvent être effacées passé ce délai. "
            "La CNIL recommande 3 ans."
        ),
        render_kw={"min": 1, "max": 10, "inputmode": "numeric"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.legal_form.choices = [SelectChoice("", str(_l("— Choisir —")))] + [
            SelectChoice(code, str(label)) for code, label in LEGAL_FORM_LABELS.items()
        ]
        self.country_code.choices = country_choices()

    @classmethod
    def for_settings(cls, settings: AgencySettings, *, submitted: bool = True) -> SettingsForm:
        """The form filled from `settings`; `submitted=False` ignores the
        request's form data (when another form of the page was posted)."""
        if not submitted:
            return cls(formdata=None, obj=settings)
        return cls(obj=settings)

    def validate_postal_code(self, field: StringField) -> None:
        code = (field.data or "").replace(" ", "")
        if code and self.country_code.data == "FR" and not re.fullmatch(r"[0-9]{5}", code):
            raise ValidationError(_l("Un code postal français compte 5 chiffres."))

    def validate_phone(self, field: StringField) -> None:
        phone = field.data or ""
        digits = re.sub(r"\D", "", phone)
        if phone and (not _PHONE.fullmatch(phone) or not 6 <= len(digits) <= 15):
            raise ValidationError(
                _l("Ce numéro de téléphone n'est pas valide (ex. 04 50 12 34 56 ou +33 4 50 12 34 56).")
            )

    def validate_vat_number(self, field: StringField) -> None:
        if not field.data and self.vat_regime.data == VatRegime.NORMAL:
            raise ValidationError(
                _l(
                    "Au régime normal, le numéro de TVA intracommunautaire est obligatoire "
                    "(il figure sur chaque facture)."
                )
            )

    def validate_credit_note_prefix(self, field: StringField) -> None:
        invoice_prefix = (self.invoice_prefix.data or "").casefold()
        if field.data and field.data.casefold() == invoice_prefix:
            raise ValidationError(
                _l(
                    "Choisissez un préfixe différent de celui des factures : "
                    "factures et avoirs ont chacun leur série de numéros."
                )
            )

    def validate_iban(self, field: StringField) -> None:
        if self.bic.data and not field.data:
            raise ValidationError(_l("Indiquez l'IBAN qui va avec ce BIC."))

    def validate_bic(self, field: StringField) -> None:
        if self.iban.data and not field.data:
            raise ValidationError(_l("Indiquez le BIC de la banque qui va avec cet IBAN."))

    def details(self) -> SettingsDetails:
        return SettingsDetails(
            legal_name=self.legal_name.data or "",
            legal_form=self.legal_form.data or "",
            share_capital=self.share_capital.data,
            rcs_city=self.rcs_city.data or "",
            address_line=self.address_line.data or "",
            postal_code=(self.postal_code.data or "").replace(" ", ""),
            city=self.city.data or "",
            country_code=self.country_code.data or "FR",
            email=(self.email.data or "").lower(),
            phone=self.phone.data or "",
            siren=self.siren.data or "",
            siret=self.siret.data or "",
            vat_regime=self.vat_regime.data,
            vat_number=self.vat_number.data or "",
            iban=self.iban.data or "",
            bic=self.bic.data or "",
            payment_terms_days=self.payment_terms_days.data,
            late_penalty_rate=self.late_penalty_rate.data,
            invoice_prefix=self.invoice_prefix.data or "",
            credit_note_prefix=self.credit_note_prefix.data or "",
            signoff_days=self.signoff_days.data,
            share_link_days=self.share_link_days.data,
            retention_personal_years=self.retention_personal_years.data,
        )


class LogoForm(FlaskForm):
    logo = FileField(
        _l("Nouveau logo"),
        validators=[FileRequired(_l("Choisissez un fichier PNG ou JPEG."))],
    )
