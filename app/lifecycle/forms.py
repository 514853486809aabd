"""The erasure's confirmation: the lead types the client's name."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class EraseForm(FlaskForm):
    confirm_name = StringField(
        _l("Nom du client, pour confirmer"),
        validators=[
            DataRequired(_l("Recopiez le nom du client pour confirmer l'effacement.")),
            Length(max=160),
        ],
    )
