"""The lead's team pages (invitation, editing an account) and the agency's
settings and logo, fed hostile input."""

from __future__ import annotations

import io
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.agency.forms import SettingsForm
from app.agency.services import get_settings
from app.extensions import db as _db
from tests.properties.support import (
    FORMS,
    NUMBERS,
    attempt,
    hostile_text,
    maybe,
    other_ids,
    posted,
)


def _clean_line(value: str | None) -> bool:
    return value is None or value == value.strip()


@FORMS
@given(data=st.data())
def test_inviting_refuses_hostile_input_or_saves_a_clean_account(client, login_as, world, data):
    login_as(world.lead)
    form = data.draw(
        posted(
            {
                "name": "Paul Neuf",
                "email": "paul@agence.example",
                "role": "cm",
                "client_id": "",
                "job_title": "",
            },
            {
                "role": maybe(["cm", "lead", "client"]),
                "client_id": other_ids(world.own.id, world.other.id) | st.just(str(world.own.id)),
                "email": maybe(["paul@agence.example", "x@y", "é@exemple.fr", "a@b.c" + "o" * 300]),
            },
        )
    )
    answer, changed = attempt(client, "/users/invite", form)
    if not answer.refused:
        from sqlalchemy import select

        from app.auth.models import User

        user = _db.session.scalar(select(User).order_by(User.id.desc()).limit(1))
        assert user.email == user.email.strip().lower() and len(user.email) <= 254
        assert 0 < len(user.name) <= 120 and _clean_line(user.name)
        _db.session.delete(user)  # the next example may invite the same address
        _db.session.commit()


@FORMS
@given(data=st.data())
def test_editing_an_account_refuses_hostile_input(client, login_as, world, data):
    login_as(world.lead)
    form = data.draw(
        posted(
            {"name": "Léa Martin", "email": world.cm.email, "role": "cm", "cost_rate": "35,00"},
            {"role": maybe(["cm", "lead", "client"]), "cost_rate": st.sampled_from(NUMBERS) | hostile_text()},
        )
    )
    answer, changed = attempt(client, f"/users/{world.cm.id}/edit", form)
    if not answer.refused:
        _db.session.refresh(world.cm)
        cm = world.cm
        assert 0 < len(cm.name) <= 120 and _clean_line(cm.name)
        assert cm.cost_rate is None or Decimal(0) <= cm.cost_rate <= Decimal("9999999999.99")


def _valid_settings(app) -> dict[str, str]:
    """The settings form as the page fills it, every field valid."""
    with app.test_request_context():
        form = SettingsForm(formdata=None, obj=get_settings())
        values = {}
        for field in form:
            if field.type in ("CSRFTokenField", "FileField", "SubmitField"):
                continue
            value = field._value() if hasattr(field, "_value") else field.data
            values[field.name] = "" if value is None else str(value)
    return values


@FORMS
@given(data=st.data())
def test_agency_settings_refuse_hostile_input_and_keep_the_settings(app, client, login_as, world, data):
    login_as(world.lead)
    valid = _valid_settings(app)
    numbers = st.sampled_from(NUMBERS) | hostile_text()
    form = data.draw(
        posted(
            valid,
            {
                "payment_terms_days": numbers,
                "signoff_days": numbers,
                "share_link_days": numbers,
                "late_penalty_rate": numbers,
                "share_capital": numbers,
                "vat_regime": maybe(["normal", "franchise"]),
            },
        )
    )
    answer, changed = attempt(client, "/agency/settings", form)
    if not answer.refused:
        settings = get_settings()
        _db.session.refresh(settings)
        assert 0 <= settings.payment_terms_days <= 60
        assert settings.legal_name and _clean_line(settings.legal_name)
        assert settings.is_complete


def _upload(content: bytes, name: str, mimetype: str) -> dict:
    return {"logo": (io.BytesIO(content), name, mimetype)}


@FORMS
@given(
    content=st.binary(max_size=2000)
    | st.sampled_from([b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, b"GIF89a", b"<svg onload=alert(1)>", b""]),
    name=st.sampled_from(["logo.png", "../../etc/passwd", "logo\x00.png", "", "é" * 300 + ".jpg", "a.svg"]),
    mimetype=st.sampled_from(["image/png", "image/jpeg", "text/html", "application/octet-stream"]),
)
def test_a_logo_that_is_not_an_image_is_refused_with_a_message(
    client, login_as, world, content, name, mimetype
):
    login_as(world.lead)
    answer, changed = attempt(
        client, "/agency/settings/logo", _upload(content, name, mimetype), content_type="multipart/form-data"
    )
    assert answer.refused or content.startswith((b"\x89PNG", b"\xff\xd8"))
