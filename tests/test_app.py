from sqlalchemy import select

from app.access import visible_clients
from app.extensions import db as _db
from tests.factories import assign, make_client, make_client_user, make_cm, make_lead


def test_login_page_renders_in_french(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Connexion" in response.get_data(as_text=True)


def test_pages_need_login(client):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_each_role_sees_its_clients(db):
    lead, cm = make_lead(), make_cm()
    a, b = make_client("A"), make_client("B")
    assign(cm, a)
    member = make_client_user(b)
    names = lambda u: sorted(c.name for c in _db.session.scalars(visible_clients(u)))  # noqa: E731
    assert names(lead) == ["A", "B"]
    assert names(cm) == ["A"]
    assert names(member) == ["B"]


def test_rollback_isolates_tests_first(db):
    make_client("Isolated")
    db.session.commit()


def test_rollback_isolates_tests_second(db):
    from app.clients.models import Client

    assert db.session.scalar(select(Client).where(Client.name == "Isolated")) is None


def test_client_page_of_an_invisible_client_is_404(client, login_as, db):
    cm = make_cm()
    other = make_client("Secret SARL")
    login_as(cm)
    response = client.get(f"/clients/{other.id}")
    assert response.status_code == 404
    assert "Secret SARL" not in response.get_data(as_text=True)
