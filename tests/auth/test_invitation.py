"""Accepting an invitation: the link shows who it is for, sets the password
once, logs in. Expired, tampered or used links answer 404 and change nothing."""

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.models import User
from app.auth.services import verify_password
from app.auth.tokens import make_token
from app.users.services import invite_user
from tests.auth.conftest import is_logged_in, link_in, page_text, token_signed_ago
from tests.factories import make_client, make_cm, make_lead

PASSWORD = "ma-phrase-de-passe-2026"
DAY = 24 * 3600


@pytest.fixture
def invited(db, outbox):
    """Léa, invited by Marc: the user and the link of her mail (as a path)."""
    lead = make_lead(name="Marc Dubois")
    user = invite_user(lead, email="lea@agence.example", name="Léa Martin", role="cm")
    db.session.commit()
    (mail,) = outbox.messages
    return user, link_in(outbox.body(mail), "/invitation/")


def accept(client, link, password=PASSWORD, confirm=None):
    return client.post(link, data={"password": password, "confirm": password if confirm is None else confirm})


def test_invitation_mail_names_the_inviter_and_carries_the_link(invited, outbox):
    (mail,) = outbox.messages
    assert mail["To"] == "lea@agence.example"
    assert mail["Subject"] == "Votre accès à Relais"
    body = outbox.body(mail)
    assert "Bonjour Léa Martin" in body and "Marc Dubois vous invite" in body
    assert "valable 7 jours" in body


def test_invitation_page_shows_who_it_is_for(client, invited):
    _, link = invited
    response = client.get(link)
    assert response.status_code == 200
    body = page_text(response)
    assert "Bienvenue, Léa Martin" in body
    assert "lea@agence.example" in body
    assert "Confirmation du mot de passe" in body


def test_accepting_sets_the_password_logs_in_and_goes_home(client, db, invited):
    user, link = invited
    response = accept(client, link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert is_logged_in(client)
    user = db.session.get(User, user.id)
    assert verify_password(user, PASSWORD) and not user.is_pending
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.invitation_accepted"))
    assert entry is not None and entry.actor_id == user.id and entry.object_id == user.id


def test_a_short_or_mismatched_password_is_refused_and_nothing_changes(client, db, invited):
    user, link = invited
    body = page_text(accept(client, link, password="court"))
    assert "Votre mot de passe doit compter entre 10 et 256 caractères." in body
    body = page_text(accept(client, link, confirm="autre-chose-encore"))
    assert "Les deux mots de passe ne sont pas identiques." in body
    assert db.session.get(User, user.id).is_pending
    assert not is_logged_in(client)


def test_the_link_works_only_once(client, other_client, db, invited):
    user, link = invited
    assert accept(client, link).status_code == 302
    response = other_client.get(link)
    assert response.status_code == 404
    assert "Ce lien d'invitation n'est plus valable" in page_text(response)
    response = accept(other_client, link, password="une-prise-de-controle")
    assert response.status_code == 404
    assert verify_password(db.session.get(User, user.id), PASSWORD)
    assert not is_logged_in(other_client)


def test_an_expired_link_is_refused_and_changes_nothing(client, db, monkeypatch):
    user = make_cm(pending=True)
    link = "/invitation/" + token_signed_ago(user, "invitation", 7 * DAY + 60, monkeypatch)
    response = client.get(link)
    assert response.status_code == 404
    assert "Ce lien d'invitation n'est plus valable" in page_text(response)
    assert accept(client, link).status_code == 404
    assert db.session.get(User, user.id).is_pending


def test_a_link_within_its_validity_still_works(client, db, monkeypatch):
    user = make_cm(pending=True)
    link = "/invitation/" + token_signed_ago(user, "invitation", 6 * DAY, monkeypatch)
    assert client.get(link).status_code == 200


def test_validity_follows_the_setting(client, db, set_config, monkeypatch):
    user = make_cm(pending=True)
    link = "/invitation/" + token_signed_ago(user, "invitation", 120, monkeypatch)
    set_config(INVITATION_MAX_AGE=60)
    assert client.get(link).status_code == 404


@pytest.mark.parametrize("tamper", ["flip_last", "flip_payload", "truncate", "garbage"])
def test_a_tampered_link_is_refused(client, db, invited, tamper):
    user, link = invited
    token = link.rsplit("/", 1)[1]
    flip = lambda ch: "A" if ch != "A" else "B"  # noqa: E731
    forged = {
        # Not the very last character: its low bits are base64 padding, and
        # changing only those leaves the same signature.
        "flip_last": token[:-3] + flip(token[-3]) + token[-2:],
        "flip_payload": flip(token[0]) + token[1:],
        "truncate": token[:-5],
        "garbage": "not-a-token",
    }[tamper]
    assert client.get("/invitation/" + forged).status_code == 404
    assert accept(client, "/invitation/" + forged).status_code == 404
    assert db.session.get(User, user.id).is_pending


def test_a_reset_token_is_no_invitation(client, db):
    user = make_cm(pending=True)
    assert client.get("/invitation/" + make_token(user, "reset")).status_code == 404


def test_the_link_of_a_deactivated_invitee_is_refused(client, db, invited):
    user, link = invited
    from app.users.services import deactivate_user

    deactivate_user(make_lead(), db.session.get(User, user.id))
    db.session.commit()
    assert client.get(link).status_code == 404


def test_a_client_contact_accepting_lands_in_its_company_space(client, db, outbox):
    company = make_client("Boulangerie Dupont")
    invite_user(make_lead(), email="sophie@dupont.example", name="Sophie", role="client", client=company)
    db.session.commit()
    link = link_in(outbox.body(outbox.messages[0]), "/invitation/")
    assert "rapports d'activité et les factures de votre entreprise" in outbox.body(outbox.messages[0])
    assert accept(client, link).headers["Location"] == "/"
    assert client.get("/").headers["Location"] == "/portal"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.invitation_accepted"))
    assert entry.client_id == company.id
