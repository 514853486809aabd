"""The development mail outbox: a lead reads the mails the app wrote to files;
names from the URL are checked strictly; with SMTP the pages do not exist."""

from pathlib import Path

import pytest

from app.mail import deliver, outbox_dir
from tests.auth.conftest import page_text
from tests.factories import make_cm, make_lead


def write_mail(app, to, subject, text) -> str:
    with app.app_context():
        return Path(deliver({"to": [to], "subject": subject, "text": text, "html": None})).name


def test_outbox_lists_mails_newest_first_with_date_recipients_subject(app, client, login_as, db, outbox):
    login_as(make_lead())
    write_mail(app, "lea@agence.example", "Premier courriel", "Bonjour")
    write_mail(app, "sophie@dupont.example", "Second courriel", "Bonjour")
    response = client.get("/outbox")
    assert response.status_code == 200
    body = page_text(response)
    assert body.index("Second courriel") < body.index("Premier courriel")
    assert "sophie@dupont.example" in body and "lea@agence.example" in body
    assert "2 courriels" in body


def test_outbox_is_paginated(app, client, login_as, db, outbox, set_config):
    login_as(make_lead())
    for n in range(3):
        write_mail(app, "x@agence.example", f"Courriel {n}", "...")
    set_config(PER_PAGE=2)
    first = page_text(client.get("/outbox"))
    assert "Courriel 2" in first and "Courriel 1" in first and "Courriel 0" not in first
    assert "Page 1 sur 2" in first
    assert "Courriel 0" in page_text(client.get("/outbox?page=2"))


def test_empty_outbox_says_so(client, login_as, db, outbox):
    login_as(make_lead())
    assert "Aucun courriel pour l'instant." in page_text(client.get("/outbox"))


def test_a_mail_shows_its_text_with_clickable_links(app, client, login_as, db, outbox):
    login_as(make_lead())
    name = write_mail(
        app,
        "lea@agence.example",
        "Votre accès",
        "Ouvrez http://localhost/invitation/abc.\n<b>pas du HTML</b>",
    )
    response = client.get(f"/outbox/{name}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<a href="http://localhost/invitation/abc" rel="noreferrer">' in html
    assert "&lt;b&gt;pas du HTML&lt;/b&gt;" in html


def test_the_invitation_sent_by_the_app_is_readable_there(client, login_as, db, outbox):
    login_as(make_lead())
    client.post("/users/invite", data={"name": "Léa", "email": "lea@agence.example", "role": "cm"})
    body = page_text(client.get("/outbox"))
    assert "Votre accès à Relais" in body


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2Fsecret_key",
        "..%2Finstance%2Fsecret_key",
        "secret_key",
        "20260101T120000000000-zzzzzzzz.eml",
        "20260101T120000000000-abcdef12.eml.bak",
        "20260101T120000000000-abcdef12.eml%00",
        "20260101T120000000000-abcdef12.eml",  # well formed, but no such mail
        "%2Fetc%2Fpasswd",
    ],
)
def test_names_outside_the_outbox_pattern_are_404(app, client, login_as, db, outbox, name):
    login_as(make_lead())
    (outbox_dir(app).parent / "secret_key").write_text("top secret")
    response = client.get(f"/outbox/{name}")
    assert response.status_code == 404
    assert "top secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["notes.txt", "20260101T120000000000-abcdef12.eml.bak", "README"])
def test_other_files_of_the_outbox_folder_are_not_served(app, client, login_as, db, outbox, name):
    login_as(make_lead())
    stray = outbox_dir(app) / name
    stray.write_text("Subject: top secret\n\ntop secret")
    try:
        response = client.get(f"/outbox/{name}")
        assert response.status_code == 404
        assert "top secret" not in page_text(client.get("/outbox"))
    finally:
        stray.unlink()


def test_traversal_in_the_path_never_reaches_a_file(app, client, login_as, db, outbox):
    login_as(make_lead())
    response = client.get("/outbox/../../etc/passwd")
    assert "root:" not in response.get_data(as_text=True)


def test_only_leads_read_the_outbox(app, client, login_as, db, outbox):
    name = write_mail(app, "lea@agence.example", "Votre accès", "...")
    login_as(make_cm())
    assert client.get("/outbox").status_code == 403
    assert client.get(f"/outbox/{name}").status_code == 403


def test_with_smtp_configured_the_outbox_is_404_and_leaves_the_menu(app, client, login_as, db, set_config):
    login_as(make_lead())
    assert 'href="/outbox"' in page_text(client.get("/users"))
    set_config(MAIL_SERVER="smtp.example")
    assert client.get("/outbox").status_code == 404
    assert client.get("/outbox/20260101T120000000000-abcdef12.eml").status_code == 404
    assert 'href="/outbox"' not in page_text(client.get("/users"))
