"""Logging time (the day view, an entry's edit page, the week grid), the
agency's activities and the month close, fed hostile durations, dates,
notes and the ids of another client's contracts and entries."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db as _db
from app.timesheets.models import Activity, TimeEntry
from app.timesheets.services import active_activities
from app.timeutil import today
from tests.properties.support import (
    DATES,
    DURATIONS,
    FORMS,
    attempt,
    changed_tables,
    check_no_leak,
    fingerprint,
    hostile_text,
    maybe,
    other_ids,
    posted,
    send,
)


def _durations() -> st.SearchStrategy[str]:
    return st.sampled_from(DURATIONS) | hostile_text()


def _days() -> st.SearchStrategy[str]:
    return st.sampled_from(DATES + [(today() + timedelta(days=1)).isoformat()]) | hostile_text()


def _sane(entry: TimeEntry, world) -> None:
    assert 0 < entry.minutes <= 24 * 60
    assert entry.day <= today()
    assert entry.client_id == world.own.id and entry.contract_id == world.contract.id
    assert len(entry.note or "") <= 2000 and (entry.note or "") == (entry.note or "").strip()


def _entry_form(world, **special) -> st.SearchStrategy[dict]:
    activity = str(active_activities()[0].id)
    valid = {
        "day": (today() - timedelta(days=1)).isoformat(),
        "contract": str(world.contract.id),
        "duration": "1h30",
        "activity": activity,
        "channel": "instagram",
        "note": "3 posts de la semaine",
    }
    return posted(
        valid,
        {
            "day": _days(),
            "contract": other_ids(world.other_contract.id),
            "duration": _durations(),
            "activity": other_ids(),
            "channel": maybe(["facebook", "", "myspace"]),
            **special,
        },
    )


@FORMS
@given(data=st.data(), day=st.sampled_from(["", "9999-12-31", "0001-01-01", "2026-02-30", "hier"]))
def test_the_day_view_refuses_hostile_input_and_other_clients_contracts(client, login_as, world, data, day):
    login_as(world.cm)
    form = data.draw(_entry_form(world))
    url = f"/time?day={day}" if day else "/time"
    answer, changed = attempt(client, url, form, secrets=world.secrets)
    if not answer.refused:
        entry = _db.session.scalar(select(TimeEntry).order_by(TimeEntry.id.desc()).limit(1))
        _sane(entry, world)
        _db.session.delete(entry)  # a day holds 24 h at most: keep room for the next example
        _db.session.commit()


@FORMS
@given(data=st.data(), theirs=st.booleans())
def test_editing_an_entry_refuses_hostile_input(client, login_as, world, data, theirs):
    login_as(world.cm)
    form = data.draw(_entry_form(world))
    entry = world.other_entry if theirs else world.entry
    url = f"/clients/{world.own.id}/time/{entry.id}/edit"
    answer, changed = attempt(client, url, form, secrets=world.secrets)
    if theirs:
        assert answer.status in (400, 404) and changed == []
    elif not answer.refused:
        _db.session.refresh(world.entry)
        _sane(world.entry, world)


@FORMS
@given(data=st.data())
def test_the_week_grid_saves_all_or_nothing(client, login_as, world, data):
    login_as(world.cm)
    start = today() - timedelta(days=today().weekday() + 7)  # last week: every day is past
    days = [start + timedelta(days=i) for i in range(7)]
    cells = {
        f"cell-{world.contract.id}-{day.isoformat()}": data.draw(
            maybe(["", "1h", "45", "2,5"]), label=day.isoformat()
        )
        for day in data.draw(st.lists(st.sampled_from(days), unique=True, min_size=1, max_size=4))
    }
    cells[f"activity-{world.contract.id}"] = data.draw(other_ids() | st.just(str(active_activities()[0].id)))
    if data.draw(st.booleans(), label="other client's cell"):
        cells[f"cell-{world.other_contract.id}-{start.isoformat()}"] = "8h"
    before = set(_db.session.scalars(select(TimeEntry.id).where(TimeEntry.cm_id == world.cm.id)))
    answer, changed = attempt(client, f"/time/week?start={start.isoformat()}", cells, secrets=world.secrets)
    entries = list(_db.session.scalars(select(TimeEntry).where(TimeEntry.cm_id == world.cm.id)))
    for entry in entries:
        if entry.id not in before:
            _sane(entry, world)
    assert not _db.session.scalar(
        select(TimeEntry.id).where(
            TimeEntry.contract_id == world.other_contract.id, TimeEntry.cm_id == world.cm.id
        )
    )
    for entry in entries:  # the next example starts from the same week
        if entry.id not in before:
            _db.session.delete(entry)
    _db.session.commit()


@FORMS
@given(
    value=st.sampled_from(DATES) | hostile_text(),
    page=st.sampled_from([("/time", "day"), ("/time/week", "start")]),
)
def test_the_time_pages_answer_any_date_in_the_address(client, login_as, world, value, page):
    login_as(world.cm)
    path, name = page
    before = fingerprint()
    answer = send(client, path, method="get", query_string={name: value})
    assert answer.status in (200, 400, 404) and changed_tables(before, fingerprint()) == []
    check_no_leak(answer, world.secrets)


@FORMS
@given(label=maybe(["Tournage vidéo", "  Tournage   vidéo  ", "animation"]))
def test_a_new_activity_refuses_hostile_labels(client, login_as, world, label):
    login_as(world.lead)
    answer, changed = attempt(client, "/time/activities", {"label": label})
    if not answer.refused:
        activity = _db.session.scalar(select(Activity).order_by(Activity.id.desc()).limit(1))
        assert 0 < len(activity.label) <= 80 and activity.label == " ".join(activity.label.split())
        _db.session.delete(activity)
        _db.session.commit()


@FORMS
@given(month=st.sampled_from(DATES + ["2019-05", "2099-01"]) | hostile_text())
def test_closing_a_month_refuses_hostile_months(client, login_as, world, month):
    login_as(world.lead)
    answer, changed = attempt(client, "/time/close", {"month": month})
    if not answer.refused:
        assert month.strip() == "2019-05"
