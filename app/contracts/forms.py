from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.contracts.models import BillingModel, Channel
from app.fields import DateField, DecimalInputField, HoursField, MoneyField, MonthField

CHANNEL_LABELS = {
    Channel.FACEBOOK: "Facebook",
    Channel.INSTAGRAM: "Instagram",
    Channel.LINKEDIN: "LinkedIn",
    Channel.X: "X",
    Channel.TIKTOK: "TikTok",
    Channel.YOUTUBE: "YouTube",
    Channel.BLOG: _l("Blog"),
    Channel.NEWSLETTER: _l("Newsletter"),
    Channel.OTHER: _l("Autre"),
}
MODEL_LABELS = {
    BillingModel.RETAINER: _l("Forfait mensuel (heures au-delà signalées, non facturées)"),
    BillingModel.RETAINER_OVERAGE: _l("Forfait avec dépassement facturé à l'heure"),
    BillingModel.HOURLY: _l("À l'heure"),
}


def choices(labels, first=None) -> list[SelectChoice]:
    """SelectChoice options from a {value: label} mapping, after an optional
    (value, label) first option."""
    options = [SelectChoice(*first)] if first else []
    return options + [SelectChoice(str(value), label) for value, label in labels.items()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TermsMixin:
    billing_model = RadioField(
        _l("Modèle de facturation"),
        choices=choices(MODEL_LABELS),
        default=BillingModel.RETAINER,
        validators=[InputRequired(_l("Choisissez un modèle de facturation."))],
    )
    monthly_fee = MoneyField(_l("Forfait mensuel HT (€)"), description=_l("Par exemple 708,00"))
    included_hours = HoursField(_l("Heures incluses par mois"), description=_l("Par exemple 30"))
    hourly_rate = MoneyField(
        _l("Taux horaire HT (€)"), description=_l("Dépassement ou facturation à l'heure")
    )
    budget_ceiling = MoneyField(
        _l("Plafond de budget mensuel HT (€)"),
        validators=[InputRequired(_l("Indiquez le plafond mensuel."))],
    )
    vat_rate = DecimalInputField(
        _l("Taux de TVA (%)"),
        places=2,
        maximum=Decimal(100),
        default=Decimal("20.00"),
        validators=[InputRequired(_l("Indiquez le taux de TVA (0 en franchise)."))],
    )

    def validate_terms(self) -> bool:
        model = self.billing_model.data
        ok = True
        if model in (BillingModel.RETAINER, BillingModel.RETAINER_OVERAGE):
            if self.monthly_fee.data is None:
                self.monthly_fee.errors.append(_l("Indiquez le montant du forfait."))
                ok = False
            if self.included_hours.data is None:
                self.included_hours.errors.append(_l("Indiquez les heures incluses."))
                ok = False
        if model in (BillingModel.RETAINER_OVERAGE, BillingModel.HOURLY) and self.hourly_rate.data is None:
            self.hourly_rate.errors.append(_l("Indiquez le taux horaire."))
            ok = False
        return ok


class ContractForm(TermsMixin, FlaskForm):
    title = StringField(
        _l("Intitulé"),
        default="Community management",
        validators=[DataRequired(_l("Donnez un intitulé au contrat.")), Length(max=160)],
    )
    start_date = DateField(_l("Début"), validators=[InputRequired(_l("Indiquez la date de début."))])
    end_date = DateField(_l("Fin (facultative)"), validators=[Optional()])
    channels = MultiCheckboxField(_l("Canaux"), choices=choices(CHANNEL_LABELS))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        ok = self.validate_terms() and ok
        if self.start_date.data and self.end_date.data and self.end_date.data < self.start_date.data:
            self.end_date.errors.append(_l("La date de fin précède la date de début."))
            ok = False
        return ok


class ContractEditForm(FlaskForm):
    title = StringField(_l("Intitulé"), validators=[DataRequired(_l("Donnez un intitulé.")), Length(max=160)])
    end_date = DateField(_l("Fin (facultative)"), validators=[Optional()])
    channels = MultiCheckboxField(_l("Canaux"), choices=choices(CHANNEL_LABELS))


class TermsForm(TermsMixin, FlaskForm):
    effective_month = MonthField(
        _l("À partir du mois de"), validators=[InputRequired(_l("Choisissez le premier mois concerné."))]
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        return self.validate_terms() and ok


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        _l("Motif de la réouverture"),
        validators=[DataRequired(_l("Indiquez le motif.")), Length(min=5, max=1000)],
    )
