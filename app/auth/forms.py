"""Forms of the accounts area: they validate, they never write."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length

from app.auth.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[DataRequired(_l("Indiquez votre adresse e-mail.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(_l("Indiquez votre mot de passe.")), Length(max=MAX_PASSWORD_LENGTH)],
    )
    remember = BooleanField(_l("Rester connecté sur cet appareil"))
    submit = SubmitField(_l("Se connecter"))


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _new_password_validators() -> list:
    return [
        DataRequired(_l("Choisissez un mot de passe.")),
        Length(
            min=MIN_PASSWORD_LENGTH,
            max=MAX_PASSWORD_LENGTH,
            message=_l(
                "Votre mot de passe doit compter entre %(min)d et %(max)d caractères.",
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
            ),
        ),
    ]


def _confirm_validators() -> list:
    return [
        DataRequired(_l("Saisissez le mot de passe une seconde fois.")),
        EqualTo("password", message=_l("Les deux mots de passe ne sont pas identiques.")),
    ]


class SetPasswordForm(FlaskForm):
    """Choosing a password: after an invitation or through a reset link."""

    password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=_new_password_validators(),
        description=_l(
            "Au moins %(min)d caractères. Une phrase de quelques mots est facile à retenir "
            "et difficile à deviner.",
            min=MIN_PASSWORD_LENGTH,
        ),
    )
    confirm = PasswordField(_l("Confirmation du mot de passe"), validators=_confirm_validators())


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(_l("Indiquez votre mot de passe actuel.")), Length(max=MAX_PASSWORD_LENGTH)],
    )


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Nom"), validators=[DataRequired(_l("Indiquez votre nom.")), Length(max=120)], filters=[_strip]
    )
    locale = SelectField(
        _l("Langue de l'interface"),
        choices=[SelectChoice("fr", "Français"), SelectChoice("en", "English")],
        validate_choice=True,
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[DataRequired(_l("Indiquez votre adresse e-mail.")), Length(max=254)],
        description=_l("L'adresse avec laquelle vous vous connectez à Relais."),
    )
