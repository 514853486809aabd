"""Accounts: password hashing (argon2id), authentication, session loading,
and the changes a person makes to its own account (password, profile,
invitation, reset).

Services flush, never commit; the caller commits once.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from app.access import client_of_member
from app.audit.services import record
from app.auth.models import Role, User
from app.auth.tokens import make_token
from app.extensions import db
from app.mail import in_language_of, send_mail
from app.mail_links import external_url
from app.timeutil import utcnow

_hasher = PasswordHasher()  # argon2id with the library's current parameters
# Verified against when the e-mail is unknown, so both cases take as long.
_DUMMY_HASH = _hasher.hash("relais-dummy-password")

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
LANGUAGES = ("fr", "en")


class AccountError(ValueError):
    """A refused change, with a message for the user and the form field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class LoginRefused(AccountError):
    """Wrong credentials, or a deactivated account."""


def role_label(role: str) -> str:
    """The role as people at the agency say it."""
    labels = {
        Role.LEAD: _("Responsable d'agence"),
        Role.CM: _("Community manager"),
        Role.CLIENT: _("Contact client"),
    }
    return labels.get(role, role)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    if stored is None:
        return False
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)  # type: ignore[union-attr]
    return True


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    """The account of an address (a login, a reset request): looked up in
    the access rules' scope, the request has none of its own yet."""
    from app.access import identify

    return identify(lambda: db.session.scalar(select(User).where(User.email == normalise_email(email))))


def authenticate(email: str, password: str) -> User:
    """The active user with these credentials; raises LoginRefused otherwise.

    An unknown address and a wrong password get the same message (and take
    as long); only someone who knows the password learns that the account
    is deactivated."""
    user = find_user_by_email(email)
    if not verify_password(user, password) or user is None:
        raise LoginRefused(_("Adresse e-mail ou mot de passe incorrect."))
    if not user.active:
        raise LoginRefused(_("Ce compte est désactivé. Adressez-vous à votre agence pour le réactiver."))
    user.last_login_at = utcnow()
    return user


def check_new_password(password: str) -> None:
    """Refuse a password too short or too long (the forms check it too)."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("Choisissez un mot de passe d'au moins %(min)d caractères.", min=MIN_PASSWORD_LENGTH),
            "password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            _("Choisissez un mot de passe de %(max)d caractères au plus.", max=MAX_PASSWORD_LENGTH),
            "password",
        )


def end_sessions(user: User) -> None:
    """End every session of the user, on every device, "remember me" cookies
    included: each carries the session version, which no longer matches (see
    load_user). Mailed links made before die too (their fingerprint has it)."""
    user.session_version = (user.session_version or 1) + 1


def set_password(user: User, password: str) -> None:
    """Set a new password and end every other session of the user."""
    user.password_hash = hash_password(password)
    end_sessions(user)


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: "<id>.<session_version>"; a deactivated user, or a
    session from before a password change or deactivation, is logged out."""
    user_id, _sep, version = (session_id or "").partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def count_leads() -> int:
    """Active leads (the agency must keep at least one)."""
    return (
        db.session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.LEAD, User.active.is_(True))
        )
        or 0
    )


# -- a person's own account -------------------------------------------------------


def _client_id(user: User) -> int | None:
    """The company of a client user, so its account events show in that client's log."""
    if user.role != Role.CLIENT:
        return None
    client = client_of_member(user)
    return client.id if client is not None else None


def update_profile(user: User, *, name: str, locale: str) -> None:
    """A person changes its own name and language."""
    name = (name or "").strip()
    if not name:
        raise AccountError(_("Indiquez votre nom."), "name")
    if locale not in LANGUAGES:
        raise AccountError(_("Langue inconnue."), "locale")
    changed = name != user.name or locale != user.locale
    user.name = name
    user.locale = locale
    if changed:
        record(user, "user.profile_updated", user, client_id=_client_id(user), summary=_("Profil modifié"))
    db.session.flush()


def change_password(user: User, *, current: str, new: str) -> None:
    """A person changes its own password: the current one is required; every
    other session of the user ends (the caller logs this one in again)."""
    if not verify_password(user, current):
        raise AccountError(_("Le mot de passe actuel est incorrect."), "current_password")
    check_new_password(new)
    set_password(user, new)
    record(user, "user.password_changed", user, client_id=_client_id(user), summary=_("Mot de passe modifié"))
    db.session.flush()


def accept_invitation(user: User, password: str) -> None:
    """The invitee of a valid link chooses its password."""
    if not user.active or not user.is_pending:
        raise AccountError(_("Cette invitation a déjà été utilisée."))
    check_new_password(password)
    set_password(user, password)
    user.last_login_at = utcnow()
    record(
        user,
        "user.invitation_accepted",
        user,
        client_id=_client_id(user),
        summary=_("Invitation acceptée par %(email)s", email=user.email),
    )
    db.session.flush()


def request_password_reset(email: str) -> bool:
    """Mail a reset link if an active account with a password has this address.

    Returns whether a mail was sent, for tests and logs only: the page
    answers the same either way (no account enumeration)."""
    user = find_user_by_email(email)
    if user is None or not user.active or user.is_pending:
        return False
    link = external_url("auth.reset_password", token=make_token(user, "reset"))
    with in_language_of(user):
        send_mail(
            user.email,
            _("Réinitialisation de votre mot de passe Relais"),
            render_template(
                "auth/mail/reset.txt",
                user=user,
                link=link,
                valid_for=validity_label(current_app.config["PASSWORD_RESET_MAX_AGE"]),
            ),
        )
    return True


def reset_password(user: User, password: str) -> None:
    """The holder of a valid reset link sets a new password; every session of
    the user ends (the caller logs the person in)."""
    if not user.active or user.is_pending:
        raise AccountError(_("Ce lien de réinitialisation n'est plus valable."))
    check_new_password(password)
    set_password(user, password)
    user.last_login_at = utcnow()
    record(
        user,
        "user.password_reset",
        user,
        client_id=_client_id(user),
        summary=_("Mot de passe réinitialisé par lien e-mail"),
    )
    db.session.flush()


def validity_label(seconds: int) -> str:
    """ "7 jours", "2 heures", "30 minutes": how long a mailed link stays valid."""
    if seconds >= 86400 and seconds % 86400 == 0:
        return ngettext("%(num)d jour", "%(num)d jours", seconds // 86400)
    if seconds >= 3600 and seconds % 3600 == 0:
        return ngettext("%(num)d heure", "%(num)d heures", seconds // 3600)
    return ngettext("%(num)d minute", "%(num)d minutes", max(1, seconds // 60))
