"""French first, English available: the catalog is complete and used."""

from babel.messages.pofile import read_po

from tests.factories import make_lead


def test_pages_are_in_french_by_default(client, login_as, db):
    login_as(make_lead())
    body = client.get("/dashboard").get_data(as_text=True)
    assert '<html lang="fr">' in body
    assert "Équipe et accès" in body


def test_a_user_who_chose_english_gets_english_pages_and_british_dates(client, login_as, db):
    lead = make_lead()
    lead.locale = "en"
    db.session.flush()
    login_as(lead)
    body = client.get("/dashboard").get_data(as_text=True)
    assert '<html lang="en">' in body
    assert "Team & access" in body
    assert "Équipe et accès" not in body


def test_the_language_switch_works_before_logging_in(client, db):
    client.post("/language", data={"lang": "en", "next": "/login"})
    assert "Log in" in client.get("/login").get_data(as_text=True)


def test_the_english_catalog_translates_every_message(app):
    from pathlib import Path

    path = Path(app.root_path) / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    missing = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))
    ]
    assert missing == []
