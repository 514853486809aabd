"""The lists' filters and the pages' query strings (?client=, ?page=,
?month=, ?q=...) are forms too: any value, on any page, as the lead, a CM
or a client contact, gets a page, a redirect or a 4xx, never a 500, and
changes nothing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.extensions import db as _db
from tests.properties.support import (
    DATES,
    FORMS,
    NUMBERS,
    changed_tables,
    check_no_leak,
    fingerprint,
    hostile_text,
    send,
)
from tests.properties.test_every_post_route import FILLERS

KEYS = [
    "page",
    "client",
    "contract",
    "cm",
    "activity",
    "channel",
    "start",
    "end",
    "day",
    "month",
    "year",
    "q",
    "status",
    "kind",
    "sort",
    "overdue",
    "role",
    "client_id",
    "next",
    "v",
    "archived",
    "group",
    "action",
    "actor",
]
SKIPPED = {"static", "payments.pay"}  # static files; the payment page calls Stripe


def get_rules(app) -> list:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if "GET" in rule.methods and rule.endpoint not in SKIPPED and set(rule.arguments) <= set(FILLERS)
        ),
        key=lambda rule: rule.rule,
    )


@settings(FORMS, max_examples=120)
@given(
    data=st.data(),
    query=st.dictionaries(
        st.sampled_from(KEYS),
        st.sampled_from(
            NUMBERS + DATES + ["2147483648", "-5", "0", "abc", "1999", "2101", "9223372036854775808"]
        )
        | hostile_text(),
        max_size=4,
    ),
    role=st.sampled_from(["lead", "cm", "member"]),
)
def test_any_query_string_on_any_page_is_answered(app, client, login_as, world, data, query, role):
    rule = data.draw(st.sampled_from(get_rules(app)), label="rule")
    user = {"lead": world.lead, "cm": world.cm, "member": world.member}[role]
    login_as(user)
    url = rule.build({name: FILLERS[name](world) for name in rule.arguments}, append_unknown=False)[1]
    _db.session.commit()
    before = fingerprint(exclude=("user_account",))  # a page may note the user's last visit
    answer = send(client, url, method="get", query_string=query)
    assert answer.status in (200, 302, 303, 400, 403, 404), (rule.rule, answer.status)
    assert changed_tables(before, fingerprint(exclude=("user_account",))) in ([], ["report"], ["audit_entry"])
    if role != "lead":  # the lead sees every client
        check_no_leak(answer, world.secrets)
