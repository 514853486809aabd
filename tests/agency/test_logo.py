"""The agency logo: checked by content, re-encoded to PNG, stored in the
document store; served to logged-in users; the shared download response."""

import hashlib
import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.agency.models import AgencySettings
from app.audit.models import AuditEntry
from app.documents.models import Document
from app.documents.services import store_document
from app.documents.views import content_disposition, document_response, safe_download_name
from tests.agency.conftest import image_bytes, noise_png, page_text
from tests.factories import make_agency_settings, make_client, make_client_user, make_cm, make_lead

UPLOAD = "/agency/settings/logo"


def upload(client, content: bytes, filename: str = "logo.png", content_type: str = "image/png"):
    return client.post(
        UPLOAD,
        data={"logo": (io.BytesIO(content), filename, content_type)},
        content_type="multipart/form-data",
    )


def documents_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Document))


def png_with_hidden_payload() -> bytes:
    """A real PNG with a text chunk and bytes appended after IEND."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "secret metadata")
    return image_bytes("PNG", pnginfo=info) + b"<script>alert(1)</script>"


# -- uploading ---------------------------------------------------------------------


def test_a_good_png_is_accepted_reencoded_and_stored(client, login_as, db):
    lead = make_lead()
    login_as(lead)
    raw = png_with_hidden_payload()
    response = upload(client, raw)
    assert response.status_code == 302
    assert "Le logo de l'agence a été enregistré." in page_text(client.get("/agency/settings"))

    settings = db.session.get(AgencySettings, 1)
    document = db.session.get(Document, settings.logo_sha256)
    assert document.media_type == "image/png"
    assert document.sha256 == hashlib.sha256(document.content).hexdigest()
    assert document.content != raw  # re-encoded: metadata and trailing bytes gone
    assert b"secret metadata" not in document.content
    assert b"<script>" not in document.content
    with Image.open(io.BytesIO(document.content)) as image:
        assert image.format == "PNG"
        assert image.size == (64, 32)

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "settings.logo_updated"))
    assert entry.actor_id == lead.id


def test_a_jpeg_is_accepted_and_stored_as_png(client, login_as, db):
    login_as(make_lead())
    assert upload(client, image_bytes("JPEG"), "logo.jpg", "image/jpeg").status_code == 302
    document = db.session.get(Document, db.session.get(AgencySettings, 1).logo_sha256)
    assert document.media_type == "image/png"
    assert document.content.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"this is plain text, not an image", "logo.png"),
        (b"\x89PNG\r\n\x1a\n" + b"truncated", "logo.png"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.png"),
        (image_bytes("GIF"), "logo.png"),
    ],
    ids=["text", "truncated-png", "svg", "gif"],
)
def test_a_file_that_is_not_really_png_or_jpeg_is_refused(client, login_as, db, content, filename):
    login_as(make_lead())
    response = upload(client, content, filename)
    assert response.status_code == 200
    assert "Ce fichier n'est pas une image PNG ou JPEG valide." in page_text(response)
    assert db.session.get(AgencySettings, 1) is None
    assert documents_count(db) == 0


def test_an_oversized_logo_is_refused(client, login_as, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGO_MAX_BYTES", 20_000)
    login_as(make_lead())
    big = noise_png(300)
    assert len(big) > 20_000
    response = upload(client, big)
    assert response.status_code == 200
    page = page_text(response)
    assert "Le logo est trop lourd" in page
    assert "20 ko au maximum" in page
    assert documents_count(db) == 0


def test_a_logo_upload_without_file_asks_for_one(client, login_as, db):
    login_as(make_lead())
    response = client.post(UPLOAD, data={}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Choisissez un fichier PNG ou JPEG." in page_text(response)


def test_a_failed_upload_keeps_the_settings_form_filled_from_the_database(client, login_as, db):
    make_agency_settings(legal_name="Agence Relais", share_capital=5000)
    login_as(make_lead())
    page = page_text(upload(client, b"not an image"))
    assert 'value="Agence Relais"' in page
    assert 'value="5000,00"' in page


def test_removing_the_logo_keeps_the_document_and_logs_it(client, login_as, db):
    login_as(make_lead())
    upload(client, image_bytes())
    sha = db.session.get(AgencySettings, 1).logo_sha256
    response = client.post("/agency/settings/logo/remove", follow_redirects=True)
    assert "Le logo de l'agence a été retiré." in page_text(response)
    assert db.session.get(AgencySettings, 1).logo_sha256 is None
    assert db.session.get(Document, sha) is not None  # documents are never deleted
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "settings.logo_removed"))


def test_cm_and_client_cannot_upload_or_remove_the_logo(client, login_as, db):
    for user in (make_cm(), make_client_user(make_client())):
        login_as(user)
        assert upload(client, image_bytes()).status_code == 403
        assert client.post("/agency/settings/logo/remove").status_code == 403
    assert documents_count(db) == 0


# -- serving -------------------------------------------------------------------------


def test_the_logo_is_404_when_the_agency_has_none(client, login_as, db):
    login_as(make_lead())
    assert client.get("/agency/logo").status_code == 404


def test_any_logged_in_user_gets_the_logo_with_cache_headers(client, login_as, db):
    login_as(make_lead())
    upload(client, image_bytes())
    sha = db.session.get(AgencySettings, 1).logo_sha256
    login_as(make_client_user(make_client()))

    response = client.get("/agency/logo")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert response.headers["ETag"] == f'"{sha}"'
    assert response.headers["Cache-Control"].startswith("private")
    assert hashlib.sha256(response.data).hexdigest() == sha

    again = client.get("/agency/logo", headers={"If-None-Match": f'"{sha}"'})
    assert again.status_code == 304
    assert again.data == b""

    versioned = client.get(f"/agency/logo?v={sha[:12]}")
    assert versioned.headers["Cache-Control"] == "private, max-age=86400"


def test_anonymous_visitors_do_not_get_the_logo(client, db):
    make_agency_settings(logo_sha256=store_document(image_bytes(), "image/png").sha256)
    response = client.get("/agency/logo")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# -- the shared download response -------------------------------------------------------


def test_document_response_as_attachment_has_a_safe_server_built_name(app, db):
    document = store_document(b"%PDF-1.7 test", "application/pdf")
    with app.test_request_context():
        response = document_response(document, download_name="Rapport d'activité octobre 2026.pdf")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Length"] == str(len(b"%PDF-1.7 test"))
    assert response.headers["ETag"] == f'"{document.sha256}"'
    assert response.headers["Cache-Control"] == "no-store"  # a client's document: no cache keeps it
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Rapport d-activite octobre 2026.pdf"')
    assert "filename*=UTF-8''Rapport%20d-activit%C3%A9%20octobre%202026.pdf" in disposition


def test_document_response_is_inline_without_a_name(app, db):
    document = store_document(b"%PDF-1.7 inline", "application/pdf")
    with app.test_request_context():
        assert document_response(document).headers["Content-Disposition"] == "inline"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ('fac"ture\r\n.pdf', "fac-ture-.pdf"),
        ("", "document"),
        ("...", "document"),
        ("F-2026-0001.pdf", "F-2026-0001.pdf"),
    ],
)
def test_download_names_lose_paths_quotes_and_control_characters(name, expected):
    assert safe_download_name(name) == expected


def test_content_disposition_of_an_ascii_name_has_no_utf8_variant():
    assert content_disposition("F-2026-0001.pdf") == 'attachment; filename="F-2026-0001.pdf"'
