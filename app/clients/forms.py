"""Forms of the clients area: they validate, they never write."""

from __future__ import annotations

import re

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.auth.models import Role, User
from app.clients.logos import LogoError, normalise_logo
from app.clients.models import CompetitorGroup
from app.clients.services import ClientDetails, check_client_vat
from app.extensions import db
from app.fields import DateField, country_choices, parse_id
from app.validators import InvalidIdentifier, Siren

# Babel territories that are not countries (regions, pseudo-codes).


def group_choices(blank: str) -> list[tuple[str, str]]:
    groups = db.session.scalars(select(CompetitorGroup).order_by(CompetitorGroup.name))
    return [("", blank)] + [(str(g.id), g.name) for g in groups]


def _int_or_none(value: object) -> int | None:
    if value in (None, "", "None"):
        return None
    return parse_id(value)


class ClientForm(FlaskForm):
    name = StringField(
        _l("Raison sociale"),
        validators=[DataRequired(_l("Indiquez le nom de l'entreprise.")), Length(max=160)],
    )
    siren = StringField(
        _l("SIREN"),
        validators=[Optional(), Length(max=20), Siren()],
        description=_l("9 chiffres, espaces acceptés (ex. 443 061 841)."),
    )
    vat_number = StringField(
        _l("N° de TVA intracommunautaire"),
        validators=[Optional(), Length(max=30)],
        description=_l("Pour une entreprise française : FR + clé à 2 chiffres + SIREN."),
    )
    address_line = StringField(_l("Adresse"), validators=[Optional(), Length(max=255)])
    postal_code = StringField(_l("Code postal"), validators=[Optional(), Length(max=10)])
    city = StringField(_l("Ville"), validators=[Optional(), Length(max=120)])
    country_code = SelectField(_l("Pays"), default="FR")
    billing_email = EmailField(
        _l("E-mail de facturation"),
        validators=[Optional(), Email(_l("Cette adresse e-mail n'est pas valide.")), Length(max=254)],
        description=_l("Les factures y seront envoyées."),
    )
    # Checked by the service (the group must exist), so a stale choice gets a clear message.
    competitor_group = SelectField(_l("Groupe de concurrents"), default="", validate_choice=False)
    internal_notes = TextAreaField(
        _l("Notes internes"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Visibles des seuls responsables de l'agence : jamais des CM ni du client."),
    )
    logo = FileField(_l("Fichier du logo"), description=_l("PNG ou JPEG."))
    remove_logo = BooleanField(_l("Retirer le logo actuel"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country_code.choices = country_choices()
        self.competitor_group.choices = group_choices(str(_l("Aucun")))
        self.logo_bytes: bytes | None = None

    @classmethod
    def for_client(cls, client) -> ClientForm:
        """The form filled with the client's values (a posted form overrides them)."""
        data = {key: value for key, value in vars(ClientDetails.of(client)).items() if value is not None}
        data["competitor_group"] = str(client.competitor_group_id or "")
        return cls(data=data)

    def validate_vat_number(self, field: StringField) -> None:
        if not (field.data or "").strip():
            return
        try:
            check_client_vat(field.data, self.siren.data, self.country_code.data or "FR")
        except InvalidIdentifier as error:
            raise ValidationError(str(error)) from error

    def validate_competitor_group(self, field: SelectField) -> None:
        # Whether the group exists is the service's check; a value that
        # cannot be a group's id (text, out of range) never reaches it.
        if field.data not in (None, "", "None") and parse_id(field.data) is None:
            raise ValidationError(_l("Ce groupe de concurrents n'existe pas."))

    def validate_postal_code(self, field: StringField) -> None:
        code = (field.data or "").strip().replace(" ", "")
        if code and self.country_code.data == "FR" and not re.fullmatch(r"[0-9]{5}", code):
            raise ValidationError(_l("Un code postal français compte 5 chiffres."))

    def validate_logo(self, field: FileField) -> None:
        upload = field.data
        if not upload or not getattr(upload, "filename", None):
            return
        max_bytes = current_app.config["LOGO_MAX_BYTES"]
        raw = upload.stream.read(max_bytes + 1)
        try:
            normalise_logo(raw, max_bytes)
        except LogoError as error:
            raise ValidationError(str(error)) from error
        self.logo_bytes = raw

    def details(self) -> ClientDetails:
        return ClientDetails(
            name=self.name.data or "",
            siren=self.siren.data,
            vat_number=self.vat_number.data,
            address_line=self.address_line.data or "",
            postal_code=self.postal_code.data or "",
            city=self.city.data or "",
            country_code=self.country_code.data or "FR",
            billing_email=self.billing_email.data,
            competitor_group_id=_int_or_none(self.competitor_group.data),
            internal_notes=self.internal_notes.data or "",
        )


class AssignForm(FlaskForm):
    cm = SelectField(
        _l("Community manager"),
        validators=[DataRequired(_l("Choisissez un community manager."))],
    )
    since = DateField(_l("À partir du"), validators=[DataRequired(_l("Indiquez une date de début valide."))])
    until = DateField(
        _l("Jusqu'au (inclus)"),
        validators=[Optional()],
        description=_l("Laissez vide pour une affectation sans fin prévue."),
    )
    override_reason = TextAreaField(
        _l("Motif de la dérogation"),
        validators=[Optional(), Length(max=2000)],
        description=_l(
            "Pourquoi ce community manager peut-il servir des clients concurrents ? "
            "Le motif est conservé au journal et affiché sur les fiches des deux clients."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cms = db.session.scalars(
            select(User).where(User.role == Role.CM, User.active.is_(True)).order_by(User.name)
        )
        self.cm.choices = [("", _l("— Choisir —"))] + [(str(u.id), f"{u.name} ({u.email})") for u in cms]

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("La date de fin précède la date de début."))

    def chosen_cm(self) -> User | None:
        cm_id = _int_or_none(self.cm.data)
        return db.session.get(User, cm_id) if cm_id is not None else None


class EndAssignmentForm(FlaskForm):
    until = DateField(
        _l("Dernier jour de service"),
        validators=[Optional()],
        description=_l("Laissez vide pour retirer l'accès tout de suite."),
    )


class GroupForm(FlaskForm):
    name = StringField(
        _l("Nom du groupe"),
        validators=[DataRequired(_l("Indiquez le nom du groupe.")), Length(max=120)],
        description=_l("Par exemple « Boulangeries d'Annecy »."),
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
