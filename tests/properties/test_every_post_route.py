"""Every POST route of `app.url_map`, with CSRF on, posted junk with a
missing or forged token: refused (400) and nothing changed, never a 500.
A new POST route with an argument this file cannot fill fails the test:
give it a filler (and a property test of its form)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.auth.tokens import make_token
from app.clients.models import CMAssignment
from app.extensions import db as _db
from app.timesheets.services import active_activities
from tests.factories import make_group
from tests.properties.support import FORMS, changed_tables, fingerprint, hostile_text, send

FILLERS = {
    "client_id": lambda w: w.own.id,
    "invoice_id": lambda w: w.issued.id,
    "report_id": lambda w: w.published.id,
    "contract_id": lambda w: w.contract.id,
    "entry_id": lambda w: w.entry.id,
    "month": lambda w: "2025-06",
    "user_id": lambda w: w.cm.id,
    "activity_id": lambda w: active_activities()[0].id,
    "action": lambda w: "retire",
    "link_id": lambda w: 1,
    "token": lambda w: make_token(w.member, "reset"),
    "assignment_id": lambda w: _db.session.scalar(
        select(CMAssignment.id).where(CMAssignment.client_id == w.own.id)
    ),
    "group_id": lambda w: make_group().id,
    "job_id": lambda w: "job-that-does-not-exist",
}


def post_rules(app) -> list:
    return sorted(
        (rule for rule in app.url_map.iter_rules() if "POST" in rule.methods and rule.endpoint != "static"),
        key=lambda rule: rule.rule,
    )


def test_every_post_route_can_be_filled(app):
    missing = {
        f"{rule.rule}: {argument}"
        for rule in post_rules(app)
        for argument in rule.arguments
        if argument not in FILLERS
    }
    assert not missing, f"add a filler (and a property test) for: {sorted(missing)}"


@settings(FORMS, max_examples=80)
@given(
    data=st.data(),
    token=st.none() | hostile_text() | st.just("IjQ4ZjFkYmM2ZTQ1ZGQ5NWJmYTQ4NTM5In0.Zz9x.forged"),
    junk=st.dictionaries(hostile_text().map(lambda s: s[:40]), hostile_text(), max_size=4),
)
def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    app, client, login_as, world, csrf_enabled, data, token, junk
):
    rule = data.draw(st.sampled_from(post_rules(app)), label="rule")
    login_as(world.lead)
    url = rule.build({name: FILLERS[name](world) for name in rule.arguments}, append_unknown=False)[1]
    _db.session.commit()
    form = dict(junk)
    if token is not None:
        form["csrf_token"] = token
    before = fingerprint()
    answer = send(client, url, form)
    assert answer.status == 400, (rule.rule, answer.status)
    assert changed_tables(before, fingerprint()) == []
