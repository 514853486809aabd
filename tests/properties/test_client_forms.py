"""The lead's client pages: a client's details, CM assignments and
competitor groups, fed hostile input and ids that are not theirs."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from app.clients.models import Client, CMAssignment, CompetitorGroup
from app.extensions import db as _db
from app.fields import FIRST_DAY, LAST_DAY
from tests.factories import make_cm
from tests.properties.support import DATES, FORMS, attempt, hostile_text, maybe, other_ids, posted

CLIENT = {
    "name": "Boulangerie Neuve",
    "siren": "",
    "vat_number": "",
    "address_line": "1 place du Marché",
    "postal_code": "74000",
    "city": "Annecy",
    "country_code": "FR",
    "billing_email": "compta@neuve.example",
    "competitor_group": "",
    "internal_notes": "",
}


def _client_fields(world) -> dict:
    return {
        "siren": maybe(["443 061 841", "552100554", "732829320", "123456789"]),
        "vat_number": maybe(["FR64443061841", "DE123456789", "FR00000000000"]),
        "country_code": maybe(["FR", "DE", "ZZ", "fr"]),
        "competitor_group": other_ids(),
        "billing_email": maybe(["a@b.fr", "pas une adresse", "x@" + "y" * 300 + ".fr"]),
    }


def _clean(client: Client) -> None:
    for name in ("name", "address_line", "postal_code", "city"):
        value = getattr(client, name) or ""
        assert value == value.strip(), name
    assert 0 < len(client.name) <= 160
    assert client.siren is None or (len(client.siren) == 9 and client.siren.isdigit())


@FORMS
@given(data=st.data())
def test_creating_a_client_refuses_hostile_input(client, login_as, world, data):
    login_as(world.lead)
    form = data.draw(posted(CLIENT, _client_fields(world)))
    logo = data.draw(
        st.none() | st.binary(max_size=600) | st.just(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40), label="logo"
    )
    if logo is not None:
        form["logo"] = (io.BytesIO(logo), data.draw(st.sampled_from(["logo.png", "x.svg", "", "é\x00.jpg"])))
    answer, changed = attempt(client, "/clients/new", form, content_type="multipart/form-data")
    if not answer.refused:
        created = _db.session.scalar(select(Client).order_by(Client.id.desc()).limit(1))
        _clean(created)
        assert answer.location.endswith(f"/clients/{created.id}")


@FORMS
@given(data=st.data())
def test_editing_a_client_refuses_hostile_input(client, login_as, world, data):
    login_as(world.lead)
    valid = {**CLIENT, "name": "Fournil Abadie", "siren": "732829320"}
    form = data.draw(posted(valid, _client_fields(world)))
    answer, changed = attempt(
        client, f"/clients/{world.own.id}/edit", form, content_type="multipart/form-data"
    )
    if not answer.refused:
        _db.session.refresh(world.own)
        _clean(world.own)


@FORMS
@given(data=st.data())
def test_assigning_a_cm_refuses_hostile_input(client, login_as, world, data):
    login_as(world.lead)
    form = data.draw(
        posted(
            {"cm": str(world.cm.id), "since": "2026-01-01", "until": "", "override_reason": ""},
            {
                "cm": other_ids(world.lead.id, world.other_member.id) | st.just(str(world.cm.id)),
                "since": st.sampled_from(DATES) | hostile_text(),
                "until": st.sampled_from(DATES) | hostile_text(),
            },
        )
    )
    # A new CM each time: an accepted assignment does not make the next a duplicate.
    form.setdefault("cm", "")
    if form["cm"] == str(world.cm.id):
        form["cm"] = str(make_cm().id)
        _db.session.commit()
    answer, changed = attempt(client, f"/clients/{world.own.id}/assignments", form, secrets=world.secrets)
    if not answer.refused:
        assignment = _db.session.scalar(select(CMAssignment).order_by(CMAssignment.id.desc()).limit(1))
        assert assignment.client_id == world.own.id
        assert FIRST_DAY <= assignment.since <= LAST_DAY
        assert assignment.until is None or assignment.since <= assignment.until <= LAST_DAY


@FORMS
@given(until=st.sampled_from(DATES) | hostile_text(), other=st.booleans())
def test_ending_an_assignment_refuses_hostile_dates_and_other_clients_ids(
    client, login_as, world, until, other
):
    login_as(world.lead)
    theirs = _db.session.scalar(select(CMAssignment.id).where(CMAssignment.client_id == world.other.id))
    ours = _db.session.scalar(select(CMAssignment.id).where(CMAssignment.client_id == world.own.id))
    if other and theirs is None:
        other = False
    assignment_id = theirs if other else ours
    answer, changed = attempt(
        client,
        f"/clients/{world.own.id}/assignments/{assignment_id}/end",
        {"until": until},
        secrets=world.secrets,
    )
    if other:
        assert answer.status in (400, 404) and changed == []


@FORMS
@given(name=maybe(["Boulangeries d'Annecy"]), description=hostile_text(), edit=st.booleans())
def test_competitor_groups_refuse_hostile_input(client, login_as, world, name, description, edit):
    login_as(world.lead)
    group = _db.session.scalar(select(CompetitorGroup).limit(1))
    url = f"/competitor-groups/{group.id}/edit" if edit and group is not None else "/competitor-groups"
    answer, changed = attempt(client, url, {"name": name, "description": description})
    if not answer.refused:
        saved = _db.session.scalar(select(CompetitorGroup).order_by(CompetitorGroup.id.desc()).limit(1))
        assert 0 < len(saved.name) <= 120 and saved.name == saved.name.strip()
