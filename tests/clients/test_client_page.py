"""A client's page: the lead's full view, the CM's read-only view, the
client user's redirect, and the logo route."""

from datetime import date, timedelta

from app.clients.assignments import assign_cm
from app.clients.models import ClientMember
from app.timeutil import today, utcnow
from tests.clients.conftest import page_text
from tests.factories import assign, make_client, make_client_user, make_cm, make_group, make_lead


def bakery_world(db):
    """Two competing bakeries served by one CM through a recorded override."""
    lead = make_lead(name="Marc Dubois")
    lea = make_cm(name="Léa Martin")
    group = make_group("Boulangeries d'Annecy")
    dupont = make_client(
        "Boulangerie Dupont",
        group=group,
        address_line="3 rue Royale",
        postal_code="74000",
        city="Annecy",
        siren="552032534",
        internal_notes="Payeur lent, relancer le 5.",
    )
    rose = make_client("Pâtisserie Rose", group=group, city="Annecy")
    assign(lea, dupont)
    assign_cm(
        lead, rose, lea, date(2021, 1, 1), override_reason="Clientèles distinctes, accord des deux gérants."
    )
    return lead, lea, group, dupont, rose


def test_lead_sees_identity_contacts_cms_group_notes_and_overrides(client, login_as, db):
    lead, lea, group, dupont, rose = bakery_world(db)
    sophie = make_client_user(dupont, name="Sophie Dupont", email="sophie@dupont.example")
    db.session.get(ClientMember, dupont.members[0].id).job_title = "Gérante"
    make_client_user(dupont, name="Invité Attente", pending=True)
    make_client_user(dupont, name="Ancien Contact", active=False)
    old = make_cm(name="Paul Ancien")
    assign(old, dupont, since=date(2020, 1, 1), until=date(2020, 12, 31))
    db.session.flush()
    login_as(lead)
    response = client.get(f"/clients/{dupont.id}")
    assert response.status_code == 200
    body = page_text(response)
    for expected in (
        "552 032 534",
        "3 rue Royale",
        "74000 Annecy",
        "Payeur lent, relancer le 5.",
        sophie.email,
        "Gérante",
        "Invitation en attente",
        "Désactivé",
        "Léa Martin",
        "Paul Ancien",
        "Boulangeries d'Annecy",
        "Pâtisserie Rose",
        "Clientèles distinctes, accord des deux gérants.",
        "Marc Dubois",
    ):
        assert expected in body, expected
    assert f"/users/invite?role=client&client_id={dupont.id}" in body or (
        f"/users/invite?client_id={dupont.id}&role=client" in body
    )


def test_overrides_show_on_both_clients_pages_to_the_lead(client, login_as, db):
    lead, lea, group, dupont, rose = bakery_world(db)
    login_as(lead)
    for target, other in ((dupont, rose), (rose, dupont)):
        body = page_text(client.get(f"/clients/{target.id}"))
        section = body[body.index("Dérogations au mur éthique") :]
        assert "Clientèles distinctes, accord des deux gérants." in section
        assert "Léa Martin" in section and other.name in section


def test_cm_page_is_read_only_and_hides_notes_overrides_and_competitors(client, login_as, db):
    lead, lea, group, dupont, rose = bakery_world(db)
    member = make_client_user(dupont, name="Sophie Dupont", email="sophie@dupont.example")
    db.session.get(ClientMember, dupont.members[0].id).job_title = "Gérante"
    db.session.flush()
    login_as(lea)
    response = client.get(f"/clients/{dupont.id}")
    assert response.status_code == 200
    body = page_text(response)
    for expected in (
        "Boulangerie Dupont",
        "3 rue Royale",
        "74000 Annecy",
        "Sophie Dupont",
        "Gérante",
        member.email,
    ):
        assert expected in body, expected
    assert "Léa Martin" in body  # the CMs serving it
    for secret in (
        "Payeur lent",
        "Notes internes",
        "Clientèles distinctes",
        "Dérogation",
        "Boulangeries d'Annecy",
        "Pâtisserie Rose",
        "552 032 534",
        "/edit",
        "/archive",
    ):
        assert secret not in body, secret


def test_cm_gets_404_on_a_client_it_does_not_serve_and_on_an_archived_one(client, login_as, db):
    cm = make_cm()
    served = make_client("Servi SARL")
    other = make_client("Secret SARL")
    archived = make_client("Archivé SAS", archived_at=utcnow())
    assign(cm, served)
    assign(cm, archived)
    login_as(cm)
    assert client.get(f"/clients/{served.id}").status_code == 200
    for target in (other, archived):
        response = client.get(f"/clients/{target.id}")
        assert response.status_code == 404
        assert target.name not in page_text(response)


def test_a_cm_whose_assignment_starts_later_does_not_see_the_client_yet(client, login_as, db):
    cm = make_cm()
    target = make_client()
    assign(cm, target, since=today() + timedelta(days=3))
    login_as(cm)
    assert client.get(f"/clients/{target.id}").status_code == 404


def test_client_user_is_sent_to_its_portal_and_never_sees_another_client(client, login_as, db):
    own, other = make_client("Ma Société"), make_client("Autre Société")
    login_as(make_client_user(own))
    response = client.get(f"/clients/{own.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/clients/{own.id}/portal")
    response = client.get(f"/clients/{other.id}")
    assert response.status_code == 404
    assert "Autre Société" not in page_text(response)


def test_unknown_client_is_404(client, login_as, db):
    login_as(make_lead())
    assert client.get("/clients/999999").status_code == 404


def test_lead_page_of_a_client_without_anything_shows_empty_states(client, login_as, db):
    target = make_client("Nouvelle SARL")
    login_as(make_lead())
    body = page_text(client.get(f"/clients/{target.id}"))
    assert "Aucun contact pour l'instant." in body
    assert "Aucun community manager ne sert ce client en ce moment." in body
    assert "Ce client n'appartient à aucun groupe" in body
    assert "Aucune dérogation ne concerne ce client." in body


def test_an_override_of_an_ended_assignment_stays_listed_as_ended(client, login_as, db):
    from app.clients.assignments import end_assignment

    lead, _lea, _group, dupont, rose = bakery_world(db)
    [assignment] = rose.assignments
    end_assignment(lead, rose, assignment)
    login_as(lead)
    body = page_text(client.get(f"/clients/{dupont.id}"))
    assert "Clientèles distinctes, accord des deux gérants." in body
    assert "affectation terminée le" in body
