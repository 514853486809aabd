"""Competitor groups: agency-level lists of clients that compete (leads only).

Like every service: rules and audit here, flush, never commit.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from app.audit.services import record
from app.auth.models import User
from app.clients.errors import ClientError, require_lead
from app.clients.models import Client, CMAssignment, CompetitorGroup, WallOverride
from app.extensions import db
from app.timeutil import today


def _check_group_name(name: str, group: CompetitorGroup | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ClientError(_("Indiquez le nom du groupe."), field="name")
    same = select(CompetitorGroup.id).where(func.lower(CompetitorGroup.name) == name.lower())
    if group is not None:
        same = same.where(CompetitorGroup.id != group.id)
    if db.session.scalar(same.limit(1)) is not None:
        raise ClientError(_("Un groupe porte déjà ce nom."), field="name")
    return name


def create_group(actor: User, name: str, description: str = "") -> CompetitorGroup:
    require_lead(actor)
    group = CompetitorGroup(name=_check_group_name(name, None), description=(description or "").strip())
    db.session.add(group)
    db.session.flush()
    record(
        actor,
        "competitor_group.created",
        group,
        summary=_("Groupe de concurrents créé : %(name)s", name=group.name),
    )
    return group


def update_group(actor: User, group: CompetitorGroup, name: str, description: str = "") -> CompetitorGroup:
    require_lead(actor)
    name = _check_group_name(name, group)
    description = (description or "").strip()
    if (name, description) != (group.name, group.description):
        data = {"from": {"name": group.name, "description": group.description}}
        group.name, group.description = name, description
        record(
            actor,
            "competitor_group.updated",
            group,
            summary=_("Groupe de concurrents modifié : %(name)s", name=group.name),
            data=data,
        )
    db.session.flush()
    return group


def delete_group(actor: User, group: CompetitorGroup) -> None:
    """Only an empty group goes (archived members count: they may come back)."""
    require_lead(actor)
    members = db.session.scalar(
        select(func.count()).select_from(Client).where(Client.competitor_group_id == group.id)
    )
    if members:
        raise ClientError(
            ngettext(
                "Ce groupe compte encore %(num)d client : retirez-le du groupe avant de le supprimer.",
                "Ce groupe compte encore %(num)d clients : retirez-les du groupe avant de le supprimer.",
                members,
            )
        )
    record(
        actor,
        "competitor_group.deleted",
        group,
        summary=_("Groupe de concurrents supprimé : %(name)s", name=group.name),
    )
    db.session.delete(group)
    db.session.flush()


def refuse_group_move(client: Client, group_id: int) -> None:
    """Moving a client into a group must not put a CM on both sides of the
    wall without a recorded override: refuse while a current or future
    assignment of this client overlaps one of the same CM on a member."""
    day = today()
    mine, theirs = aliased(CMAssignment), aliased(CMAssignment)
    covered = exists().where(
        or_(
            and_(
                WallOverride.assignment_id == mine.id, WallOverride.competitor_client_id == theirs.client_id
            ),
            and_(WallOverride.assignment_id == theirs.id, WallOverride.competitor_client_id == client.id),
        )
    )
    stmt = (
        select(User.name, Client.name)
        .select_from(mine)
        .join(theirs, theirs.cm_id == mine.cm_id)
        .join(Client, Client.id == theirs.client_id)
        .join(User, User.id == mine.cm_id)
        .where(
            mine.client_id == client.id,
            Client.competitor_group_id == group_id,
            Client.id != client.id,
            or_(mine.until.is_(None), mine.until >= day),
            or_(theirs.until.is_(None), theirs.until >= day),
            or_(theirs.until.is_(None), theirs.until >= mine.since),
            or_(mine.until.is_(None), mine.until >= theirs.since),
            ~covered,
        )
        .order_by(User.name, Client.name)
    )
    pairs = db.session.execute(stmt).all()
    if pairs:
        cm_name, other = pairs[0]
        raise ClientError(
            _(
                "Impossible de placer ce client dans ce groupe : %(cm)s sert aussi %(other)s, qui en fait "
                "partie. Terminez l'une des deux affectations, ou réaffectez avec une dérogation.",
                cm=cm_name,
                other=other,
            ),
            field="competitor_group",
        )
