"""CSRF: a POST without the form's token is refused (400) and changes nothing."""

from app.auth.models import User
from tests.auth.conftest import csrf_token_of, is_logged_in, page_text
from tests.factories import PASSWORD, make_cm, make_lead


def test_login_without_token_is_refused(client, db, csrf_enabled):
    make_cm(email="lea@agence.example")
    response = client.post("/login", data={"email": "lea@agence.example", "password": PASSWORD})
    assert response.status_code == 400
    assert "Formulaire expiré" in page_text(response)
    assert not is_logged_in(client)


def test_login_with_the_page_token_works(client, db, csrf_enabled):
    make_cm(email="lea@agence.example")
    token = csrf_token_of(client.get("/login"))
    data = {"email": "lea@agence.example", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    assert is_logged_in(client)


def test_deactivation_without_token_is_refused(client, login_as, db, csrf_enabled):
    login_as(make_lead())
    cm = make_cm()
    response = client.post(f"/users/{cm.id}/deactivate")
    assert response.status_code == 400
    assert db.session.get(User, cm.id).active


def test_logout_without_token_keeps_the_session(client, login_as, db, csrf_enabled):
    login_as(make_cm())
    assert client.post("/logout").status_code == 400
    assert is_logged_in(client)


def test_password_change_without_token_is_refused(client, login_as, db, csrf_enabled):
    cm = make_cm()
    version, password_hash = cm.session_version, cm.password_hash
    login_as(cm)
    data = {"current_password": PASSWORD, "password": "une-phrase-neuve", "confirm": "une-phrase-neuve"}
    assert client.post("/account/password", data=data).status_code == 400
    user = db.session.get(User, cm.id)
    assert (user.session_version, user.password_hash) == (version, password_hash)
    assert is_logged_in(client)
