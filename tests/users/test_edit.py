"""Editing an account: name, unique address, role (never a client contact's),
and at least one active lead kept."""

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.models import User
from app.clients.models import ClientMember
from tests.auth.conftest import link_in, page_text
from tests.factories import make_client, make_client_user, make_cm, make_lead


def edit(client, user, **data):
    form = {"name": user.name, "email": user.email, "role": user.role}
    form.update(data)
    return client.post(f"/users/{user.id}/edit", data=form)


def test_edit_page_shows_the_account(client, login_as, db):
    login_as(make_lead())
    cm = make_cm(name="Léa Martin", email="lea@agence.example")
    body = page_text(client.get(f"/users/{cm.id}/edit"))
    assert 'value="Léa Martin"' in body and 'value="lea@agence.example"' in body
    assert "Désactiver le compte" in body


def test_lead_changes_name_address_and_role(client, login_as, db):
    login_as(make_lead())
    cm = make_cm(name="Léa Martin")
    response = edit(client, cm, name="Léa Martin-Roux", email="Lea.Roux@agence.example", role="lead")
    assert response.status_code == 302 and response.headers["Location"] == "/users"
    user = db.session.get(User, cm.id)
    assert (user.name, user.email, user.role) == ("Léa Martin-Roux", "lea.roux@agence.example", "lead")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.updated"))
    assert entry.data["role"] == ["cm", "lead"]


def test_address_already_taken_is_refused_on_the_field(client, login_as, db):
    login_as(make_lead())
    make_cm(email="pris@agence.example")
    cm = make_cm(email="lea@agence.example")
    response = edit(client, cm, email="Pris@agence.example")
    assert response.status_code == 200
    assert "Un compte existe déjà avec cette adresse e-mail." in page_text(response)
    assert db.session.get(User, cm.id).email == "lea@agence.example"


def test_a_client_contact_keeps_its_role(client, login_as, db):
    login_as(make_lead())
    dupont = make_client("Boulangerie Dupont")
    sophie = make_client_user(dupont, name="Sophie")
    body = page_text(client.get(f"/users/{sophie.id}/edit"))
    assert 'name="role"' not in body and 'name="job_title"' in body
    response = edit(client, sophie, role="lead", job_title="Gérante")
    assert response.status_code == 302
    assert db.session.get(User, sophie.id).role == "client"
    member = db.session.scalar(select(ClientMember).where(ClientMember.user_id == sophie.id))
    assert member.job_title == "Gérante"


def test_an_agency_account_cannot_become_a_client_contact(client, login_as, db):
    login_as(make_lead())
    cm = make_cm()
    response = edit(client, cm, role="client")
    assert response.status_code == 200
    assert db.session.get(User, cm.id).role == "cm"


def test_the_last_active_lead_cannot_demote_itself(client, login_as, db):
    lead = make_lead()
    make_lead(active=False)  # a deactivated lead does not count
    login_as(lead)
    response = edit(client, lead, role="cm")
    assert response.status_code == 200
    assert "Il doit rester au moins un responsable d'agence actif." in page_text(response)
    assert db.session.get(User, lead.id).role == "lead"


def test_a_lead_may_step_down_when_another_lead_remains(client, login_as, db):
    lead = make_lead()
    make_lead()
    login_as(lead)
    response = edit(client, lead, role="cm")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert db.session.get(User, lead.id).role == "cm"
    assert client.get("/users").status_code == 403


def test_new_address_of_an_invited_account_gets_a_new_invitation(client, login_as, db, outbox):
    from app.auth.tokens import make_token

    login_as(make_lead())
    pending = make_cm(email="lea@agnece.example", pending=True)
    old_link = "/invitation/" + make_token(pending, "invitation")
    response = edit(client, pending, email="lea@agence.example")
    assert response.status_code == 302
    (mail,) = outbox.messages
    assert mail["To"] == "lea@agence.example"
    assert client.get(link_in(outbox.body(mail), "/invitation/")).status_code == 200
    assert client.get(old_link).status_code == 404


def test_editing_nothing_writes_no_audit_entry(client, login_as, db):
    login_as(make_lead())
    cm = make_cm()
    assert edit(client, cm).status_code == 302
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.updated")) is None


def test_an_older_address_is_not_rechecked_when_unchanged(client, login_as, db):
    login_as(make_lead())
    cm = make_cm(email="lea@relais.local")  # a special-use domain email_validator refuses
    assert edit(client, cm, name="Léa").status_code == 302
    assert "pas valide" in page_text(edit(client, cm, email="autre@relais.local"))


def test_non_leads_get_404_on_every_account_route(client, login_as, db):
    target = make_cm()
    for user in (make_cm(), make_client_user(make_client())):
        login_as(user)
        assert client.get(f"/users/{target.id}/edit").status_code == 404
        assert client.post(f"/users/{target.id}/edit", data={"name": "x"}).status_code == 404
        for action in ("deactivate", "reactivate", "resend"):
            assert client.post(f"/users/{target.id}/{action}").status_code == 404
    assert db.session.get(User, target.id).name == target.name and target.active


def test_unknown_account_is_404_for_the_lead(client, login_as, db):
    login_as(make_lead())
    assert client.get("/users/999999/edit").status_code == 404
    assert client.post("/users/999999/deactivate").status_code == 404


def test_lead_sets_a_cms_internal_cost_rate(client, login_as, db):
    from decimal import Decimal

    from app.audit.models import AuditEntry

    cm = make_cm(name="Léa Martin")
    login_as(make_lead())
    data = {"name": cm.name, "email": cm.email, "role": "cm", "cost_rate": "32,50"}
    assert client.post(f"/users/{cm.id}/edit", data=data).status_code == 302
    db.session.refresh(cm)
    assert cm.cost_rate == Decimal("32.50")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.updated"))
    assert entry.data["cost_rate"] == [None, "32.50"]
    body = client.post(f"/users/{cm.id}/edit", data=dict(data, cost_rate="-3")).get_data(as_text=True)
    assert "ne peut pas être négatif" in body
    db.session.refresh(cm)
    assert cm.cost_rate == Decimal("32.50")
