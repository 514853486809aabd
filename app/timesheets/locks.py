"""Month locks: the one place that says whether a contract's month may change.

Services check `is_locked()` to give a clear message; a flush guard refuses
any insert, update or delete of a time entry in a locked month, whatever
path the change took (form, CLI, job, a future API).
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import event, inspect, select, tuple_
from sqlalchemy.orm import Session

from app.timesheets.calendar import month_start
from app.timesheets.models import MonthLock, TimeEntry


class MonthLockedError(RuntimeError):
    def __init__(self, month: date | None = None):
        super().__init__(
            _("Ce mois est clôturé : ses saisies ne peuvent plus changer. Demandez à un responsable.")
        )
        self.month = month


def is_locked(session: Session, contract_id: int, day: date) -> bool:
    stmt = select(MonthLock.id).where(
        MonthLock.contract_id == contract_id, MonthLock.month == month_start(day)
    )
    return session.scalar(stmt) is not None


def locked_months(session: Session, contract_id: int) -> set[date]:
    return set(session.scalars(select(MonthLock.month).where(MonthLock.contract_id == contract_id)))


def _touched(session: Session) -> set[tuple[int, date]]:
    keys: set[tuple[int, date]] = set()
    for obj in list(session.new) + list(session.deleted):
        if isinstance(obj, TimeEntry) and obj.contract_id is not None and obj.day is not None:
            keys.add((obj.contract_id, month_start(obj.day)))
    for obj in session.dirty:
        if isinstance(obj, TimeEntry) and session.is_modified(obj, include_collections=False):
            state = inspect(obj)
            keys.add((obj.contract_id, month_start(obj.day)))
            for attr in ("contract_id", "day"):
                history = state.attrs[attr].history
                for old in history.deleted or ():
                    contract_id = old if attr == "contract_id" else obj.contract_id
                    day = old if attr == "day" else obj.day
                    keys.add((contract_id, month_start(day)))
    return keys


@event.listens_for(Session, "before_flush")
def _refuse_changes_in_locked_months(session: Session, flush_context, instances) -> None:
    keys = _touched(session)
    if not keys:
        return
    with session.no_autoflush:
        hit = session.execute(
            select(MonthLock.month).where(tuple_(MonthLock.contract_id, MonthLock.month).in_(list(keys)))
        ).first()
    if hit is not None:
        raise MonthLockedError(hit[0])
