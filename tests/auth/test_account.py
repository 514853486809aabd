"""The account page: name and language, and a password change that ends the
other sessions but keeps this one."""

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.auth.models import User
from app.auth.services import verify_password
from tests.auth.conftest import is_logged_in, page_text, post_login
from tests.factories import PASSWORD, make_client, make_client_user, make_cm

NEW = "une-phrase-de-passe-neuve"


def change(client, current=PASSWORD, new=NEW, confirm=None):
    return client.post(
        "/account/password",
        data={"current_password": current, "password": new, "confirm": new if confirm is None else confirm},
    )


def test_account_page_shows_the_identity_and_both_forms(client, login_as, db):
    login_as(make_cm(name="Léa Martin", email="lea@agence.example"))
    body = page_text(client.get("/account"))
    assert "Mon compte" in body
    assert "lea@agence.example" in body and 'value="Léa Martin"' in body
    assert "Community manager" in body
    assert "Mot de passe actuel" in body and "Confirmation du mot de passe" in body


def test_account_page_needs_login(client, db):
    assert client.get("/account").headers["Location"].startswith("/login")


def test_name_and_language_are_saved(client, login_as, db):
    cm = make_cm(name="Léa Martin")
    login_as(cm)
    response = client.post("/account", data={"name": "  Léa Martin-Roux ", "locale": "en"})
    assert response.status_code == 302
    user = db.session.get(User, cm.id)
    assert (user.name, user.locale) == ("Léa Martin-Roux", "en")
    assert '<html lang="en">' in client.get("/account").get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.profile_updated"))


def test_empty_name_and_unknown_language_are_refused(client, login_as, db):
    cm = make_cm(name="Léa Martin")
    login_as(cm)
    response = client.post("/account", data={"name": " ", "locale": "de"})
    assert response.status_code == 200
    body = page_text(response)
    assert "Indiquez votre nom." in body
    assert db.session.get(User, cm.id).name == "Léa Martin"


def test_password_change_needs_the_current_password(client, login_as, db):
    cm = make_cm()
    login_as(cm)
    response = change(client, current="pas-le-bon")
    assert response.status_code == 200
    assert "Le mot de passe actuel est incorrect." in page_text(response)
    assert verify_password(db.session.get(User, cm.id), PASSWORD)


def test_password_change_needs_a_long_enough_password_and_its_confirmation(client, login_as, db):
    cm = make_cm()
    login_as(cm)
    body = page_text(change(client, new="court"))
    assert "Votre mot de passe doit compter entre 10 et 256 caractères." in body
    body = page_text(change(client, confirm="une-autre-phrase-de-passe"))
    assert "Les deux mots de passe ne sont pas identiques." in body
    assert verify_password(db.session.get(User, cm.id), PASSWORD)


def test_password_change_keeps_this_session_and_ends_the_others(client, other_client, db):
    make_client_user(make_client(), email="sophie@dupont.example")
    post_login(client, "sophie@dupont.example")
    post_login(other_client, "sophie@dupont.example")  # her phone
    assert is_logged_in(other_client)

    response = change(client)
    assert response.status_code == 302
    assert "Vos autres appareils ont été déconnectés." in page_text(client.get("/account"))
    assert is_logged_in(client)
    assert not is_logged_in(other_client)
    assert other_client.get("/").headers["Location"].startswith("/login")

    client.post("/logout")
    assert post_login(client, "sophie@dupont.example").status_code == 200  # old password refused
    assert post_login(client, "sophie@dupont.example", NEW).status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.password_changed"))
    assert entry is not None and entry.client_id is not None  # shows in the client's log
