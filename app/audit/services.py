"""The audit log: one function writes it, nothing rewrites it."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.auth.models import User
from app.extensions import db


class AuditLogIsAppendOnly(RuntimeError):
    pass


def record(
    actor: User | None,
    action: str,
    obj: Any = None,
    *,
    client_id: int | None = None,
    summary: str = "",
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. `obj` is any mapped object with an integer id."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else "",
        object_id=getattr(obj, "id", None),
        client_id=client_id,
        summary=summary[:255],
        reason=reason,
        data=data,
    )
    db.session.add(entry)
    return entry


@event.listens_for(Session, "before_flush")
def _refuse_audit_rewrites(session: Session, flush_context, instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj, include_collections=False):
            raise AuditLogIsAppendOnly("audit entries are never changed")
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AuditLogIsAppendOnly("audit entries are never deleted")
