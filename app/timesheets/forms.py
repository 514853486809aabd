from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from app.contracts.forms import CHANNEL_LABELS, choices
from app.fields import DateField, DurationField, MonthField

CHANNEL_CHOICES = choices(CHANNEL_LABELS, first=("", _l("— Canal —")))


class EntryForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired(_l("Indiquez la date."))])
    contract = SelectField(
        _l("Client · contrat"), coerce=int, validators=[InputRequired(_l("Choisissez un contrat."))]
    )
    duration = DurationField(
        _l("Durée"),
        validators=[InputRequired(_l("Indiquez une durée, par exemple 1h30 ou 45."))],
        render_kw={"placeholder": "1h30", "inputmode": "text", "autocomplete": "off", "size": 6},
    )
    activity = SelectField(
        _l("Activité"), coerce=int, validators=[InputRequired(_l("Choisissez une activité."))]
    )
    channel = SelectField(_l("Canal"), choices=CHANNEL_CHOICES, validators=[Optional()])
    note = StringField(
        _l("Ce qui a été fait"),
        validators=[Length(max=2000, message=_l("2000 caractères au plus."))],
        render_kw={"placeholder": _l("3 posts de la semaine"), "autocomplete": "off"},
    )


class EntryEditForm(EntryForm):
    """Same fields; the contract of an existing entry does not change."""

    contract = None  # type: ignore[assignment]


class EntryFilterForm(FlaskForm):
    class Meta:
        csrf = False

    client = SelectField(_l("Client"), coerce=lambda v: int(v) if v else None, validators=[Optional()])
    contract = SelectField(_l("Contrat"), coerce=lambda v: int(v) if v else None, validators=[Optional()])
    cm = SelectField(_l("Community manager"), coerce=lambda v: int(v) if v else None, validators=[Optional()])
    activity = SelectField(_l("Activité"), coerce=lambda v: int(v) if v else None, validators=[Optional()])
    channel = SelectField(
        _l("Canal"),
        choices=choices(CHANNEL_LABELS, first=("", _l("Tous les canaux"))),
        validators=[Optional()],
    )
    start = DateField(_l("Du"), validators=[Optional()])
    end = DateField(_l("Au"), validators=[Optional()])


class CloseMonthForm(FlaskForm):
    month = MonthField(_l("Mois à clôturer"), validators=[InputRequired(_l("Choisissez un mois."))])


class ActivityForm(FlaskForm):
    label = StringField(
        _l("Nouvelle activité"),
        validators=[InputRequired(_l("Donnez un nom à l'activité.")), Length(max=80)],
    )
