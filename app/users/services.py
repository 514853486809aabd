"""Team and access: inviting, editing, deactivating accounts (leads only).

Services flush, never commit; the caller commits once.
"""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select

from app.audit.services import record
from app.auth.models import Role, User
from app.auth.services import normalise_email
from app.auth.tokens import make_token
from app.clients.models import Client, ClientMember
from app.extensions import db
from app.mail import send_mail
from app.timeutil import utcnow


class UserError(ValueError):
    """A refused change, with a message for the user."""


def invite_user(
    actor: User,
    *,
    email: str,
    name: str,
    role: str,
    client: Client | None = None,
    job_title: str = "",
) -> User:
    """Create an account without a password and mail it an invitation link."""
    email = normalise_email(email)
    if role not in {Role.LEAD, Role.CM, Role.CLIENT}:
        raise UserError(_("Rôle inconnu."))
    if (role == Role.CLIENT) != (client is not None):
        raise UserError(_("Un contact client doit être rattaché à une entreprise cliente."))
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserError(_("Un compte existe déjà avec cette adresse e-mail."))
    user = User(email=email, name=name.strip(), role=role, active=True, invited_at=utcnow())
    db.session.add(user)
    db.session.flush()
    if client is not None:
        db.session.add(ClientMember(client=client, user=user, job_title=job_title.strip()))
    record(
        actor,
        "user.invited",
        user,
        client_id=client.id if client is not None else None,
        summary=_("Invitation de %(name)s (%(email)s)", name=user.name, email=user.email),
    )
    send_invitation(user, actor)
    db.session.flush()
    return user


def send_invitation(user: User, actor: User | None) -> None:
    from app.mail_links import external_url

    link = external_url("auth.accept_invitation", token=make_token(user, "invitation"))
    send_mail(
        user.email,
        _("Votre accès à Relais"),
        render_template("users/mail/invitation.txt", user=user, actor=actor, link=link),
    )


def resend_invitation(actor: User, user: User) -> None:
    if not user.is_pending:
        raise UserError(_("Ce compte a déjà choisi son mot de passe."))
    user.invited_at = utcnow()
    record(
        actor, "user.invitation_resent", user, summary=_("Invitation renvoyée à %(email)s", email=user.email)
    )
    send_invitation(user, actor)


def deactivate_user(actor: User, user: User) -> None:
    if user.id == actor.id:
        raise UserError(_("Vous ne pouvez pas désactiver votre propre compte."))
    if not user.active:
        return
    user.active = False
    user.session_version += 1  # its sessions end at their next request
    record(actor, "user.deactivated", user, summary=_("Compte désactivé : %(email)s", email=user.email))


def reactivate_user(actor: User, user: User) -> None:
    if user.active:
        return
    user.active = True
    record(actor, "user.reactivated", user, summary=_("Compte réactivé : %(email)s", email=user.email))
