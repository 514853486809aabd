"""Competitor groups: agency-level, leads only."""

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.clients.models import CompetitorGroup
from tests.clients.conftest import page_text
from tests.factories import assign, make_client, make_client_user, make_cm, make_group, make_lead


def test_lead_lists_and_creates_groups(client, login_as, db):
    login_as(make_lead())
    body = page_text(client.get("/competitor-groups"))
    assert "Aucun groupe pour l'instant." in body
    response = client.post(
        "/competitor-groups",
        data={"name": " Boulangeries d'Annecy ", "description": "Centre-ville"},
        follow_redirects=True,
    )
    body = page_text(response)
    assert "Le groupe « Boulangeries d'Annecy » a été créé." in body
    group = db.session.scalar(select(CompetitorGroup))
    assert group.name == "Boulangeries d'Annecy"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "competitor_group.created"))


def test_group_list_shows_members(client, login_as, db):
    group = make_group("Garages")
    make_client("Garage Leroy", group=group)
    make_client("Garage Martin", group=group)
    login_as(make_lead())
    body = page_text(client.get("/competitor-groups"))
    assert "Garage Leroy" in body and "Garage Martin" in body


def test_a_duplicate_group_name_is_refused_whatever_its_case(client, login_as, db):
    make_group("Garages")
    login_as(make_lead())
    response = client.post("/competitor-groups", data={"name": "GARAGES"})
    assert response.status_code == 200
    assert "Un groupe porte déjà ce nom." in page_text(response)
    response = client.post("/competitor-groups", data={"name": ""})
    assert "Indiquez le nom du groupe." in page_text(response)
    assert len(db.session.scalars(select(CompetitorGroup)).all()) == 1


def test_lead_edits_a_group(client, login_as, db):
    group = make_group("Garages")
    login_as(make_lead())
    assert client.get(f"/competitor-groups/{group.id}/edit").status_code == 200
    response = client.post(
        f"/competitor-groups/{group.id}/edit", data={"name": "Garages de Lyon", "description": ""}
    )
    assert response.status_code == 302
    db.session.refresh(group)
    assert group.name == "Garages de Lyon"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "competitor_group.updated"))


def test_only_an_empty_group_can_be_deleted(client, login_as, db):
    full, empty = make_group("Pleine"), make_group("Vide")
    full_id, empty_id = full.id, empty.id
    make_client("Garage Leroy", group=full)
    login_as(make_lead())
    response = client.post(f"/competitor-groups/{full_id}/delete", follow_redirects=True)
    assert "Ce groupe compte encore 1 client" in page_text(response)
    response = client.post(f"/competitor-groups/{empty_id}/delete", follow_redirects=True)
    assert "Le groupe « Vide » a été supprimé." in page_text(response)
    remaining = db.session.scalars(select(CompetitorGroup.id)).all()
    assert remaining == [full_id]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "competitor_group.deleted"))


def test_edit_page_offers_deletion_only_for_an_empty_group(client, login_as, db):
    full, empty = make_group("Pleine"), make_group("Vide")
    make_client("Garage Leroy", group=full)
    login_as(make_lead())
    assert "Supprimer le groupe" not in page_text(client.get(f"/competitor-groups/{full.id}/edit"))
    assert "Supprimer le groupe" in page_text(client.get(f"/competitor-groups/{empty.id}/edit"))


def test_non_leads_get_403_on_the_list_and_404_on_a_group(client, login_as, db):
    group = make_group("Garages")
    target = make_client(group=group)
    cm = make_cm()
    assign(cm, target)
    for user in (cm, make_client_user(target)):
        login_as(user)
        assert client.get("/competitor-groups").status_code == 403
        assert client.post("/competitor-groups", data={"name": "Intrus"}).status_code == 403
        assert client.get(f"/competitor-groups/{group.id}/edit").status_code == 404
        assert client.post(f"/competitor-groups/{group.id}/edit", data={"name": "X"}).status_code == 404
        assert client.post(f"/competitor-groups/{group.id}/delete").status_code == 404
    db.session.refresh(group)
    assert group.name == "Garages"
    assert db.session.scalar(select(CompetitorGroup).where(CompetitorGroup.name == "Intrus")) is None


def test_unknown_group_is_404(client, login_as, db):
    login_as(make_lead())
    assert client.get("/competitor-groups/999999/edit").status_code == 404
