"""Creating, editing, archiving a client (lead), with the audit log."""

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.clients.models import Client
from tests.clients.conftest import page_text
from tests.factories import assign, make_client, make_client_user, make_cm, make_group, make_lead

VALID = {
    "name": "Boulangerie Dupont",
    "siren": "552 032 534",
    "vat_number": "FR 27 552 032 534",
    "address_line": "3 rue Royale",
    "postal_code": "74000",
    "city": "Annecy",
    "country_code": "FR",
    "billing_email": "Compta@Dupont.example",
    "competitor_group": "",
    "internal_notes": "Payeur lent, relancer le 5.",
}


def audit(db, action, client_id=None):
    stmt = select(AuditEntry).where(AuditEntry.action == action)
    if client_id is not None:
        stmt = stmt.where(AuditEntry.client_id == client_id)
    return list(db.session.scalars(stmt))


def test_lead_creates_a_client_normalised_and_audited(client, login_as, db):
    lead = make_lead()
    group = make_group("Boulangeries d'Annecy")
    login_as(lead)
    response = client.post("/clients/new", data={**VALID, "competitor_group": str(group.id)})
    created = db.session.scalar(select(Client).where(Client.name == "Boulangerie Dupont"))
    assert created is not None
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/clients/{created.id}")
    assert created.siren == "552032534"
    assert created.vat_number == "FR27552032534"
    assert created.billing_email == "compta@dupont.example"
    assert created.competitor_group_id == group.id
    assert created.internal_notes == "Payeur lent, relancer le 5."
    [entry] = audit(db, "client.created", created.id)
    assert entry.actor_id == lead.id and entry.object_id == created.id
    follow = client.get(response.headers["Location"])
    assert "Le client « Boulangerie Dupont » a été créé." in page_text(follow)


@pytest.mark.parametrize("name", ["  ", "\u200b\u202e\u2060"], ids=["blank", "invisible characters only"])
def test_name_is_required(client, login_as, db, name):
    login_as(make_lead())
    response = client.post("/clients/new", data={**VALID, "name": name})
    assert response.status_code == 200
    assert "Indiquez le nom de l'entreprise." in page_text(response)
    assert db.session.scalar(select(Client.id)) is None


def test_a_siren_with_a_wrong_key_is_refused_with_a_clear_message(client, login_as, db):
    login_as(make_lead())
    response = client.post("/clients/new", data={**VALID, "siren": "552 032 535", "vat_number": ""})
    assert response.status_code == 200
    assert "Ce SIREN n'est pas valide : sa clé de contrôle ne correspond pas." in page_text(response)
    assert db.session.scalar(select(Client.id)) is None


def test_a_siren_must_have_nine_digits(client, login_as, db):
    login_as(make_lead())
    response = client.post("/clients/new", data={**VALID, "siren": "55203253", "vat_number": ""})
    assert "Le SIREN compte exactement 9 chiffres." in page_text(response)
    assert db.session.scalar(select(Client.id)) is None


def test_a_vat_number_of_another_siren_is_refused(client, login_as, db):
    login_as(make_lead())
    response = client.post("/clients/new", data={**VALID, "vat_number": "FR59542051180"})
    assert (
        "Ce numéro de TVA ne correspond pas au SIREN indiqué : pour ce SIREN, c'est FR27552032534."
        in page_text(response)
    )
    assert db.session.scalar(select(Client.id)) is None


def test_a_vat_number_with_a_wrong_key_is_refused(client, login_as, db):
    login_as(make_lead())
    response = client.post("/clients/new", data={**VALID, "vat_number": "FR28552032534"})
    assert "La clé de ce numéro de TVA" in page_text(response)
    assert db.session.scalar(select(Client.id)) is None


def test_a_french_postal_code_has_five_digits_a_belgian_one_need_not(client, login_as, db):
    login_as(make_lead())
    response = client.post("/clients/new", data={**VALID, "postal_code": "7400"})
    assert "Un code postal français compte 5 chiffres." in page_text(response)
    assert db.session.scalar(select(Client.id)) is None
    data = {**VALID, "postal_code": "1000", "city": "Bruxelles", "country_code": "BE", "vat_number": ""}
    response = client.post("/clients/new", data=data)
    assert response.status_code == 302
    assert db.session.scalar(select(Client.country_code)) == "BE"


def test_a_siren_already_used_by_another_client_is_refused(client, login_as, db):
    make_client("Ancienne fiche", siren="552032534")
    login_as(make_lead())
    response = client.post("/clients/new", data=VALID)
    assert response.status_code == 200
    assert "Un autre client a déjà ce SIREN." in page_text(response)
    assert db.session.scalar(select(Client.id).where(Client.name == "Boulangerie Dupont")) is None


def test_edit_saves_and_audits_what_changed_without_the_notes_text(client, login_as, db):
    lead = make_lead()
    target = make_client("Fromagerie Martin", city="Lyon", internal_notes="ancienne note")
    login_as(lead)
    form = client.get(f"/clients/{target.id}/edit")
    assert form.status_code == 200
    assert 'value="Fromagerie Martin"' in form.get_data(as_text=True)
    data = {**VALID, "name": "Fromagerie Martin", "siren": "", "vat_number": "", "internal_notes": "secret"}
    response = client.post(f"/clients/{target.id}/edit", data=data)
    assert response.status_code == 302
    db.session.refresh(target)
    assert target.city == "Annecy" and target.internal_notes == "secret"
    [entry] = audit(db, "client.updated", target.id)
    assert entry.data["changes"]["city"] == {"from": "Lyon", "to": "Annecy"}
    assert entry.data["changes"]["internal_notes"] is True
    assert "secret" not in str(entry.data) and "ancienne note" not in str(entry.data)


def test_edit_refuses_to_put_a_client_in_a_group_where_its_cm_serves_a_competitor(client, login_as, db):
    lead, cm = make_lead(name="Marc"), make_cm(name="Léa Martin")
    group = make_group("Boulangeries")
    rival = make_client("Boulangerie Dupont", group=group)
    target = make_client("Pâtisserie Rose")
    assign(cm, rival)
    assign(cm, target)
    login_as(lead)
    data = {
        **VALID,
        "name": "Pâtisserie Rose",
        "siren": "",
        "vat_number": "",
        "competitor_group": str(group.id),
    }
    response = client.post(f"/clients/{target.id}/edit", data=data)
    assert response.status_code == 200
    assert "Léa Martin sert aussi Boulangerie Dupont" in page_text(response)
    db.session.refresh(target)
    assert target.competitor_group_id is None
    assert audit(db, "client.updated") == []


def test_archive_hides_from_default_list_and_from_cms_and_deletes_nothing(client, login_as, db):
    lead, cm = make_lead(), make_cm()
    target = make_client("Garage Leroy")
    member = make_client_user(target)
    assign(cm, target)
    login_as(cm)
    assert client.get(f"/clients/{target.id}").status_code == 200

    login_as(lead)
    response = client.post(f"/clients/{target.id}/archive", follow_redirects=True)
    assert response.status_code == 200
    assert "« Garage Leroy » est archivé : les CM ne le voient plus." in page_text(response)
    db.session.refresh(target)
    assert target.archived_at is not None
    assert len(target.assignments) == 1 and len(target.members) == 1
    assert audit(db, "client.archived", target.id)
    assert "Garage Leroy" not in page_text(client.get("/clients"))
    assert "Garage Leroy" in page_text(client.get("/clients?status=archived"))

    login_as(cm)
    assert client.get(f"/clients/{target.id}").status_code == 404
    assert "Garage Leroy" not in page_text(client.get("/my-clients"))
    # The client's own users still reach their space.
    login_as(member)
    assert client.get(f"/clients/{target.id}").status_code == 302


def test_unarchive_brings_the_client_back(client, login_as, db):
    from app.timeutil import utcnow

    lead = make_lead()
    target = make_client("Garage Leroy", archived_at=utcnow())
    login_as(lead)
    response = client.post(f"/clients/{target.id}/unarchive")
    assert response.status_code == 302
    db.session.refresh(target)
    assert target.archived_at is None
    assert audit(db, "client.unarchived", target.id)
    assert "Garage Leroy" in page_text(client.get("/clients"))


def test_archive_is_a_post_only(client, login_as, db):
    target = make_client()
    login_as(make_lead())
    assert client.get(f"/clients/{target.id}/archive").status_code == 405


def test_archive_without_csrf_token_is_refused(client, login_as, db, csrf_enabled):
    target = make_client()
    login_as(make_lead())
    response = client.post(f"/clients/{target.id}/archive")
    assert response.status_code == 400
    db.session.refresh(target)
    assert target.archived_at is None


def test_a_cm_may_not_edit_or_archive_a_client_it_serves(client, login_as, db):
    cm = make_cm()
    target = make_client("Fromagerie Martin")
    assign(cm, target)
    login_as(cm)
    assert client.get("/clients").status_code == 403
    assert client.get("/clients/new").status_code == 403
    assert client.get(f"/clients/{target.id}/edit").status_code == 403
    assert client.post(f"/clients/{target.id}/archive").status_code == 403
    db.session.refresh(target)
    assert target.archived_at is None


def test_a_client_user_may_not_edit_its_own_company(client, login_as, db):
    target = make_client()
    login_as(make_client_user(target))
    assert client.get(f"/clients/{target.id}/edit").status_code == 403
    assert client.post(f"/clients/{target.id}/archive").status_code == 403


def test_invisible_and_reordering_characters_are_dropped_from_a_name(client, login_as, db):
    login_as(make_lead())
    spoofed = "\u202eBoulangerie\u200b Dupont\ufeff\u2066"
    client.post("/clients/new", data={**VALID, "name": spoofed, "internal_notes": "a\u200dé"})
    created = db.session.scalar(select(Client))
    assert created.name == "Boulangerie Dupont"
    assert created.internal_notes == "a\u200dé"  # a joiner of scripts and emoji stays

