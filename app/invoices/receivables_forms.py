"""Forms of the receivables pages: a payment typed by the lead. They
validate, never write."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from app.fields import DateField, MoneyField
from app.invoices.models import PaymentMethod

METHOD_LABELS = {
    PaymentMethod.TRANSFER.value: _l("Virement"),
    PaymentMethod.CARD.value: _l("Carte"),
    PaymentMethod.CHEQUE.value: _l("Chèque"),
    PaymentMethod.OTHER.value: _l("Autre"),
}


class PaymentForm(FlaskForm):
    amount = MoneyField(
        _l("Montant reçu (€ TTC)"),
        validators=[InputRequired(_l("Indiquez le montant reçu."))],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    received_on = DateField(
        _l("Reçu le"),
        validators=[DataRequired(_l("Indiquez la date de réception (jj/mm/aaaa)."))],
        render_kw={"type": "date"},
    )
    method = SelectField(
        _l("Mode de paiement"),
        choices=[SelectChoice(code, label) for code, label in METHOD_LABELS.items()],
        default=PaymentMethod.TRANSFER.value,
        invalid_choice_message=_l("Choisissez un mode de paiement de la liste."),
    )
    reference = StringField(
        _l("Référence"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Length(max=120, message=_l("La référence tient en 120 caractères."))],
        description=_l("Libellé du virement, numéro du chèque…"),
        render_kw={"autocomplete": "off"},
    )
