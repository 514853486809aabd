"""CM assignments and the competitor wall (the "ethical wall").

A CM may not serve two competing clients at once unless a lead records why;
the override is kept with the assignment and in the audit log of both
clients. Services flush, never commit.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, exists, or_, select

from app.audit.services import record
from app.auth.models import Role, User
from app.clients.errors import ClientError, CompetitorConflict, require_lead
from app.clients.models import Client, CMAssignment, WallOverride
from app.extensions import db
from app.timeutil import today

MIN_OVERRIDE_REASON = 10


def _overlaps(since: date, until: date | None) -> ColumnElement[bool]:
    """The CMAssignment's period meets [since, until] (until None: open-ended)."""
    meets = or_(CMAssignment.until.is_(None), CMAssignment.until >= since)
    if until is not None:
        meets = and_(meets, CMAssignment.since <= until)
    return meets


def competing_clients_served(client: Client, cm: User, since: date, until: date | None) -> list[Client]:
    """The other clients of `client`'s competitor group that `cm` serves at
    some point of [since, until]."""
    if client.competitor_group_id is None:
        return []
    stmt = (
        select(Client)
        .where(
            Client.competitor_group_id == client.competitor_group_id,
            Client.id != client.id,
            exists().where(
                CMAssignment.client_id == Client.id,
                CMAssignment.cm_id == cm.id,
                _overlaps(since, until),
            ),
        )
        .order_by(Client.name)
    )
    return list(db.session.scalars(stmt))


def assign_cm(
    actor: User,
    client: Client,
    cm: User,
    since: date,
    until: date | None = None,
    override_reason: str | None = None,
) -> CMAssignment:
    """Assign `cm` to `client` from `since` to `until` (inclusive).

    Raises ClientError (not a CM, inactive, archived client, bad period,
    overlapping duplicate) or CompetitorConflict (the CM serves a competitor
    over the period and no reason of at least MIN_OVERRIDE_REASON characters
    was given). With a reason, the lead's override is recorded: one
    WallOverride per competitor and audit entries on both clients.
    """
    require_lead(actor)
    if cm.role != Role.CM:
        raise ClientError(_("Seul un community manager peut être affecté à un client."), field="cm")
    if not cm.active:
        raise ClientError(_("Le compte de %(name)s est désactivé.", name=cm.name), field="cm")
    if client.archived:
        raise ClientError(_("Ce client est archivé : réactivez-le avant d'y affecter quelqu'un."))
    if until is not None and until < since:
        raise ClientError(_("La date de fin précède la date de début."), field="until")
    duplicate = select(CMAssignment.id).where(
        CMAssignment.client_id == client.id, CMAssignment.cm_id == cm.id, _overlaps(since, until)
    )
    if db.session.scalar(duplicate.limit(1)) is not None:
        raise ClientError(
            _("%(name)s est déjà affecté(e) à ce client sur cette période.", name=cm.name), field="cm"
        )
    competitors = competing_clients_served(client, cm, since, until)
    reason = (override_reason or "").strip()
    if competitors and len(reason) < MIN_OVERRIDE_REASON:
        raise CompetitorConflict(cm, client, competitors)

    assignment = CMAssignment(client=client, cm=cm, since=since, until=until, created_by_id=actor.id)
    db.session.add(assignment)
    db.session.flush()
    period = {"since": since.isoformat(), "until": until.isoformat() if until else None}
    record(
        actor,
        "assignment.created",
        assignment,
        client_id=client.id,
        summary=_("%(cm)s affecté(e) à %(client)s", cm=cm.name, client=client.name),
        reason=reason if competitors else None,
        data={"cm_id": cm.id, **period},
    )
    for other in competitors:
        override = WallOverride(
            assignment=assignment, competitor_client_id=other.id, reason=reason, created_by_id=actor.id
        )
        db.session.add(override)
        db.session.flush()
        summary = _(
            "Dérogation au mur éthique : %(cm)s sert %(client)s et %(other)s, concurrents",
            cm=cm.name,
            client=client.name,
            other=other.name,
        )
        data = {"cm_id": cm.id, "assignment_id": assignment.id, "clients": [client.id, other.id], **period}
        for concerned in (client, other):
            record(
                actor,
                "wall.override",
                override,
                client_id=concerned.id,
                summary=summary,
                reason=reason,
                data=data,
            )
    return assignment


def end_assignment(
    actor: User, client: Client, assignment: CMAssignment, until: date | None = None
) -> CMAssignment | None:
    """End `assignment` after `until`, its last day of service (inclusive).

    Without `until`, the CM loses access now: the last day becomes
    yesterday, or, for an assignment that starts today or later, it is
    cancelled (removed, the audit log keeps it). Returns the assignment, or
    None when cancelled.
    """
    require_lead(actor)
    if assignment.client_id != client.id:
        raise ClientError(_("Cette affectation ne concerne pas ce client."))
    day = today()
    if assignment.until is not None and assignment.until < day:
        raise ClientError(_("Cette affectation est déjà terminée."))
    cm_name = assignment.cm.name
    if until is None:
        until = day - timedelta(days=1)
        if until < assignment.since:
            record(
                actor,
                "assignment.cancelled",
                assignment,
                client_id=client.id,
                summary=_("Affectation de %(cm)s à %(client)s annulée", cm=cm_name, client=client.name),
                data={"cm_id": assignment.cm_id, "since": assignment.since.isoformat()},
            )
            db.session.delete(assignment)
            db.session.flush()
            return None
    if until < assignment.since:
        raise ClientError(
            _(
                "La fin ne peut pas précéder le début de l'affectation (%(since)s).",
                since=format_date(assignment.since, "medium"),
            ),
            field="until",
        )
    if assignment.until is not None and until > assignment.until:
        raise ClientError(
            _(
                "Cette affectation se termine déjà le %(until)s.",
                until=format_date(assignment.until, "medium"),
            ),
            field="until",
        )
    previous = assignment.until
    assignment.until = until
    record(
        actor,
        "assignment.ended",
        assignment,
        client_id=client.id,
        summary=_(
            "Fin de l'affectation de %(cm)s à %(client)s (dernier jour : %(until)s)",
            cm=cm_name,
            client=client.name,
            until=format_date(until, "medium"),
        ),
        data={
            "cm_id": assignment.cm_id,
            "until": until.isoformat(),
            "previous_until": previous.isoformat() if previous else None,
        },
    )
    db.session.flush()
    return assignment
