"""The CM's "Mes clients"."""

from datetime import date, timedelta

from app.timeutil import today, utcnow
from tests.clients.conftest import page_text
from tests.factories import assign, make_client, make_client_user, make_cm, make_lead


def test_cm_sees_only_the_clients_it_serves_with_since_and_contacts(client, login_as, db):
    cm, colleague = make_cm(), make_cm()
    mine = make_client("Fromagerie Martin", city="Lyon")
    make_client_user(mine)
    assign(cm, mine, since=date(2024, 3, 4))
    theirs = make_client("Garage Leroy")
    assign(colleague, theirs)
    ended = make_client("Ancien Client")
    assign(cm, ended, since=date(2020, 1, 1), until=today() - timedelta(days=1))
    archived = make_client("Archivé SAS", archived_at=utcnow())
    assign(cm, archived)
    login_as(cm)
    response = client.get("/my-clients")
    assert response.status_code == 200
    body = page_text(response)
    assert "Fromagerie Martin" in body
    assert "Lyon" in body and "1 contact" in body and "depuis le 4 mars 2024" in body
    for hidden in ("Garage Leroy", "Ancien Client", "Archivé SAS"):
        assert hidden not in body


def test_empty_state_when_the_cm_serves_nobody(client, login_as, db):
    login_as(make_cm())
    body = page_text(client.get("/my-clients"))
    assert "Aucun client ne vous est affecté pour l'instant." in body


def test_my_clients_is_for_cms(client, login_as, db):
    login_as(make_lead())
    assert client.get("/my-clients").status_code == 403
    login_as(make_client_user(make_client()))
    assert client.get("/my-clients").status_code == 403


def test_a_cm_lands_on_its_day_and_reaches_its_clients_from_the_menu(client, login_as, db):
    login_as(make_cm())
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/time")
    assert 'href="/my-clients"' in client.get("/time").get_data(as_text=True)
