"""Deactivation ends the person's session at its next request; reactivation
lets it log in again."""

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.models import User
from tests.auth.conftest import is_logged_in, page_text, post_login
from tests.factories import make_client, make_client_user, make_cm, make_lead


def test_deactivation_logs_the_user_out_at_its_next_request(client, other_client, login_as, db):
    cm = make_cm(email="lea@agence.example")
    assert post_login(other_client, "lea@agence.example").status_code == 302
    assert other_client.get("/account").status_code == 200

    login_as(make_lead())
    response = client.post(f"/users/{cm.id}/deactivate", follow_redirects=True)
    assert "est désactivé" in page_text(response)
    assert not db.session.get(User, cm.id).active

    response = other_client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert "Ce compte est désactivé" in page_text(post_login(other_client, "lea@agence.example"))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.deactivated"))
    assert entry.object_id == cm.id


def test_deactivating_a_client_contact_shows_in_its_client_log(client, login_as, db):
    login_as(make_lead())
    dupont = make_client()
    sophie = make_client_user(dupont)
    client.post(f"/users/{sophie.id}/deactivate")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.deactivated"))
    assert entry.client_id == dupont.id


def test_reactivation_lets_the_user_log_in_again(client, other_client, login_as, db):
    cm = make_cm(email="lea@agence.example", active=False)
    login_as(make_lead())
    response = client.post(f"/users/{cm.id}/reactivate", follow_redirects=True)
    assert "est réactivé" in page_text(response)
    assert post_login(other_client, "lea@agence.example").status_code == 302
    assert is_logged_in(other_client)


def test_reactivating_an_invited_account_asks_to_resend_the_invitation(client, login_as, db):
    pending = make_cm(pending=True, active=False)
    login_as(make_lead())
    response = client.post(f"/users/{pending.id}/reactivate", follow_redirects=True)
    assert "renvoyez-lui l'invitation" in page_text(response)


def test_a_lead_cannot_deactivate_itself(client, login_as, db):
    lead = make_lead()
    make_lead()
    login_as(lead)
    response = client.post(f"/users/{lead.id}/deactivate", follow_redirects=True)
    assert "Vous ne pouvez pas désactiver votre propre compte." in page_text(response)
    assert db.session.get(User, lead.id).active
    assert is_logged_in(client)


def test_deactivate_asks_for_confirmation_and_is_a_post(client, login_as, db):
    login_as(make_lead())
    cm = make_cm(name="Léa Martin")
    body = page_text(client.get(f"/users/{cm.id}/edit"))
    assert 'data-confirm="Désactiver le compte de Léa Martin ?' in body
    assert f'<form method="post" action="/users/{cm.id}/deactivate"' in body
    assert client.get(f"/users/{cm.id}/deactivate").status_code == 405
