import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.timesheets.models import TimeEntry
from app.timesheets.services import lock_month
from app.timeutil import today
from tests.factories import activity, assign, make_client, make_cm, make_contract, make_entry, make_lead


@pytest.fixture
def cm_setup(db):
    cm = make_cm(name="Léa Martin")
    client = make_client("Boulangerie Dupont")
    assign(cm, client)
    contract = make_contract(client, start=date(2026, 1, 1))
    other = make_contract(make_client("Garage Leroy"), start=date(2026, 1, 1))
    return cm, client, contract, other


def entries_count(db):
    return db.session.scalar(select(func.count()).select_from(TimeEntry))


def test_day_view_offers_only_the_cms_contracts_and_remembers_the_last_choice(client, login_as, cm_setup, db):
    cm, _client, contract, other = cm_setup
    login_as(cm)
    body = client.get("/time").get_data(as_text=True)
    assert "Boulangerie Dupont" in body
    assert "Garage Leroy" not in body
    response = client.post(
        "/time",
        data={
            "day": today().isoformat(),
            "contract": contract.id,
            "duration": "1h30",
            "activity": activity("Création de contenu").id,
            "channel": "instagram",
            "note": "3 posts de la semaine",
        },
    )
    assert response.status_code == 302
    body = client.get("/time").get_data(as_text=True)
    assert "1 h 30" in body
    assert "3 posts de la semaine" in body
    assert f'<option selected value="{contract.id}">' in body
    assert f'<option selected value="{activity("Création de contenu").id}">' in body


def test_posting_on_another_clients_contract_saves_nothing(client, login_as, cm_setup, db):
    cm, _client, _contract, other = cm_setup
    login_as(cm)
    response = client.post(
        "/time",
        data={"day": today().isoformat(), "contract": other.id, "duration": "1h", "activity": activity().id},
    )
    assert response.status_code == 200
    assert "Garage Leroy" not in response.get_data(as_text=True)
    assert entries_count(db) == 0


def test_an_unreadable_duration_gets_a_clear_message(client, login_as, cm_setup, db):
    cm, _client, contract, _other = cm_setup
    login_as(cm)
    response = client.post(
        "/time",
        data={
            "day": today().isoformat(),
            "contract": contract.id,
            "duration": "beaucoup",
            "activity": activity().id,
        },
    )
    assert "Durée illisible" in response.get_data(as_text=True)
    assert entries_count(db) == 0


def test_week_grid_fills_a_week_in_one_go_all_or_nothing(client, login_as, cm_setup, db):
    cm, _client, contract, _other = cm_setup
    monday = date(2026, 10, 12)
    login_as(cm)
    page = client.get(f"/time/week?start={monday.isoformat()}").get_data(as_text=True)
    assert f"cell-{contract.id}-2026-10-12" in page
    bad = {f"cell-{contract.id}-2026-10-12": "1h30", f"cell-{contract.id}-2026-10-13": "n'importe quoi"}
    response = client.post(f"/time/week?start={monday.isoformat()}", data=bad)
    assert "Durée illisible" in response.get_data(as_text=True)
    assert entries_count(db) == 0
    good = {f"cell-{contract.id}-2026-10-{d}": "1h" for d in (12, 13, 14, 15, 16)}
    good[f"activity-{contract.id}"] = str(activity("Modération").id)
    assert client.post(f"/time/week?start={monday.isoformat()}", data=good).status_code == 302
    assert entries_count(db) == 5
    # Changing a cell updates its entry; clearing it deletes it.
    good[f"cell-{contract.id}-2026-10-12"] = "2h"
    good[f"cell-{contract.id}-2026-10-16"] = ""
    client.post(f"/time/week?start={monday.isoformat()}", data=good)
    minutes = dict(db.session.execute(select(TimeEntry.day, TimeEntry.minutes)).all())
    assert minutes[date(2026, 10, 12)] == 120
    assert date(2026, 10, 16) not in minutes


def test_a_cm_cannot_open_another_cms_entry(client, login_as, cm_setup, db):
    cm, client_, contract, _other = cm_setup
    colleague = make_cm()
    assign(colleague, client_)
    entry = make_entry(contract, colleague, date(2026, 10, 12), 60)
    login_as(cm)
    assert client.get(f"/clients/{client_.id}/time/{entry.id}/edit").status_code == 404
    assert client.post(f"/clients/{client_.id}/time/{entry.id}/delete").status_code == 404
    assert entries_count(db) == 1


def test_an_entry_is_fetched_through_its_client(client, login_as, cm_setup, db):
    cm, client_, contract, other = cm_setup
    entry = make_entry(contract, cm, date(2026, 10, 12), 60)
    lead = make_lead()
    login_as(lead)
    assert client.get(f"/clients/{other.client_id}/time/{entry.id}/edit").status_code == 404
    assert client.get(f"/clients/{client_.id}/time/{entry.id}/edit").status_code == 200


def test_a_closed_month_refuses_edits_from_the_pages(client, login_as, cm_setup, db):
    cm, client_, contract, _other = cm_setup
    entry = make_entry(contract, cm, date(2026, 10, 12), 60)
    lock_month(make_lead(), contract, date(2026, 10, 1))
    login_as(cm)
    response = client.post(f"/clients/{client_.id}/time/{entry.id}/delete", follow_redirects=True)
    assert "clôturé" in response.get_data(as_text=True)
    response = client.post(
        f"/clients/{client_.id}/time/{entry.id}/edit",
        data={"day": "2026-10-12", "duration": "2h", "activity": entry.activity_id},
    )
    assert "clôturé" in response.get_data(as_text=True)
    db.session.refresh(entry)
    assert entry.minutes == 60


def test_lead_filters_entries_and_exports_csv_for_french_excel(client, login_as, cm_setup, db):
    cm, client_, contract, other = cm_setup
    make_entry(contract, cm, date(2026, 10, 12), 90, channel="instagram")
    entry = make_entry(other, make_cm(name="Paul"), date(2026, 10, 13), 30)
    entry.note = '=HYPERLINK("http://evil")'
    db.session.flush()
    login_as(make_lead())
    page = client.get(f"/time/entries?client={client_.id}&start=2026-10-01&end=2026-10-31").get_data(
        as_text=True
    )
    assert "1 h 30" in page and "30 min" not in page
    response = client.get("/time/entries.csv?start=2026-10-01&end=2026-10-31")
    assert response.headers["Content-Type"].startswith("text/csv")
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Date"
    by_client = {row[1]: row for row in rows[1:]}
    assert by_client["Boulangerie Dupont"][7] == "1,50"
    assert by_client["Garage Leroy"][8].startswith("'=")


def test_entries_list_and_close_month_are_for_leads_only(client, login_as, cm_setup):
    cm = cm_setup[0]
    login_as(cm)
    assert client.get("/time/entries").status_code == 403
    assert client.get("/time/entries.csv").status_code == 403
    assert client.post("/time/close", data={"month": "2026-10"}).status_code == 403


def test_lead_closes_a_month_for_all_contracts(client, login_as, cm_setup, db):
    cm, client_, contract, other = cm_setup
    from app.reports.models import Report
    from app.timesheets.models import MonthLock

    login_as(make_lead())
    response = client.post("/time/close", data={"month": "2026-10"})
    assert response.headers["Location"].endswith("/time/close/2026-10")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Clôture du mois : octobre 2026" in page
    assert "Tous les rapports du mois sont prêts" in page  # rendered in-process at commit
    assert db.session.scalar(select(func.count()).select_from(MonthLock)) == 2
    assert db.session.scalar(select(func.count()).select_from(Report)) == 2
    status = client.get("/time/close/2026-10/status").get_json()
    assert status["finished"] is True and status["fields"]["done"] == "2"
    assert client.post("/time/close", data={"month": "2099-01"}).status_code == 200  # not begun: refused
    login_as(cm)
    response = client.post(
        "/time?day=2026-10-12",
        data={"day": "2026-10-12", "contract": contract.id, "duration": "1h", "activity": activity().id},
    )
    assert "clôturé" in response.get_data(as_text=True)
    assert entries_count(db) == 0


def test_future_days_are_refused(client, login_as, cm_setup, db):
    cm, _client, contract, _other = cm_setup
    login_as(cm)
    tomorrow = today() + timedelta(days=1)
    response = client.post(
        f"/time?day={tomorrow.isoformat()}",
        data={
            "day": tomorrow.isoformat(),
            "contract": contract.id,
            "duration": "1h",
            "activity": activity().id,
        },
    )
    assert "futur" in response.get_data(as_text=True)
    assert entries_count(db) == 0


def test_lead_manages_the_list_of_activities(client, login_as, db):
    from app.timesheets.models import Activity

    login_as(make_lead())
    assert client.post("/time/activities", data={"label": "Veille concurrentielle"}).status_code == 302
    body = client.post("/time/activities", data={"label": "veille  concurrentielle"}).get_data(as_text=True)
    assert "existe déjà" in body
    veille = db.session.scalar(select(Activity).where(Activity.label == "Veille concurrentielle"))
    client.post(f"/time/activities/{veille.id}/retire")
    db.session.refresh(veille)
    assert veille.active is False


def test_a_retired_activity_is_no_longer_offered(client, login_as, cm_setup, db):
    cm, _client, contract, _other = cm_setup
    retired = activity("Publicité")
    retired.active = False
    db.session.flush()
    login_as(cm)
    assert "Publicité" not in client.get("/time").get_data(as_text=True)
    response = client.post(
        "/time",
        data={"day": today().isoformat(), "contract": contract.id, "duration": "1h", "activity": retired.id},
    )
    assert response.status_code == 200
    assert entries_count(db) == 0
