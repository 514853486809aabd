"""Refusals of the clients area, with messages for the user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext as _
from flask_babel import ngettext

from app.auth.models import Role, User

if TYPE_CHECKING:
    from app.clients.models import Client


class ClientError(ValueError):
    """A refused change, with a message for the user and, when it concerns
    one form field, that field's name."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class CompetitorConflict(ClientError):
    """The CM already serves, over the same period, clients of the same
    competitor group: only a lead's written reason lets the assignment through."""

    def __init__(self, cm: User, client: Client, competitors: list[Client]):
        self.cm = cm
        self.client = client
        self.competitors = competitors
        names = join_names([c.name for c in competitors])
        message = ngettext(
            "%(cm)s sert déjà %(names)s, concurrente de ce client.",
            "%(cm)s sert déjà %(names)s, concurrentes de ce client.",
            len(competitors),
            cm=cm.name,
            names=names,
        )
        super().__init__(message, field="override_reason")


def join_names(names: list[str]) -> str:
    """ "A", "A et B", "A, B et C"."""
    if len(names) <= 1:
        return "".join(names)
    return _("%(first)s et %(last)s", first=", ".join(names[:-1]), last=names[-1])


def require_lead(actor: User | None) -> User:
    if actor is None or actor.role != Role.LEAD or not actor.active:
        raise ClientError(_("Seul un responsable d'agence peut faire cela."))
    return actor
