from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app.timesheets.locks import MonthLockedError
from app.timesheets.models import TimeEntry
from app.timesheets.services import (
    EntryError,
    delete_entry,
    lock_month,
    lock_month_for_all,
    log_time,
    unlock_month,
    update_entry,
)
from app.timeutil import today
from tests.factories import activity, assign, make_client, make_cm, make_contract, make_entry, make_lead

DAY = date(2026, 10, 14)


@pytest.fixture
def setup(db):
    lead, cm = make_lead(), make_cm()
    cm.cost_rate = Decimal("22.00")
    client = make_client("Boulangerie Dupont")
    assign(cm, client)
    contract = make_contract(client, model="retainer_overage", rate="45.00", ceiling="900.00")
    return lead, cm, client, contract


def test_a_cm_logs_time_with_the_rates_in_force(setup):
    lead, cm, client, contract = setup
    entry = log_time(
        cm,
        contract,
        day=DAY,
        minutes=90,
        activity=activity("Création de contenu"),
        channel="instagram",
        note="3 posts de la semaine",
    )
    assert entry.client_id == client.id
    assert entry.hourly_rate == Decimal("45.00")
    assert entry.cost_rate == Decimal("22.00")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"day": today() + timedelta(days=1)}, "futur"),
        ({"day": date(2025, 12, 31)}, "période du contrat"),
        ({"minutes": 0}, "entre 1 minute et 24 h"),
        ({"channel": "myspace"}, "Canal inconnu"),
        ({"activity": None}, "activité"),
        ({"note": "x" * 2001}, "trop longue"),
    ],
)
def test_bad_entries_are_refused_with_a_clear_message(setup, db, change, message):
    lead, cm, client, contract = setup
    values = dict(day=DAY, minutes=60, activity=activity(), channel=None, note="")
    values.update(change)
    with pytest.raises(EntryError, match=message):
        log_time(cm, contract, **values)
    assert db.session.scalar(select(TimeEntry.id)) is None


def test_a_cm_cannot_log_on_a_client_it_does_not_serve(db):
    cm = make_cm()
    contract = make_contract(make_client("Garage Leroy"))
    with pytest.raises(EntryError, match="introuvable"):
        log_time(cm, contract, day=DAY, minutes=60, activity=activity())


def test_a_cm_cannot_log_outside_its_assignment_period(db):
    cm = make_cm()
    client = make_client()
    assign(cm, client, since=date(2026, 10, 20))
    contract = make_contract(client)
    with pytest.raises(EntryError, match="affecté"):
        log_time(cm, contract, day=date(2026, 10, 19), minutes=60, activity=activity())


def test_a_day_holds_at_most_24_hours(setup):
    lead, cm, client, contract = setup
    log_time(cm, contract, day=DAY, minutes=23 * 60, activity=activity())
    with pytest.raises(EntryError, match="24 h"):
        log_time(cm, contract, day=DAY, minutes=61, activity=activity())
    log_time(cm, contract, day=DAY, minutes=60, activity=activity())


def test_a_cm_edits_only_its_own_entries(setup):
    lead, cm, client, contract = setup
    other = make_cm()
    assign(other, client)
    entry = make_entry(contract, other, DAY, 60)
    with pytest.raises(EntryError, match="propres"):
        update_entry(cm, entry, day=DAY, minutes=30, activity=activity(), channel=None, note="")
    with pytest.raises(EntryError, match="propres"):
        delete_entry(cm, entry)
    update_entry(lead, entry, day=DAY, minutes=30, activity=activity(), channel=None, note="corrigé")
    assert entry.minutes == 30


def test_a_closed_month_refuses_every_change_through_the_services(setup, db):
    lead, cm, client, contract = setup
    entry = log_time(cm, contract, day=DAY, minutes=60, activity=activity())
    assert lock_month(lead, contract, DAY) is True
    assert lock_month(lead, contract, DAY) is False  # once
    with pytest.raises(EntryError, match="clôturé"):
        log_time(cm, contract, day=DAY, minutes=30, activity=activity())
    with pytest.raises(EntryError, match="clôturé"):
        update_entry(cm, entry, day=DAY, minutes=30, activity=activity(), channel=None, note="")
    with pytest.raises(EntryError, match="clôturé"):
        update_entry(
            lead, entry, day=date(2026, 11, 2), minutes=60, activity=activity(), channel=None, note=""
        )
    with pytest.raises(EntryError, match="clôturé"):
        delete_entry(lead, entry)
    db.session.refresh(entry)
    assert entry.minutes == 60


def test_a_closed_month_refuses_changes_that_bypass_the_services(setup, db):
    lead, cm, client, contract = setup
    entry = make_entry(contract, cm, DAY, 60)
    lock_month(lead, contract, DAY)
    entry.minutes = 10
    with pytest.raises(MonthLockedError):
        db.session.flush()
    db.session.rollback()


def test_moving_an_entry_into_a_closed_month_is_refused(setup, db):
    lead, cm, client, contract = setup
    entry = make_entry(contract, cm, date(2026, 11, 2), 60)
    lock_month(lead, contract, DAY)
    entry.day = DAY
    with pytest.raises(MonthLockedError):
        db.session.flush()
    db.session.rollback()


def test_the_database_refuses_raw_changes_in_a_closed_month(setup, db):
    lead, cm, client, contract = setup
    entry = make_entry(contract, cm, DAY, 60)
    lock_month(lead, contract, DAY)
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    with pytest.raises(Exception, match="locked"), db.session.begin_nested():
        db.session.execute(text("UPDATE time_entry SET minutes = 5 WHERE id = :id"), {"id": entry.id})


def test_reopening_needs_a_reason_and_is_audited(setup, db):
    from app.audit.models import AuditEntry

    lead, cm, client, contract = setup
    lock_month(lead, contract, DAY)
    with pytest.raises(EntryError, match="motif"):
        unlock_month(lead, contract, DAY, "")
    unlock_month(lead, contract, DAY, "Oubli de deux heures le 14")
    log_time(cm, contract, day=DAY, minutes=120, activity=activity())
    reopened = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "month.reopened"))
    assert reopened.reason == "Oubli de deux heures le 14"
    assert reopened.client_id == client.id


def test_closing_a_month_for_all_contracts_twice_closes_each_once(setup, db):
    lead, cm, client, contract = setup
    make_contract(make_client(), start=date(2026, 10, 20))
    make_contract(make_client(), start=date(2026, 11, 1))  # not running in October
    assert lock_month_for_all(lead, DAY) == 2
    assert lock_month_for_all(lead, DAY) == 0
