"""Inviting a CM, a lead or a client contact from the team pages."""

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.models import User
from app.clients.models import ClientMember
from tests.auth.conftest import link_in, page_text
from tests.factories import make_client, make_cm, make_lead


def invite(client, **data):
    form = {
        "name": "Léa Martin",
        "email": "lea@agence.example",
        "role": "cm",
        "client_id": "",
        "job_title": "",
    }
    form.update(data)
    return client.post("/users/invite", data=form)


def user_by_email(db, email):
    return db.session.scalar(select(User).where(User.email == email))


def test_lead_invites_a_cm_who_gets_a_mail_with_the_link(client, login_as, db, outbox):
    lead = make_lead(name="Marc Dubois")
    login_as(lead)
    response = invite(client, email=" Lea@Agence.example ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/users"
    user = user_by_email(db, "lea@agence.example")
    assert user.role == "cm" and user.is_pending and user.active and user.invited_at is not None
    (mail,) = outbox.messages
    assert mail["To"] == "lea@agence.example"
    assert link_in(outbox.body(mail), "/invitation/")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.invited"))
    assert entry.actor_id == lead.id and entry.object_id == user.id
    assert "Invitation envoyée à Léa Martin" in page_text(client.get("/users"))


def test_inviting_a_client_contact_attaches_it_and_returns_to_the_client_page(client, login_as, db, outbox):
    login_as(make_lead())
    dupont = make_client("Boulangerie Dupont")
    response = invite(
        client,
        name="Sophie Dupont",
        email="sophie@dupont.example",
        role="client",
        client_id=str(dupont.id),
        job_title="Gérante",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/clients/{dupont.id}"
    user = user_by_email(db, "sophie@dupont.example")
    member = db.session.scalar(select(ClientMember).where(ClientMember.user_id == user.id))
    assert (member.client_id, member.job_title) == (dupont.id, "Gérante")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.invited"))
    assert entry.client_id == dupont.id
    assert len(outbox.messages) == 1


def test_the_client_page_button_prefills_role_and_company(client, login_as, db):
    login_as(make_lead())
    dupont = make_client("Boulangerie Dupont")
    make_client("Fromagerie Martin")
    body = page_text(client.get(f"/users/invite?role=client&client_id={dupont.id}"))
    assert '<option selected value="client">' in body
    assert f'<option selected value="{dupont.id}">Boulangerie Dupont</option>' in body


def test_prefill_ignores_unknown_values(client, login_as, db):
    login_as(make_lead())
    body = page_text(client.get("/users/invite?role=boss&client_id=999999"))
    assert '<option selected value="cm">' in body
    assert 'value="999999"' not in body


def test_company_choices_leave_out_archived_clients(client, login_as, db):
    from app.timeutil import utcnow

    login_as(make_lead())
    make_client("Boulangerie Dupont")
    make_client("Ancien Client", archived_at=utcnow())
    body = page_text(client.get("/users/invite"))
    assert "Boulangerie Dupont" in body and "Ancien Client" not in body


def test_a_client_contact_needs_a_company(client, login_as, db, outbox):
    login_as(make_lead())
    response = invite(client, role="client", client_id="")
    assert response.status_code == 200
    assert "Choisissez l'entreprise de ce contact." in page_text(response)
    assert user_by_email(db, "lea@agence.example") is None
    assert outbox.messages == []


def test_an_archived_or_unknown_company_is_refused(client, login_as, db):
    from app.timeutil import utcnow

    login_as(make_lead())
    old = make_client("Ancien Client", archived_at=utcnow())
    for value in (str(old.id), "999999", "abc"):
        response = invite(client, role="client", client_id=value)
        assert response.status_code == 200
        assert "Cette entreprise n'est pas dans la liste" in page_text(response)
    assert user_by_email(db, "lea@agence.example") is None


def test_a_cm_is_not_attached_to_a_company_even_if_one_is_posted(client, login_as, db):
    login_as(make_lead())
    dupont = make_client("Boulangerie Dupont")
    assert invite(client, role="cm", client_id=str(dupont.id)).headers["Location"] == "/users"
    user = user_by_email(db, "lea@agence.example")
    assert db.session.scalar(select(ClientMember).where(ClientMember.user_id == user.id)) is None


def test_duplicate_address_is_shown_on_the_field(client, login_as, db, outbox):
    login_as(make_lead())
    make_cm(email="lea@agence.example")
    response = invite(client, email="LEA@agence.example")
    assert response.status_code == 200
    body = page_text(response)
    assert "Un compte existe déjà avec cette adresse e-mail." in body
    assert 'aria-invalid="true"' in body
    assert len(db.session.scalars(select(User).where(User.email == "lea@agence.example")).all()) == 1
    assert outbox.messages == []


def test_missing_fields_and_bad_address_are_explained(client, login_as, db):
    login_as(make_lead())
    body = page_text(invite(client, name="", email="pas-une-adresse"))
    assert "Indiquez le nom de la personne." in body
    assert "Cette adresse e-mail n'est pas valide." in body


def test_resend_mails_a_fresh_link(client, login_as, db, outbox):
    login_as(make_lead())
    pending = make_cm(email="lea@agence.example", pending=True)
    response = client.post(f"/users/{pending.id}/resend", follow_redirects=True)
    assert "Invitation renvoyée à lea@agence.example." in page_text(response)
    (mail,) = outbox.messages
    link = link_in(outbox.body(mail), "/invitation/")
    assert client.get(link).status_code == 200
    assert db.session.get(User, pending.id).invited_at is not None


def test_resend_is_refused_for_an_account_with_a_password(client, login_as, db, outbox):
    login_as(make_lead())
    cm = make_cm()
    response = client.post(f"/users/{cm.id}/resend", follow_redirects=True)
    assert "Ce compte a déjà choisi son mot de passe." in page_text(response)
    assert outbox.messages == []


def test_resend_goes_back_to_the_list_it_was_pressed_on(client, login_as, db):
    login_as(make_lead())
    pending = make_cm(pending=True)
    response = client.post(f"/users/{pending.id}/resend", data={"next": "/users?status=pending"})
    assert response.headers["Location"] == "/users?status=pending"
    response = client.post(f"/users/{pending.id}/resend", data={"next": "//evil.com"})
    assert response.headers["Location"] == f"/users/{pending.id}/edit"
