"""Logo upload: checked by content, re-encoded to PNG, served privately."""

import io

from PIL import Image
from sqlalchemy import func, select

from app.clients.models import Client
from app.documents.models import Document
from tests.clients.conftest import image_bytes, noise_png, page_text
from tests.factories import assign, make_client, make_client_user, make_cm, make_lead


def upload(client, data: bytes, filename: str, name: str = "Logo SARL"):
    return client.post(
        "/clients/new",
        data={"name": name, "country_code": "FR", "logo": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def documents(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Document))


def test_a_png_logo_is_accepted_re_encoded_and_stored(client, login_as, db):
    login_as(make_lead())
    raw = image_bytes("PNG") + b"trailing bytes after the image"
    response = upload(client, raw, "logo.png")
    assert response.status_code == 302
    created = db.session.scalar(select(Client).where(Client.name == "Logo SARL"))
    document = db.session.get(Document, created.logo_sha256)
    assert document.media_type == "image/png"
    assert document.content != raw  # re-encoded, the trailing bytes are gone
    with Image.open(io.BytesIO(document.content)) as image:
        assert image.format == "PNG" and image.size == (64, 32)


def test_a_jpeg_logo_is_converted_to_png(client, login_as, db):
    login_as(make_lead())
    response = upload(client, image_bytes("JPEG"), "photo.jpg")
    assert response.status_code == 302
    created = db.session.scalar(select(Client).where(Client.name == "Logo SARL"))
    with Image.open(io.BytesIO(db.session.get(Document, created.logo_sha256).content)) as image:
        assert image.format == "PNG"


def test_a_text_file_named_png_is_refused_with_a_clear_message(client, login_as, db):
    login_as(make_lead())
    response = upload(client, b"Ceci n'est pas une image.\n", "logo.png")
    assert response.status_code == 200
    assert "Ce fichier n'est pas une image PNG ou JPEG valide." in page_text(response)
    assert db.session.scalar(select(Client.id)) is None
    assert documents(db) == 0


def test_svg_and_gif_are_refused_even_when_valid(client, login_as, db):
    login_as(make_lead())
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert "Ce fichier n'est pas une image PNG ou JPEG valide." in page_text(upload(client, svg, "logo.svg"))
    gif = image_bytes("GIF")
    assert "Ce fichier n'est pas une image PNG ou JPEG valide." in page_text(upload(client, gif, "logo.png"))
    assert db.session.scalar(select(Client.id)) is None


def test_a_truncated_png_is_refused(client, login_as, db):
    login_as(make_lead())
    raw = noise_png(64)
    response = upload(client, raw[: len(raw) // 2], "logo.png")
    assert "Ce fichier n'est pas une image PNG ou JPEG valide." in page_text(response)


def test_a_logo_over_the_limit_is_refused(client, login_as, db, set_config):
    raw = noise_png(100)
    set_config(LOGO_MAX_BYTES=len(raw) - 1)
    login_as(make_lead())
    response = upload(client, raw, "logo.png")
    assert response.status_code == 200
    assert "Le logo est trop lourd" in page_text(response)
    assert db.session.scalar(select(Client.id)) is None


def test_edit_replaces_then_removes_the_logo(client, login_as, db):
    target = make_client("Garage Leroy")
    login_as(make_lead())
    data = {"name": "Garage Leroy", "country_code": "FR", "logo": (io.BytesIO(image_bytes()), "l.png")}
    client.post(f"/clients/{target.id}/edit", data=data, content_type="multipart/form-data")
    db.session.refresh(target)
    assert target.logo_sha256 is not None
    client.post(
        f"/clients/{target.id}/edit", data={"name": "Garage Leroy", "country_code": "FR", "remove_logo": "y"}
    )
    db.session.refresh(target)
    assert target.logo_sha256 is None
    assert documents(db) == 1  # the store never deletes


def test_logo_is_served_privately_to_whoever_sees_the_client(client, login_as, db):
    lead, cm, stranger = make_lead(), make_cm(), make_cm()
    target = make_client("Garage Leroy")
    assign(cm, target)
    member = make_client_user(target)
    login_as(lead)
    data = {"name": "Garage Leroy", "country_code": "FR", "logo": (io.BytesIO(image_bytes()), "l.png")}
    client.post(f"/clients/{target.id}/edit", data=data, content_type="multipart/form-data")
    for user in (lead, cm, member):
        login_as(user)
        response = client.get(f"/clients/{target.id}/logo")
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert response.headers["Cache-Control"].startswith("private")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    etag = response.headers["ETag"]
    assert client.get(f"/clients/{target.id}/logo", headers={"If-None-Match": etag}).status_code == 304
    login_as(stranger)
    assert client.get(f"/clients/{target.id}/logo").status_code == 404


def test_no_logo_is_404(client, login_as, db):
    target = make_client()
    login_as(make_lead())
    assert client.get(f"/clients/{target.id}/logo").status_code == 404
