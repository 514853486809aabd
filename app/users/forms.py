"""Forms of the team and access pages: they validate, they never write."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.access import visible_clients
from app.auth.models import Role
from app.auth.services import normalise_email
from app.clients.models import Client
from app.extensions import db
from app.fields import MoneyField


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def role_choices(*, with_client: bool = True) -> list[SelectChoice]:
    choices = [
        SelectChoice(Role.CM.value, _l("Community manager")),
        SelectChoice(Role.LEAD.value, _l("Responsable d'agence")),
    ]
    if with_client:
        choices.append(SelectChoice(Role.CLIENT.value, _l("Contact client")))
    return choices


def check_email_address(value: str) -> None:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError(_l("Cette adresse e-mail n'est pas valide.")) from error


class InviteForm(FlaskForm):
    name = StringField(
        _l("Nom et prénom"),
        validators=[DataRequired(_l("Indiquez le nom de la personne.")), Length(max=120)],
        filters=[_strip],
    )
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[DataRequired(_l("Indiquez son adresse e-mail.")), Length(max=254)],
        filters=[_strip],
        description=_l("L'invitation y est envoyée ; ce sera son identifiant."),
    )
    role = SelectField(_l("Rôle"), choices=role_choices(), default=Role.CM.value)
    # Choices: the clients the lead may see (access.visible_clients), not archived.
    client_id = SelectField(_l("Entreprise cliente"), validate_choice=False, default="")
    job_title = StringField(
        _l("Fonction"),
        validators=[Optional(), Length(max=120)],
        filters=[_strip],
        description=_l("Par exemple : gérante, responsable marketing."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()
        self._clients = {
            str(c.id): c
            for c in db.session.scalars(
                visible_clients().where(Client.archived_at.is_(None)).order_by(Client.name)
            )
        }
        self.client_id.choices = [SelectChoice("", _l("— Choisir une entreprise —"))] + [
            SelectChoice(key, c.name) for key, c in self._clients.items()
        ]

    def validate_email(self, field) -> None:
        check_email_address(field.data)

    def validate_client_id(self, field) -> None:
        if self.role.data != Role.CLIENT:
            return
        if not field.data:
            raise ValidationError(_l("Choisissez l'entreprise de ce contact."))
        if str(field.data) not in self._clients:
            raise ValidationError(_l("Cette entreprise n'est pas dans la liste : choisissez-en une autre."))

    @property
    def client(self) -> Client | None:
        """The chosen company, for a client contact only."""
        if self.role.data != Role.CLIENT:
            return None
        return self._clients.get(str(self.client_id.data or ""))

    def prefill(self, args) -> None:
        """From the query string: ?role=client&client_id=N (the client page's button)."""
        if args.get("role") in {choice.value for choice in self.role.choices}:
            self.role.data = args["role"]
        if args.get("client_id") in self._clients:
            self.client_id.data = args["client_id"]
            if "role" not in args:
                self.role.data = Role.CLIENT.value


class EditUserForm(FlaskForm):
    name = StringField(
        _l("Nom et prénom"),
        validators=[DataRequired(_l("Indiquez le nom de la personne.")), Length(max=120)],
        filters=[_strip],
    )
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[DataRequired(_l("Indiquez son adresse e-mail.")), Length(max=254)],
        filters=[_strip],
        description=_l("C'est son identifiant de connexion."),
    )
    role = SelectField(_l("Rôle"), choices=role_choices(with_client=False))
    job_title = StringField(_l("Fonction"), validators=[Optional(), Length(max=120)], filters=[_strip])
    cost_rate = MoneyField(
        _l("Coût horaire interne HT (€)"),
        description=_l("Sert au calcul des marges ; visible des seuls responsables. Vide : non renseigné."),
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("obj", user)
        super().__init__(*args, **kwargs)
        self._original_email = user.email
        if user.role == Role.CLIENT:
            del self.role  # a client contact stays one
            del self.cost_rate
        else:
            del self.job_title
            self.role.choices = role_choices(with_client=False)

    def validate_email(self, field) -> None:
        # An address kept as it was is not checked again (older accounts).
        if normalise_email(field.data) != self._original_email:
            check_email_address(field.data)
