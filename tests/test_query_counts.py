"""Each page issues as many SQL queries for an agency of 100 clients as for
one of 10 (their contracts, entries, assignments and users with them): no
query per client, contract or entry. The lead's dashboard stays within 15.

The agencies are made by the benchmark generator (bench/generate.py), with
bulk inserts, inside the test's transaction. Speed itself is measured by
bench/run, never here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.auth.models import User
from app.timesheets.calendar import month_start
from app.timesheets.models import BudgetAlert
from app.timeutil import today
from bench.context import Context, Plan
from bench.generate import fill, grow, new_context
from tests.factories import _password_hash

DASHBOARD_MAX_QUERIES = 15


@dataclass
class Agency:
    ctx: Context
    lead: User
    cm: User
    client_user: User
    client_id: int
    contract_id: int


def make_agency(db, clients: int) -> Agency:
    plan = Plan(seed=7, clients=clients, cms=5, months=2, today=today())
    ctx = fill(new_context(db.session.connection(), plan, password_hash=_password_hash()))
    first = ctx.batch[0]["id"]
    cm_id = ctx.serving[first][0]
    contract_id = next(c.id for c in ctx.contracts if c.client_id == first)
    member = db.session.scalar(select(User).where(User.email.like(f"contact1.client{first}@%")))
    # Both budget mails already sent this month: an entry that crosses a
    # threshold (which depends on the random data) sends none, so the POST
    # takes the same path whatever the agency.
    for threshold in (80, 100):
        db.session.add(
            BudgetAlert(
                client_id=first, contract_id=contract_id, month=month_start(today()), threshold=threshold
            )
        )
    db.session.flush()
    return Agency(
        ctx=ctx,
        lead=db.session.get(User, ctx.lead_id),
        cm=db.session.get(User, cm_id),
        client_user=member,
        client_id=first,
        contract_id=contract_id,
    )


def pages(agency: Agency) -> dict[str, tuple[User, str, str, dict | None]]:
    day = today().isoformat()
    entry = {
        "day": day,
        "contract": agency.contract_id,
        "duration": "15",
        "activity": agency.ctx.activities["Animation"],
        "note": "compté",
    }
    return {
        "day view": (agency.cm, "GET", "/time", None),
        "entry": (agency.cm, "POST", f"/time?day={day}", entry),
        "dashboard": (agency.lead, "GET", "/dashboard", None),
        "client list": (agency.lead, "GET", "/clients", None),
        "my clients": (agency.cm, "GET", "/my-clients", None),
        "entries list": (agency.lead, "GET", "/time/entries", None),
        "portal home": (agency.client_user, "GET", f"/clients/{agency.client_id}/portal", None),
    }


# What each page issues at most, scope settings included, as measured when
# they were last cut down (bench/run times them): a page that needs one
# more statement says so here.
STATEMENTS = {
    "day view": 10,
    "entry": 13,
    "dashboard": 9,
    "client list": 7,
    "my clients": 12,
    "entries list": 8,
    "portal home": 12,
}


def measure(client, login_as, count_queries, agency: Agency, *, with_scope: bool = False) -> dict[str, int]:
    counts = {}
    for name, (user, method, path, form) in pages(agency).items():
        login_as(user)
        client.open(path, method=method, data=form)  # once to warm up
        with count_queries() as counter:
            response = client.open(path, method=method, data=form)
        assert response.status_code == (302 if method == "POST" else 200), f"{name}: {response.status_code}"
        counts[name] = counter.count + (counter.scope_count if with_scope else 0)
    return counts


def test_no_page_issues_more_queries_for_100_clients_than_for_10(client, login_as, count_queries, db):
    agency = make_agency(db, 10)
    small = measure(client, login_as, count_queries, agency)
    grow(agency.ctx, 90)
    db.session.expire_all()
    large = measure(client, login_as, count_queries, agency)

    grown = {name: (small[name], large[name]) for name in small if large[name] != small[name]}
    assert not grown, f"queries at 10 and at 100 clients: {grown}"


def test_the_dashboard_of_100_clients_issues_at_most_15_queries(client, login_as, count_queries, db):
    agency = make_agency(db, 100)
    login_as(agency.lead)
    client.get("/dashboard")
    with count_queries() as counter:
        assert client.get("/dashboard").status_code == 200
    # The scope's settings count too here: the issue's limit is on statements.
    assert counter.count + counter.scope_count <= DASHBOARD_MAX_QUERIES, "\n\n".join(counter.statements)


def test_each_page_issues_no_more_statements_than_it_did(client, login_as, count_queries, db):
    counts = measure(client, login_as, count_queries, make_agency(db, 10), with_scope=True)
    over = {name: (counts[name], most) for name, most in STATEMENTS.items() if counts[name] > most}
    assert not over, f"(issued, at most): {over}"
    assert counts.keys() == STATEMENTS.keys()
