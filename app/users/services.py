"""Team and access: inviting, editing, deactivating accounts (leads only).

Services flush, never commit; the caller commits once. A refusal raises
UserError with a French message and, when it concerns one, the form field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.access import client_of_member
from app.audit.services import record
from app.auth.models import Role, User
from app.auth.services import AccountError, count_leads, normalise_email, role_label, validity_label
from app.auth.tokens import make_token
from app.clients.models import Client, ClientMember
from app.extensions import db
from app.mail import in_language_of, send_mail
from app.mail_links import external_url
from app.timeutil import utcnow

ROLES = (Role.LEAD, Role.CM, Role.CLIENT)


class UserError(AccountError):
    """A refused change, with a message for the user (and its form field)."""


def _email_taken(email: str, *, but: User | None = None) -> bool:
    stmt = select(User.id).where(User.email == email)
    if but is not None:
        stmt = stmt.where(User.id != but.id)
    return db.session.scalar(stmt) is not None


def _flush_account() -> None:
    """Flush; a concurrent request that took the same address loses cleanly."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        raise UserError(_("Un compte existe déjà avec cette adresse e-mail."), "email") from error


def _client_id(user: User) -> int | None:
    if user.role != Role.CLIENT:
        return None
    client = client_of_member(user)
    return client.id if client is not None else None


def invite_user(
    actor: User,
    *,
    email: str,
    name: str,
    role: str,
    client: Client | None = None,
    job_title: str = "",
) -> User:
    """Create an account without a password and mail it an invitation link.

    A client user joins `client` (which the caller loaded through access)."""
    email = normalise_email(email)
    name = (name or "").strip()
    if not name:
        raise UserError(_("Indiquez le nom de la personne."), "name")
    if not email:
        raise UserError(_("Indiquez une adresse e-mail."), "email")
    if role not in ROLES:
        raise UserError(_("Rôle inconnu."), "role")
    if role == Role.CLIENT and client is None:
        raise UserError(_("Choisissez l'entreprise cliente de ce contact."), "client_id")
    if role != Role.CLIENT and client is not None:
        raise UserError(_("Seul un contact client est rattaché à une entreprise cliente."), "client_id")
    if client is not None and client.archived:
        raise UserError(
            _(
                "« %(name)s » est archivé : réactivez ce client avant d'y inviter un contact.",
                name=client.name,
            ),
            "client_id",
        )
    if _email_taken(email):
        raise UserError(_("Un compte existe déjà avec cette adresse e-mail."), "email")
    user = User(email=email, name=name, role=role, active=True, invited_at=utcnow())
    db.session.add(user)
    _flush_account()
    if client is not None:
        db.session.add(ClientMember(client=client, user=user, job_title=(job_title or "").strip()))
    record(
        actor,
        "user.invited",
        user,
        client_id=client.id if client is not None else None,
        summary=_(
            "Invitation de %(name)s (%(email)s), %(role)s",
            name=user.name,
            email=user.email,
            role=role_label(role).lower(),
        ),
    )
    send_invitation(user, actor)
    db.session.flush()
    return user


def send_invitation(user: User, actor: User | None) -> None:
    """Mail `user` a link to choose its password (queued until commit)."""
    link = external_url("auth.accept_invitation", token=make_token(user, "invitation"))
    with in_language_of(user):
        send_mail(
            user.email,
            _("Votre accès à Relais"),
            render_template(
                "users/mail/invitation.txt",
                user=user,
                actor=actor,
                link=link,
                valid_for=validity_label(current_app.config["INVITATION_MAX_AGE"]),
            ),
        )


def resend_invitation(actor: User, user: User) -> None:
    if not user.active:
        raise UserError(_("Ce compte est désactivé : réactivez-le avant de renvoyer l'invitation."))
    if not user.is_pending:
        raise UserError(_("Ce compte a déjà choisi son mot de passe."))
    user.invited_at = utcnow()
    record(
        actor,
        "user.invitation_resent",
        user,
        client_id=_client_id(user),
        summary=_("Invitation renvoyée à %(email)s", email=user.email),
    )
    send_invitation(user, actor)
    db.session.flush()


@dataclass
class UserChanges:
    name: str
    email: str
    role: str | None = None  # None: unchanged (client users keep theirs)
    job_title: str | None = None  # client users only
    cost_rate: Decimal | None = None  # CMs and leads: internal hourly cost
    set_cost_rate: bool = False  # cost_rate None means "unknown" only when this is set


def update_user(actor: User, user: User, changes: UserChanges) -> bool:
    """Change an account's name, e-mail, role (not a client user's) or job title.

    Returns whether a new invitation was sent (a pending account whose
    address changed: the old link named the old address)."""
    name = (changes.name or "").strip()
    email = normalise_email(changes.email)
    role = changes.role or user.role
    if not name:
        raise UserError(_("Indiquez le nom de la personne."), "name")
    if not email:
        raise UserError(_("Indiquez une adresse e-mail."), "email")
    if role not in ROLES:
        raise UserError(_("Rôle inconnu."), "role")
    if role != user.role and Role.CLIENT in (role, user.role):
        raise UserError(
            _("Le rôle d'un contact client ne change pas : invitez la personne avec le rôle voulu."), "role"
        )
    if user.role == Role.LEAD and role != Role.LEAD and user.active and count_leads() <= 1:
        raise UserError(_("Il doit rester au moins un responsable d'agence actif."), "role")
    if email != user.email and _email_taken(email, but=user):
        raise UserError(_("Un compte existe déjà avec cette adresse e-mail."), "email")

    before = {"name": user.name, "email": user.email, "role": user.role}
    user.name, user.email, user.role = name, email, role
    if changes.job_title is not None and user.role == Role.CLIENT:
        member = db.session.scalar(select(ClientMember).where(ClientMember.user_id == user.id))
        if member is not None and member.job_title != changes.job_title.strip():
            before["job_title"] = member.job_title
            member.job_title = changes.job_title.strip()
    if changes.set_cost_rate and user.role != Role.CLIENT and changes.cost_rate != user.cost_rate:
        before["cost_rate"] = str(user.cost_rate) if user.cost_rate is not None else None
        user.cost_rate = changes.cost_rate
    _flush_account()
    after = {"name": user.name, "email": user.email, "role": user.role}
    if "job_title" in before:
        after["job_title"] = (changes.job_title or "").strip()
    if "cost_rate" in before:
        after["cost_rate"] = str(user.cost_rate) if user.cost_rate is not None else None
    changed = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    if not changed:
        return False
    record(
        actor,
        "user.updated",
        user,
        client_id=_client_id(user),
        summary=_("Compte modifié : %(email)s", email=user.email),
        data=changed,
    )
    if "email" in changed and user.is_pending and user.active:
        user.invited_at = utcnow()
        send_invitation(user, actor)
        db.session.flush()
        return True
    return False


def deactivate_user(actor: User, user: User) -> None:
    """Close an account: its sessions end at their next request, its links die."""
    if user.id == actor.id:
        raise UserError(_("Vous ne pouvez pas désactiver votre propre compte."))
    if not user.active:
        return
    if user.role == Role.LEAD and count_leads() <= 1:
        raise UserError(_("Il doit rester au moins un responsable d'agence actif."))
    user.active = False
    user.session_version += 1  # its sessions end at their next request
    record(
        actor,
        "user.deactivated",
        user,
        client_id=_client_id(user),
        summary=_("Compte désactivé : %(email)s", email=user.email),
    )
    db.session.flush()


def reactivate_user(actor: User, user: User) -> None:
    if user.active:
        return
    user.active = True
    record(
        actor,
        "user.reactivated",
        user,
        client_id=_client_id(user),
        summary=_("Compte réactivé : %(email)s", email=user.email),
    )
    db.session.flush()
