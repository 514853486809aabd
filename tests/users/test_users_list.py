"""The lead's list of accounts: filters, search, pagination, companies and
invitation dates; and who may see it."""

from datetime import UTC, datetime

from app.auth.models import User
from tests.auth.conftest import page_text
from tests.factories import make_client, make_client_user, make_cm, make_lead


def names_in(body: str, *names: str) -> list[str]:
    """The names listed in the table (not the one in the top bar), in order."""
    if "<tbody>" not in body:
        return []
    rows = body[body.index("<tbody>") : body.index("</tbody>")]
    found = [n for n in names if n in rows]
    return sorted(found, key=rows.index)


def world(db):
    lead = make_lead(name="Marc Dubois")
    make_cm(name="Léa Martin", email="lea@agence.example")
    make_cm(name="Paul Ancien", active=False)
    pending = make_cm(name="Nina Nouvelle", pending=True)
    db.session.get(User, pending.id).invited_at = datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
    dupont = make_client("Boulangerie Dupont")
    make_client_user(dupont, name="Sophie Dupont")
    db.session.flush()
    return lead


ALL = ("Marc Dubois", "Léa Martin", "Paul Ancien", "Nina Nouvelle", "Sophie Dupont")


def test_list_shows_every_account_with_role_company_and_invitation_date(client, login_as, db):
    login_as(world(db))
    response = client.get("/users")
    assert response.status_code == 200
    body = page_text(response)
    # By name, deactivated accounts last.
    assert names_in(body, *ALL) == [
        "Léa Martin",
        "Marc Dubois",
        "Nina Nouvelle",
        "Sophie Dupont",
        "Paul Ancien",
    ]
    assert "Boulangerie Dupont" in body
    assert "Invitation envoyée le 14 mars 2026" in body
    assert "Désactivé" in body and "Responsable d'agence" in body and "Contact client" in body


def test_filter_by_role(client, login_as, db):
    login_as(world(db))
    body = page_text(client.get("/users?role=cm"))
    assert names_in(body, *ALL) == ["Léa Martin", "Nina Nouvelle", "Paul Ancien"]
    body = page_text(client.get("/users?role=client"))
    assert names_in(body, *ALL) == ["Sophie Dupont"]


def test_filter_by_status(client, login_as, db):
    login_as(world(db))
    assert names_in(page_text(client.get("/users?status=pending")), *ALL) == ["Nina Nouvelle"]
    assert names_in(page_text(client.get("/users?status=deactivated")), *ALL) == ["Paul Ancien"]
    active = names_in(page_text(client.get("/users?status=active")), *ALL)
    assert sorted(active) == sorted(["Marc Dubois", "Léa Martin", "Sophie Dupont"])


def test_search_by_name_address_or_company(client, login_as, db):
    login_as(world(db))
    assert names_in(page_text(client.get("/users?q=martin")), *ALL) == ["Léa Martin"]
    assert names_in(page_text(client.get("/users?q=LEA@agence")), *ALL) == ["Léa Martin"]
    assert names_in(page_text(client.get("/users?q=boulangerie")), *ALL) == ["Sophie Dupont"]
    assert names_in(page_text(client.get("/users?q=%25")), *ALL) == []  # % is a character, not a wildcard


def test_filters_with_no_result_show_an_empty_state(client, login_as, db):
    login_as(world(db))
    body = page_text(client.get("/users?q=introuvable&role=lead"))
    assert "Aucun compte ne correspond à cette recherche." in body
    assert "Effacer les filtres" in body


def test_unknown_filter_values_are_ignored(client, login_as, db):
    login_as(world(db))
    body = page_text(client.get("/users?role=boss&status=zombie"))
    assert sorted(names_in(body, *ALL)) == sorted(ALL)


def test_list_is_paginated(client, login_as, db, set_config):
    login_as(make_lead(name="Aa Lead"))
    for n in range(4):
        make_cm(name=f"Cm {n}")
    set_config(PER_PAGE=2)
    first = page_text(client.get("/users?role=cm"))
    assert "Page 1 sur 2" in first and names_in(first, "Cm 0", "Cm 1", "Cm 2", "Cm 3") == ["Cm 0", "Cm 1"]
    assert "page=2" in first and "role=cm" in first
    second = page_text(client.get("/users?role=cm&page=2"))
    assert names_in(second, "Cm 0", "Cm 1", "Cm 2", "Cm 3") == ["Cm 2", "Cm 3"]


def test_list_takes_a_fixed_number_of_queries(client, login_as, db, count_queries):
    lead = make_lead()
    for n in range(6):
        make_client_user(make_client(f"Client {n}"))
    login_as(lead)
    with count_queries() as few:
        client.get("/users")
    for n in range(6):
        make_client_user(make_client(f"Autre {n}"))
    with count_queries() as more:
        client.get("/users")
    assert more.count == few.count


def test_cm_and_client_users_get_403_on_the_list_and_invite_pages(client, login_as, db):
    cm = make_cm()
    login_as(cm)
    assert client.get("/users").status_code == 403
    assert client.get("/users/invite").status_code == 403
    assert (
        client.post("/users/invite", data={"name": "X", "email": "x@y.example", "role": "lead"}).status_code
        == 403
    )
    login_as(make_client_user(make_client()))
    assert client.get("/users").status_code == 403


def test_anonymous_visitors_are_sent_to_login(client, db):
    assert client.get("/users").headers["Location"].startswith("/login")
