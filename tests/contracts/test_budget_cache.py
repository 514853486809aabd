"""The lead's budget table is kept rendered, and shows at once every change
of what it shows (app/contracts/budget_cache.py): the database's triggers
move each client's stamp with the change, whoever makes it, even in raw SQL."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import text as sql

from app.contracts import budget_cache
from app.timesheets.calendar import month_start
from app.timeutil import today
from tests.factories import assign, make_client, make_cm, make_contract, make_entry, make_lead


def table(client) -> str:
    page = html.unescape(client.get("/dashboard").get_data(as_text=True))
    return page[
        page.index('<section class="dashboard-budgets">') : page.index(
            "</section>", page.index("dashboard-budgets")
        )
    ]


@pytest.fixture
def agency(db, login_as):
    lead = make_lead()
    dupont = make_client("Boulangerie Dupont")
    contract = make_contract(
        dupont, title="Animation Instagram", start=month_start(today()) - timedelta(days=60)
    )
    cm = make_cm()
    assign(cm, dupont)
    make_entry(contract, cm, month_start(today()), 90)
    db.session.commit()
    login_as(lead)
    return {"client": dupont, "contract": contract, "cm": cm}


def test_the_second_look_is_served_rendered_and_identical(client, agency, count_queries):
    first = table(client)
    assert "Boulangerie Dupont" in first and "1 h 30" in first
    with count_queries() as again:
        second = table(client)
    assert second == first
    assert not [s for s in again.statements if "FROM time_entry" in s or "FROM contract_terms" in s]


CHANGES = {
    "an entry added": (
        "INSERT INTO time_entry (client_id, contract_id, cm_id, day, minutes, activity_id, note)"
        " SELECT client_id, contract_id, cm_id, day, 45, activity_id, '' FROM time_entry LIMIT 1",
        "2 h 15",
    ),
    "an entry changed": ("UPDATE time_entry SET minutes = 240", "4 h"),
    "an entry deleted": ("DELETE FROM time_entry", "0 min"),
    "a contract renamed": ("UPDATE contract SET title = 'Stratégie TikTok'", "Stratégie TikTok"),
    "a client renamed": ("UPDATE client SET name = 'Pâtisserie Dupont'", "Pâtisserie Dupont"),
    "terms changed": ("UPDATE contract_terms SET budget_ceiling = 999.00", "999,00"),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_any_change_it_shows_is_shown_at_once(client, agency, db, change):
    statement, shown = CHANGES[change]
    before = table(client)
    assert shown not in before
    stamp = budget_cache.budget_stamp()
    db.session.execute(sql(statement))  # past the app: the database moves the stamp itself
    db.session.commit()
    assert budget_cache.budget_stamp() > stamp
    assert shown in table(client)


def test_an_archived_client_leaves_the_table(client, agency, db):
    assert "Boulangerie Dupont" in table(client)
    db.session.execute(sql("UPDATE client SET archived_at = CURRENT_TIMESTAMP"))
    db.session.commit()
    assert "Boulangerie Dupont" not in table(client)


def test_each_language_and_each_day_has_its_own_table(client, agency, db, monkeypatch):
    french = table(client)
    db.session.execute(sql("UPDATE user_account SET locale = 'en' WHERE role = 'lead'"))
    db.session.commit()
    english = table(client)
    assert english != french and "Boulangerie Dupont" in english

    tomorrow = today() + timedelta(days=1)
    rendered = []
    real = budget_cache._render

    def counting(month):
        rendered.append(month)
        return real(month)

    monkeypatch.setattr(budget_cache, "_render", counting)
    table(client)
    assert rendered == []  # same day, same language: kept
    monkeypatch.setattr(budget_cache, "today", lambda: tomorrow)
    table(client)
    assert len(rendered) == 1


def test_the_stamps_only_grow_and_every_client_has_one(agency, db):
    counts = db.session.execute(sql("SELECT count(*), min(version) FROM budget_stamp")).one()
    assert counts[0] >= 1 and counts[1] >= 1
    new = make_client("Fromagerie Martin")
    db.session.flush()
    assert (
        db.session.execute(sql(f"SELECT version FROM budget_stamp WHERE client_id = {new.id}")).scalar() == 1
    )
    with pytest.raises(Exception, match="budget_stamp"), db.session.begin_nested():
        db.session.execute(sql("UPDATE budget_stamp SET version = 0"))
