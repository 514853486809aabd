"""Forms of the report pages: they validate and normalise, never write."""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.fields import DecimalInputField, MonthField
from app.reports.services import HIGHLIGHTS_MAX, MESSAGE_MAX, FigureInput

_SPACES = re.compile(r"[\s\u00a0\u202f]")
MAX_COUNT = 1_000_000_000


class CountField(StringField):
    """A whole number typed the French way ("12 480"); None when left empty."""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not (valuelist[0] or "").strip():
            return
        text = _SPACES.sub("", valuelist[0])
        if text.startswith("-") and text[1:].isdigit():
            raise ValueError(str(_l("Un nombre positif, s'il vous plaît.")))
        if not (text.isascii() and text.isdigit()):  # "²" is a digit to isdigit(), not to int()
            raise ValueError(str(_l("Saisissez un nombre entier, par exemple 1 250.")))
        value = int(text)
        if value > MAX_COUNT:
            raise ValueError(str(_l("Ce nombre est trop grand.")))
        self.data = value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


class PercentField(DecimalInputField):
    """A percentage from 0 to 100 ("4,5", "4,5 %"), two decimals at most."""

    invalid_message = _l("Saisissez un pourcentage, par exemple 4,5.")
    negative_message = _l("Un pourcentage entre 0 et 100.")
    too_big_message = _l("Un pourcentage entre 0 et 100.")
    maximum = Decimal(100)
    trim_zeros = True


class FigureForm(Form):
    """The figures of one channel (a sub-form: the draft form holds the CSRF token)."""

    followers = CountField(_l("Abonnés"), render_kw={"inputmode": "numeric", "autocomplete": "off"})
    posts = CountField(_l("Publications"), render_kw={"inputmode": "numeric", "autocomplete": "off"})
    engagement = PercentField(_l("Engagement (%)"), render_kw={"inputmode": "decimal", "autocomplete": "off"})

    def figure(self) -> FigureInput:
        return FigureInput(self.followers.data, self.posts.data, self.engagement.data)


class DraftForm(FlaskForm):
    highlights = TextAreaField(
        _l("Faits marquants"),
        validators=[Length(max=HIGHLIGHTS_MAX, message=_l("20 000 caractères au plus."))],
        render_kw={"rows": 10},
    )

    channels: list[str] = []

    @classmethod
    def for_channels(cls, channels: list[str], **kwargs) -> DraftForm:
        """The form with one FigureForm per channel, named `figure_<channel>`."""
        form_class = type("ChannelDraftForm", (cls,), {"channels": list(channels)})
        for channel in channels:
            setattr(form_class, f"figure_{channel}", FormField(FigureForm))
        return form_class(**kwargs)

    def figure_form(self, channel: str) -> FormField:
        return self[f"figure_{channel}"]

    def figures(self) -> dict[str, FigureInput]:
        return {channel: self.figure_form(channel).form.figure() for channel in self.channels}


class OpenReportForm(FlaskForm):
    contract = SelectField(
        _l("Contrat"),
        coerce=int,
        validators=[InputRequired(_l("Choisissez un contrat."))],
        invalid_choice_message=_l("Choisissez un contrat de ce client."),
    )
    month = MonthField(_l("Mois"), validators=[InputRequired(_l("Indiquez le mois du rapport."))])


class AnswerForm(FlaskForm):
    body = TextAreaField(
        _l("Votre réponse"),
        validators=[
            DataRequired(_l("Écrivez votre réponse.")),
            Length(max=MESSAGE_MAX, message=_l("4 000 caractères au plus.")),
        ],
        render_kw={"rows": 3, "maxlength": MESSAGE_MAX},
    )


class QuestionForm(FlaskForm):
    body = TextAreaField(
        _l("Votre question ou remarque"),
        validators=[
            DataRequired(_l("Écrivez votre question.")),
            Length(max=MESSAGE_MAX, message=_l("4 000 caractères au plus.")),
        ],
        render_kw={"rows": 3, "maxlength": MESSAGE_MAX},
    )


class ShareLinkForm(FlaskForm):
    label = StringField(
        _l("Pour qui ?"),
        validators=[Length(max=120, message=_l("120 caractères au plus."))],
        description=_l("Facultatif, pour vous y retrouver (ex. « Direction générale »)."),
    )
    days = CountField(
        _l("Valable (jours)"),
        validators=[
            InputRequired(_l("Indiquez une durée en jours.")),
            NumberRange(min=1, max=365, message=_l("Une durée de 1 à 365 jours.")),
        ],
        render_kw={"min": 1, "max": 365, "inputmode": "numeric"},
    )
