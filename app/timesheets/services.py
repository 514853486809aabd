"""Logging time and closing months. Services flush, never commit."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.access import can_view, is_assigned_on
from app.audit.services import record
from app.auth.models import Role, User
from app.contracts.models import Channel, Contract
from app.contracts.services import terms_on
from app.extensions import db
from app.timesheets.calendar import month_start
from app.timesheets.locks import MonthLockedError, is_locked
from app.timesheets.models import MAX_MINUTES_PER_DAY, Activity, MonthLock, TimeEntry
from app.timeutil import today

DEFAULT_ACTIVITIES = (
    "Animation",
    "Création de contenu",
    "Modération",
    "Relation client",
    "Reporting",
    "Stratégie",
    "Publicité",
)
NOTE_MAX = 2000


class EntryError(ValueError):
    """A refused time entry, with a message for the user."""


def ensure_default_activities() -> list[Activity]:
    existing = list(db.session.scalars(select(Activity).order_by(Activity.position, Activity.id)))
    if existing:
        return existing
    for position, label in enumerate(DEFAULT_ACTIVITIES):
        db.session.add(Activity(label=label, position=position))
    db.session.flush()
    return list(db.session.scalars(select(Activity).order_by(Activity.position)))


def active_activities() -> list[Activity]:
    activities = [a for a in ensure_default_activities() if a.active]
    return activities


def minutes_on(cm: User, day: date, *, excluding: TimeEntry | None = None) -> int:
    stmt = select(func.coalesce(func.sum(TimeEntry.minutes), 0)).where(
        TimeEntry.cm_id == cm.id, TimeEntry.day == day
    )
    if excluding is not None and excluding.id is not None:
        stmt = stmt.where(TimeEntry.id != excluding.id)
    return int(db.session.scalar(stmt) or 0)


def _validate(
    actor: User,
    cm: User,
    contract: Contract,
    day: date,
    minutes: int,
    activity: Activity | None,
    channel: str | None,
    note: str,
    entry: TimeEntry | None = None,
) -> None:
    if not can_view(actor, contract.client):
        raise EntryError(_("Contrat introuvable."))
    if actor.role not in (Role.LEAD, Role.CM):
        raise EntryError(_("Votre compte ne permet pas de saisir du temps."))
    if actor.role == Role.CM and cm.id != actor.id:
        raise EntryError(_("Vous ne pouvez saisir que votre propre temps."))
    if cm.role == Role.CM and not is_assigned_on(cm, contract.client_id, day):
        raise EntryError(_("Vous n'êtes pas affecté(e) à ce client à cette date."))
    if day > today():
        raise EntryError(_("On ne saisit pas de temps dans le futur."))
    if not contract.is_active_on(day):
        raise EntryError(_("Cette date est en dehors de la période du contrat."))
    if not 0 < minutes <= MAX_MINUTES_PER_DAY:
        raise EntryError(_("La durée doit être comprise entre 1 minute et 24 h."))
    if minutes_on(cm, day, excluding=entry) + minutes > MAX_MINUTES_PER_DAY:
        raise EntryError(_("Cette saisie dépasserait 24 h sur la journée."))
    if activity is None or not activity.active:
        raise EntryError(_("Choisissez une activité."))
    if channel and channel not in set(Channel):
        raise EntryError(_("Canal inconnu."))
    if len(note) > NOTE_MAX:
        raise EntryError(_("La note est trop longue (2000 caractères au plus)."))
    if is_locked(db.session, contract.id, day):
        raise EntryError(str(MonthLockedError(day)))


def log_time(
    actor: User,
    contract: Contract,
    *,
    day: date,
    minutes: int,
    activity: Activity | None,
    channel: str | None = None,
    note: str = "",
    cm: User | None = None,
) -> TimeEntry:
    """Record `minutes` of work by `cm` (the actor by default) on `contract`."""
    cm = cm or actor
    note = (note or "").strip()
    _validate(actor, cm, contract, day, minutes, activity, channel, note)
    terms = terms_on(contract, day)
    entry = TimeEntry(
        client_id=contract.client_id,
        contract=contract,
        cm=cm,
        day=day,
        minutes=minutes,
        activity=activity,
        channel=channel or None,
        note=note,
        hourly_rate=terms.hourly_rate if terms is not None else None,
        cost_rate=cm.cost_rate,
    )
    db.session.add(entry)
    db.session.flush()
    from app.timesheets.alerts import check_budget_thresholds

    check_budget_thresholds(contract, day)
    return entry


def can_edit_entry(user: User, entry: TimeEntry) -> bool:
    """A CM edits its own entries; a lead any. Locks are checked separately."""
    if user.role == Role.LEAD:
        return True
    return user.role == Role.CM and entry.cm_id == user.id


def update_entry(
    actor: User,
    entry: TimeEntry,
    *,
    day: date,
    minutes: int,
    activity: Activity | None,
    channel: str | None,
    note: str,
) -> TimeEntry:
    if not can_edit_entry(actor, entry):
        raise EntryError(_("Vous ne pouvez modifier que vos propres saisies."))
    if is_locked(db.session, entry.contract_id, entry.day):
        raise EntryError(str(MonthLockedError(entry.day)))
    note = (note or "").strip()
    _validate(actor, entry.cm, entry.contract, day, minutes, activity, channel, note, entry=entry)
    entry.day, entry.minutes, entry.activity = day, minutes, activity
    entry.channel, entry.note = channel or None, note
    db.session.flush()
    from app.timesheets.alerts import check_budget_thresholds

    check_budget_thresholds(entry.contract, day)
    return entry


def delete_entry(actor: User, entry: TimeEntry) -> None:
    if not can_edit_entry(actor, entry):
        raise EntryError(_("Vous ne pouvez supprimer que vos propres saisies."))
    if is_locked(db.session, entry.contract_id, entry.day):
        raise EntryError(str(MonthLockedError(entry.day)))
    db.session.delete(entry)
    db.session.flush()


def last_entry_of(cm: User) -> TimeEntry | None:
    return db.session.scalar(
        select(TimeEntry).where(TimeEntry.cm_id == cm.id).order_by(TimeEntry.id.desc()).limit(1)
    )


# -- month locks --------------------------------------------------------------


def lock_month(actor: User, contract: Contract, month: date) -> bool:
    """Close `month` for `contract`; False if it already was."""
    month = month_start(month)
    if is_locked(db.session, contract.id, month):
        return False
    db.session.add(
        MonthLock(
            client_id=contract.client_id,
            contract_id=contract.id,
            month=month,
            locked_by_id=actor.id if actor else None,
        )
    )
    record(
        actor,
        "month.locked",
        contract,
        client_id=contract.client_id,
        summary=_("Mois %(month)s clôturé", month=month.strftime("%m/%Y")),
        data={"month": month.isoformat()},
    )
    db.session.flush()
    return True


def unlock_month(actor: User, contract: Contract, month: date, reason: str) -> None:
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise EntryError(_("Indiquez le motif de la réouverture."))
    lock = db.session.scalar(
        select(MonthLock).where(MonthLock.contract_id == contract.id, MonthLock.month == month_start(month))
    )
    if lock is None:
        raise EntryError(_("Ce mois n'est pas clôturé."))
    from app.invoices.services import month_is_invoiced

    if month_is_invoiced(contract.id, month):
        raise EntryError(_("Ce mois est facturé : annulez d'abord sa facture par un avoir pour le rouvrir."))
    db.session.delete(lock)
    record(
        actor,
        "month.reopened",
        contract,
        client_id=contract.client_id,
        summary=_("Mois %(month)s rouvert", month=month.strftime("%m/%Y")),
        reason=reason,
        data={"month": month_start(month).isoformat()},
    )
    db.session.flush()


def lock_month_for_all(actor: User | None, month: date) -> int:
    """Close `month` for every contract running in it; returns how many were closed now."""
    from app.contracts.budget import active_contracts_query

    month = month_start(month)
    already = set(db.session.scalars(select(MonthLock.contract_id).where(MonthLock.month == month)))
    count = 0
    for contract in db.session.scalars(active_contracts_query(month)):
        if contract.id not in already and lock_month(actor, contract, month):  # type: ignore[arg-type]
            count += 1
    return count


# -- the week grid -------------------------------------------------------------


class WeekError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def save_week(
    actor: User,
    cells: list[tuple[Contract, date, int | None, str]],
    existing: dict[tuple[int, date], list[TimeEntry]],
    default_activity: dict[int, Activity],
) -> int:
    """Apply a week grid: each cell (contract, day, minutes or None, name)
    becomes an entry, changes the single entry there, or removes it. A cell
    with several entries is left alone (edited from the day view). All or
    nothing: any refused cell raises WeekError with every cell's message, and
    the caller rolls back."""
    errors: dict[str, str] = {}
    changed = 0
    for contract, day, minutes, name in cells:
        current = existing.get((contract.id, day), [])
        if len(current) > 1:
            continue
        try:
            if current:
                entry = current[0]
                if minutes is None:
                    delete_entry(actor, entry)
                    changed += 1
                elif minutes != entry.minutes:
                    update_entry(
                        actor,
                        entry,
                        day=day,
                        minutes=minutes,
                        activity=entry.activity,
                        channel=entry.channel,
                        note=entry.note,
                    )
                    changed += 1
            elif minutes is not None:
                log_time(
                    actor, contract, day=day, minutes=minutes, activity=default_activity.get(contract.id)
                )
                changed += 1
        except EntryError as error:
            errors[name] = str(error)
    if errors:
        raise WeekError(errors)
    return changed


# -- the agency's list of activities -------------------------------------------


def add_activity(actor: User, label: str) -> Activity:
    label = " ".join((label or "").split())
    if not label:
        raise EntryError(_("Donnez un nom à l'activité."))
    taken = db.session.scalar(select(Activity).where(func.lower(Activity.label) == label.lower()))
    if taken is not None:
        raise EntryError(_("Cette activité existe déjà."))
    position = (db.session.scalar(select(func.max(Activity.position))) or 0) + 1
    activity = Activity(label=label, position=position)
    db.session.add(activity)
    db.session.flush()
    record(actor, "activity.created", activity, summary=_("Activité « %(label)s » ajoutée", label=label))
    return activity


def set_activity_active(actor: User, activity: Activity, active: bool) -> None:
    """Retired activities stay on past entries; they are no longer offered."""
    if activity.active == active:
        return
    activity.active = active
    action = "activity.reactivated" if active else "activity.retired"
    record(actor, action, activity, summary=activity.label)
