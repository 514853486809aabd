"""Logging in, the forgotten password, the links sent by mail and one's own
account, fed hostile input: never a 500, a refusal changes nothing and says
why in French, an accepted form keeps a clean value."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.auth.tokens import make_token
from app.extensions import db as _db
from app.extensions import limiter
from tests.factories import PASSWORD, make_user
from tests.properties.support import FORMS, attempt, hostile_text, maybe

# A successful login or link changes the user's row and writes the audit log.
CHANGING = ("user_account", "audit_entry")


@FORMS
@given(
    email=maybe(["lucie@fournil-abadie.example", "LUCIE@fournil-abadie.example "]),
    password=maybe([PASSWORD]),
    remember=st.sampled_from(["", "y", "on", "\x00", "9" * 50]),
)
def test_login_refuses_hostile_input_with_a_french_message(client, world, email, password, remember):
    limiter.reset()
    client.post("/logout")
    answer, changed = attempt(
        client, "/login", {"email": email, "password": password, "remember": remember}, secrets=world.secrets
    )
    if not answer.refused:
        assert answer.status == 302
        assert set(changed) <= {"user_account"}


@FORMS
@given(email=maybe(["lucie@fournil-abadie.example"]))
def test_forgot_password_answers_the_same_and_never_fails(client, world, email):
    limiter.reset()
    answer, changed = attempt(client, "/password/forgot", {"email": email}, secrets=world.secrets)
    if not answer.refused:
        assert answer.status == 302 and changed == []


@FORMS
@given(
    password=maybe(["une phrase assez longue"]),
    confirm=maybe(["une phrase assez longue"]),
    purpose=st.sampled_from(["invitation", "reset"]),
)
def test_links_sent_by_mail_refuse_bad_passwords_and_change_nothing(
    client, world, password, confirm, purpose
):
    user = make_user(pending=purpose == "invitation")
    token = make_token(user, purpose)
    _db.session.commit()
    url = f"/invitation/{token}" if purpose == "invitation" else f"/password/reset/{token}"
    answer, changed = attempt(client, url, {"password": password, "confirm": confirm}, secrets=world.secrets)
    client.post("/logout")
    if not answer.refused:
        assert password == confirm and 10 <= len(password) <= 256
        assert set(changed) <= set(CHANGING)


@FORMS
@given(name=maybe(["Lucie Abadie", "  Lucie  "]), locale=maybe(["fr", "en"]))
def test_account_keeps_a_clean_name_or_refuses(client, login_as, world, name, locale):
    login_as(world.member)
    answer, changed = attempt(client, "/account", {"name": name, "locale": locale}, secrets=world.secrets)
    if not answer.refused:
        _db.session.refresh(world.member)
        saved = world.member.name
        assert saved == saved.strip() and 0 < len(saved) <= 120
        assert world.member.locale in ("fr", "en")
        world.member.name, world.member.locale = "Lucie Abadie", "fr"
        _db.session.commit()


@FORMS
@given(current=maybe([PASSWORD]), password=hostile_text(), confirm=hostile_text())
def test_changing_ones_password_refuses_hostile_input(client, login_as, world, current, password, confirm):
    login_as(world.member)
    answer, changed = attempt(
        client,
        "/account/password",
        {"current_password": current, "password": password, "confirm": confirm},
        secrets=world.secrets,
    )
    if not answer.refused:
        assert current == PASSWORD and password == confirm
