"""Uploads: a body over MAX_CONTENT_LENGTH gets a clear French page (413)
that gives the limit and leads back to the form, and nothing changes. Logos
are also checked by content, limited and re-encoded (tests/agency,
tests/clients); here, what sits in front of every form."""

from __future__ import annotations

import io
import os

import pytest
from sqlalchemy import func, select

from app.agency.services import get_settings
from app.audit.models import AuditEntry
from app.clients.models import Client
from app.documents.models import Document
from tests.factories import make_agency_settings, make_lead
from tests.security.conftest import page_text


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def huge(app) -> bytes:
    """A PNG signature followed by noise, a megabyte over the request limit."""
    return b"\x89PNG\r\n\x1a\n" + os.urandom(app.config["MAX_CONTENT_LENGTH"] + 1024 * 1024)


def snapshot(db) -> tuple:
    return (
        get_settings().logo_sha256,
        count(db, Document),
        count(db, Client),
        count(db, AuditEntry),
    )


def test_an_oversize_agency_logo_gets_a_clear_page_and_changes_nothing(client, login_as, db, huge):
    make_agency_settings()
    login_as(make_lead())
    before = snapshot(db)
    response = client.post(
        "/agency/settings/logo",
        data={"logo": (io.BytesIO(huge), "logo.png", "image/png")},
        content_type="multipart/form-data",
        headers={"Referer": "http://localhost/agency/settings"},
    )
    assert response.status_code == 413
    text = page_text(response)
    assert "Fichier trop volumineux" in text
    assert "Le fichier envoyé dépasse la taille permise (4 Mo au maximum)." in text
    assert "Rien n'a été enregistré." in text
    assert 'href="/agency/settings"' in response.get_data(as_text=True)  # back to the form
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert snapshot(db) == before


def test_an_oversize_client_logo_creates_no_client(client, login_as, db, huge, csrf_enabled):
    """With CSRF on, as in a browser: the size is refused first, whatever the form holds."""
    login_as(make_lead())
    before = snapshot(db)
    response = client.post(
        "/clients/new",
        data={"name": "Trop Lourd SARL", "country_code": "FR", "logo": (io.BytesIO(huge), "logo.png")},
        content_type="multipart/form-data",
        headers={"Referer": "http://localhost/clients/new"},
    )
    assert response.status_code == 413
    assert "4 Mo au maximum" in page_text(response)
    assert 'href="/clients/new"' in response.get_data(as_text=True)
    assert snapshot(db) == before
    assert db.session.scalar(select(Client).where(Client.name == "Trop Lourd SARL")) is None


@pytest.mark.parametrize(
    "referrer",
    [None, "https://evil.example/agency/settings", "http://localhost.evil.example/x", "javascript:alert(1)"],
)
def test_the_413_page_leads_back_only_to_this_site(client, login_as, db, huge, referrer):
    login_as(make_lead())
    headers = {"Referer": referrer} if referrer else {}
    response = client.post(
        "/agency/settings/logo",
        data={"logo": (io.BytesIO(huge), "logo.png")},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "evil" not in body and "javascript:" not in body
    assert "Retour à l'accueil" in page_text(response)


def test_an_oversize_body_is_refused_before_login(client, db, huge):
    data = {"email": "x@example.com", "password": "x", "blob": (io.BytesIO(huge), "a")}
    response = client.post("/login", data=data)
    assert response.status_code == 413
    assert "Fichier trop volumineux" in page_text(response)


def test_a_logo_under_the_request_limit_but_over_the_logo_limit_gets_the_form_message(
    client, login_as, db, app, huge
):
    make_agency_settings()
    login_as(make_lead())
    before = snapshot(db)
    too_heavy = huge[: app.config["LOGO_MAX_BYTES"] + 1]
    response = client.post(
        "/agency/settings/logo",
        data={"logo": (io.BytesIO(too_heavy), "logo.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Le logo est trop lourd" in page_text(response)
    assert snapshot(db) == before
