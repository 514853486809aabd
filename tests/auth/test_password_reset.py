"""Forgotten password: the same answer for every address, a mail only for an
active account with a password, a link that works once and expires."""

import pytest

from app.auth.models import User
from app.auth.services import verify_password
from tests.auth.conftest import is_logged_in, link_in, page_text, post_login, token_signed_ago
from tests.factories import make_cm

NEW = "une-nouvelle-phrase-de-passe"


def forgot(client, email, **kwargs):
    return client.post("/password/forgot", data={"email": email}, follow_redirects=True, **kwargs)


def flash_of(response) -> str:
    body = page_text(response)
    start = body.index('<p class="flash flash-info">')
    return body[start : body.index("</p>", start)]


def reset(client, link, password=NEW, confirm=None):
    return client.post(link, data={"password": password, "confirm": password if confirm is None else confirm})


def test_forgot_page_asks_for_the_address(client, db):
    body = page_text(client.get("/password/forgot"))
    assert "Mot de passe oublié" in body and 'name="email"' in body


def test_known_address_gets_a_reset_link_by_mail(client, db, outbox):
    make_cm(name="Léa Martin", email="lea@agence.example")
    response = forgot(client, "Lea@Agence.example")
    assert response.status_code == 200
    (mail,) = outbox.messages
    assert mail["To"] == "lea@agence.example"
    assert mail["Subject"] == "Réinitialisation de votre mot de passe Relais"
    body = outbox.body(mail)
    assert "Bonjour Léa Martin" in body and "valable 2 heures" in body
    assert link_in(body, "/password/reset/")


def test_unknown_address_gets_the_same_answer_and_no_mail(client, db, outbox):
    make_cm(email="lea@agence.example")
    known = flash_of(forgot(client, "lea@agence.example"))
    unknown = flash_of(forgot(client, "personne@agence.example"))
    assert "Si un compte actif correspond" in known
    assert known.replace("lea@agence.example", "X") == unknown.replace("personne@agence.example", "X")
    assert len(outbox.messages) == 1


@pytest.mark.parametrize("kind", ["deactivated", "pending"])
def test_no_mail_for_a_deactivated_or_invited_account(client, db, outbox, kind):
    make_cm(email="lea@agence.example", active=kind != "deactivated", pending=kind == "pending")
    response = forgot(client, "lea@agence.example")
    assert "Si un compte actif correspond" in page_text(response)
    assert outbox.messages == []


def test_reset_link_sets_the_password_logs_in_and_works_once(client, other_client, db, outbox):
    cm = make_cm(email="lea@agence.example")
    forgot(client, "lea@agence.example")
    link = link_in(outbox.body(outbox.messages[0]), "/password/reset/")
    assert "lea@agence.example" in page_text(client.get(link))
    response = reset(client, link)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert is_logged_in(client)
    assert verify_password(db.session.get(User, cm.id), NEW)

    response = other_client.get(link)
    assert response.status_code == 404
    assert "Ce lien de réinitialisation n'est plus valable" in page_text(response)
    assert reset(other_client, link, password="encore-une-autre-phrase").status_code == 404
    assert verify_password(db.session.get(User, cm.id), NEW)


def test_reset_ends_the_other_sessions(client, other_client, db, outbox):
    make_cm(email="lea@agence.example")
    post_login(other_client, "lea@agence.example")  # a session left open elsewhere
    assert is_logged_in(other_client)
    forgot(client, "lea@agence.example")
    reset(client, link_in(outbox.body(outbox.messages[0]), "/password/reset/"))
    assert not is_logged_in(other_client)


def test_reset_refuses_a_mismatched_confirmation(client, db, outbox):
    cm = make_cm(email="lea@agence.example")
    forgot(client, "lea@agence.example")
    link = link_in(outbox.body(outbox.messages[0]), "/password/reset/")
    body = page_text(reset(client, link, confirm="pas-la-meme-chose"))
    assert "Les deux mots de passe ne sont pas identiques." in body
    assert not verify_password(db.session.get(User, cm.id), NEW)


def test_an_expired_reset_link_is_refused(client, db, monkeypatch):
    cm = make_cm()
    link = "/password/reset/" + token_signed_ago(cm, "reset", 2 * 3600 + 60, monkeypatch)
    response = client.get(link)
    assert response.status_code == 404
    assert "Demander un nouveau lien" in page_text(response)
    assert reset(client, link).status_code == 404
    assert not verify_password(db.session.get(User, cm.id), NEW)


def test_an_older_reset_link_dies_once_the_password_changes(client, db, outbox):
    make_cm(email="lea@agence.example")
    forgot(client, "lea@agence.example")
    forgot(client, "lea@agence.example")
    first, second = (link_in(outbox.body(m), "/password/reset/") for m in outbox.messages)
    assert reset(client, second).status_code == 302
    assert client.get(first).status_code == 404


def test_forgot_password_requests_are_limited_per_address(client, db, set_config):
    set_config(PASSWORD_RESET_LIMIT_PER_ADDRESS="2 per 15 minutes")
    here = {"environ_base": {"REMOTE_ADDR": "10.0.0.1"}}
    for n in range(2):
        assert forgot(client, f"x{n}@agence.example", **here).status_code == 200
    response = client.post("/password/forgot", data={"email": "y@agence.example"}, **here)
    assert response.status_code == 429
    assert "Trop de tentatives" in page_text(response)
    elsewhere = {"environ_base": {"REMOTE_ADDR": "10.0.0.2"}}
    assert client.post("/password/forgot", data={"email": "y@agence.example"}, **elsewhere).status_code == 302
