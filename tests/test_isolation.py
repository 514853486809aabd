"""Confidentiality, route by route: walk every rule of `app.url_map`.

A route that takes arguments is requested with the ids of another client's
objects (or, for agency-level objects such as accounts, of an object the
role may not see), as each role that may not see them: a CM not assigned to
that client (and one whose assignments to it are past or future), a client
user of a competing company, and an anonymous visitor. It must answer 404
(the login redirect for the visitor; 403 only where the answer is the same
for an id that does not exist, so it reveals nothing), and neither the body
nor the headers may carry any of that client's identifying data.

Arguments are filled from FILLERS, keyed by argument name. A rule with an
argument FILLERS does not know fails the test, naming the rule: a new route
cannot slip past. Routes without arguments are requested as every role:
never a 500, never another client's data, and a 403 for a role the view's
`roles_required` excludes.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image
from werkzeug.routing import AnyConverter, Rule

from app import access
from app.auth.models import Role, User
from app.auth.tokens import make_token
from app.clients.assignments import assign_cm
from app.clients.models import Client, CMAssignment, CompetitorGroup, WallOverride
from app.documents.models import Document
from app.documents.services import store_document
from app.extensions import db as _db
from app.timeutil import today
from tests.factories import (
    activity,
    assign,
    make_client,
    make_client_user,
    make_cm,
    make_contract,
    make_entry,
    make_group,
    make_lead,
)

GHOST_ID = 987_654_321


# -- the data: two competing clients the requesters may not see -----------------------


@dataclass
class World:
    lead: User
    group: CompetitorGroup
    own: Client  # the client the requesters may see
    target: Client  # the client whose data must never leak
    rival: Client  # the target's competitor, served by the same CM through an override
    cm_own: User  # assigned to `own` only
    cm_past: User  # assigned to `target` in the past and in the future, not today
    cm_target: User  # serves target and rival (override)
    member_own: User  # client user of `own`
    target_members: list[User]
    target_assignment: CMAssignment
    target_override: WallOverride
    target_contract: Any
    target_entry: Any
    activity: Any
    stale_token: str
    outbox_name: str
    target_report: Any
    target_version: Any
    target_link: Any  # a live share link of the target's report
    revoked_share_token: str  # the secret of a revoked one
    target_invoice: Any  # issued, its PDF stored
    secrets: dict[int, list[str]] = field(default_factory=dict)  # client id -> identifying strings
    files: dict[int, list[bytes]] = field(default_factory=dict)  # client id -> its stored files

    def forbidden_for(self, user: User | None) -> list[str | bytes]:
        """What `user` must never read: the data of the clients it may not see."""
        visible = set()
        if user is not None:
            visible = {c.id for c in _db.session.scalars(access.visible_clients(user))}
        texts = [text for cid, texts in self.secrets.items() if cid not in visible for text in texts]
        return texts + [blob for cid, blobs in self.files.items() if cid not in visible for blob in blobs]


def tiny_png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, format="PNG")
    return out.getvalue()


def _client(name: str, group: CompetitorGroup, siren: str, vat: str, email: str, color) -> Client:
    client = make_client(
        name,
        group=group,
        siren=siren,
        vat_number=vat,
        address_line="9 rue du Pâquier",
        postal_code="73000",
        city="Chambéry",
        billing_email=email,
        internal_notes=f"Note interne sur {name} : marge serrée",
    )
    client.logo_sha256 = store_document(tiny_png(color), "image/png").sha256
    return client


@pytest.fixture
def world(app, db) -> World:
    from app.audit.services import record
    from app.mail import deliver

    lead = make_lead(name="Marc Lead")
    group = make_group("Boulangeries de Chambéry")
    own = _client(
        "Fournil Abadie", group, "732829320", "FR44732829320", "compta@fournil-abadie.example", (1, 2, 3)
    )
    target = _client(
        "Boulangerie Vautrin", group, "552100554", "FR96552100554", "factures@vautrin.example", (200, 10, 10)
    )
    rival = _client(
        "Patisserie Orsini", group, "403335904", "FR42403335904", "direction@orsini.example", (10, 200, 10)
    )
    cm_own, cm_past = make_cm(name="Camille Voisine"), make_cm(name="Paul Ancien")
    cm_target = make_cm(name="Lea Double")
    assign(cm_own, own)
    assign(cm_past, target, since=date(2020, 1, 1), until=today() - timedelta(days=1))
    assign(cm_past, target, since=today() + timedelta(days=1))
    assign(cm_target, rival)
    target_assignment = assign_cm(
        lead, target, cm_target, date(2021, 1, 1), override_reason="Accord écrit des deux gérants."
    )
    member_own = make_client_user(own, email="lucie@fournil-abadie.example", name="Lucie Abadie")
    target_members = [
        make_client_user(target, email="sophie@vautrin.example", name="Sophie Vautrin"),
        make_client_user(target, email="jules@vautrin.example", name="Jules Vautrin"),
    ]
    rival_member = make_client_user(rival, email="ines@orsini.example", name="Ines Orsini")
    record(lead, "client.updated", target, client_id=target.id, summary=f"Client modifié : {target.name}")
    contract = make_contract(target, title="Contrat Vautrin Premium")
    entry = make_entry(contract, cm_target, today().replace(day=1), 90)
    entry.note = "Galette des rois Vautrin-42"
    # A used invitation link: it must be refused without saying whose it was.
    stale_token = make_token(target_members[0], "invitation")
    target_members[0].session_version += 1
    _db.session.flush()
    path = Path(
        deliver(
            {
                "to": [target_members[0].email],
                "subject": "Votre rapport Boulangerie Vautrin",
                "text": "Bonjour Sophie Vautrin, SIREN 552100554.",
                "html": None,
            }
        )
    )
    # A published report (version 1, a rendered draft) with share links.
    from app.reports.services import create_share_link, revoke_share_link
    from tests.factories import make_report, make_version

    report = make_report(contract, today().replace(day=1), highlights="Faits marquants Vautrin-77")
    version = make_version(report, content=b"%PDF-1.7 rapport Boulangerie Vautrin", by=lead)
    report.draft_sha256 = store_document(b"%PDF-1.7 brouillon Vautrin", "application/pdf").sha256
    live_link, _token = create_share_link(lead, report, 30, "Direction Vautrin")
    revoked_link, revoked_token = create_share_link(lead, report, 30, "Ancien lien")
    revoke_share_link(lead, revoked_link)
    from tests.factories import make_issued_invoice

    invoice = make_issued_invoice(
        target,
        lead=lead,
        contract=contract,
        pdf=b"%PDF-1.7 facture Boulangerie Vautrin",
        lines=(("Forfait Vautrin-Premium", "1", "708.00", "20.00"),),
    )
    _db.session.flush()
    w = World(
        lead=lead,
        group=group,
        own=own,
        target=target,
        rival=rival,
        cm_own=cm_own,
        cm_past=cm_past,
        cm_target=cm_target,
        member_own=member_own,
        target_members=target_members,
        target_assignment=target_assignment,
        target_override=target_assignment.overrides[0],
        target_contract=contract,
        target_entry=entry,
        activity=activity(),
        stale_token=stale_token,
        outbox_name=path.name,
        target_report=report,
        target_version=version,
        target_link=live_link,
        revoked_share_token=revoked_token,
        target_invoice=invoice,
    )
    for client, members in ((target, target_members), (rival, [rival_member])):
        w.files[client.id] = [_db.session.get(Document, client.logo_sha256).content]
        w.secrets[client.id] = [
            client.name,
            client.siren,
            client.vat_number,
            client.billing_email,
            client.internal_notes,
            *(m.email for m in members),
            *(m.name for m in members),
        ]
    w.secrets[target.id] += [
        "Contrat Vautrin Premium",
        "Galette des rois Vautrin-42",
        "Faits marquants Vautrin-77",
        "Forfait Vautrin-Premium",
    ]
    w.files[target.id] += [
        b"%PDF-1.7 rapport Boulangerie Vautrin",
        b"%PDF-1.7 brouillon Vautrin",
        b"%PDF-1.7 facture Boulangerie Vautrin",
    ]
    yield w
    path.unlink(missing_ok=True)


# -- how each argument is filled ------------------------------------------------------
# name -> (value of the target's object, value of an object that does not exist)

FILLERS: dict[str, tuple[Callable[[World], Any], Any]] = {
    "client_id": (lambda w: w.target.id, GHOST_ID),
    "assignment_id": (lambda w: w.target_assignment.id, GHOST_ID),
    "contract_id": (lambda w: w.target_contract.id, GHOST_ID),
    "entry_id": (lambda w: w.target_entry.id, GHOST_ID),
    "user_id": (lambda w: w.target_members[0].id, GHOST_ID),
    "group_id": (lambda w: w.group.id, GHOST_ID),
    "activity_id": (lambda w: w.activity.id, GHOST_ID),
    "month": (lambda w: w.target_entry.day.strftime("%Y-%m"), "2019-01"),
    "token": (lambda w: w.stale_token, "pas-un-jeton"),
    "name": (lambda w: w.outbox_name, "19700101T000000000000-deadbeef.eml"),
    "report_id": (lambda w: w.target_report.id, GHOST_ID),
    "number": (lambda w: w.target_version.number, 99),
    "link_id": (lambda w: w.target_link.id, GHOST_ID),
    "invoice_id": (lambda w: w.target_invoice.id, GHOST_ID),
    # An RQ job id (health page, lead only): the target's invoice job, and one that never existed.
    "job_id": (lambda w: f"invoice-{w.target_invoice.id}", "pas-une-tache"),
}

# Where one endpoint needs its own value for an argument: (endpoint, name) -> filler.
# A share link is a capability (whoever holds a live one reads the report), so
# the walk gives /share/<token> the secret of a revoked link of the target: it
# must answer exactly as a token that never existed.
RULE_FILLERS: dict[tuple[str, str], tuple[Callable[[World], Any], Any]] = {
    ("reports.shared", "token"): (lambda w: w.revoked_share_token, "pas-un-jeton"),
}


def unknown_arguments(rule: Rule) -> list[str]:
    def fillable(name: str) -> bool:
        return name in FILLERS or isinstance(rule._converters.get(name), AnyConverter)

    return sorted(name for name in rule.arguments if not fillable(name))


def fill(rule: Rule, w: World, *, ghost: bool = False, own_client: Client | None = None) -> str:
    values: dict[str, Any] = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        if name in FILLERS:
            real, nowhere = RULE_FILLERS.get((rule.endpoint, name), FILLERS[name])
            values[name] = nowhere if ghost else real(w)
        elif isinstance(converter, AnyConverter):  # a fixed vocabulary, not an object
            values[name] = sorted(converter.items)[0]
    if own_client is not None:
        values["client_id"] = own_client.id
    return rule.build(values)[1]


# -- looking at responses ----------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def squash(text: str) -> str:
    return _SPACES.sub("", html.unescape(text)).lower()


def leaks(response, forbidden: list[str | bytes]) -> list[str]:
    """The forbidden strings found in the body or headers (spaces ignored:
    a SIREN shown as "552 100 554" still counts), and the forbidden files
    found in the body."""
    body = response.get_data()
    headers = " ".join(value for _, value in response.headers.items())
    seen = squash(body.decode("utf-8", errors="replace") + " " + headers)
    found = [text for text in forbidden if isinstance(text, str) and text and squash(text) in seen]
    files = [blob for blob in forbidden if isinstance(blob, bytes)]
    found += [f"<a stored file of {len(blob)} bytes>" for blob in files if blob in body]
    return found


def is_login_redirect(response) -> bool:
    return response.status_code in (301, 302, 303) and urlsplit(response.headers["Location"]).path == "/login"


def is_public(app, rule: Rule) -> bool:
    return bool(getattr(app.view_functions[rule.endpoint], access.PUBLIC_ATTR, False))


_ROLES_WRAPPER = access.roles_required("-")(lambda: None).__code__


def required_roles(view: Callable) -> set[str] | None:
    """The roles an `access.roles_required` (or lead_required) on `view`
    admits, found through the decorators' __wrapped__ chain; None if none."""
    while view is not None:
        code = getattr(view, "__code__", None)
        if code is _ROLES_WRAPPER and view.__closure__:
            cells = dict(zip(code.co_freevars, view.__closure__, strict=True))
            return set(cells["roles"].cell_contents)
        view = getattr(view, "__wrapped__", None)
    return None


def rules(app, *, with_args: bool) -> list[Rule]:
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint != "static" and bool(r.arguments) == with_args),
        key=lambda r: r.rule,
    )


def methods(rule: Rule) -> list[str]:
    return [m for m in ("GET", "POST") if m in (rule.methods or ())]


REQUESTERS = {
    "cm": lambda w: w.cm_own,
    "cm_past_and_future": lambda w: w.cm_past,
    "client": lambda w: w.member_own,
    "anonymous": lambda w: None,
}


@pytest.fixture
def act_as(client, login_as):
    """act_as(user or None): the next requests run as `user`, or anonymously."""

    def switch(user: User | None):
        if user is None:
            with client.session_transaction() as session:
                session.clear()
        else:
            login_as(user)
        return client

    return switch


class Crashed:
    """The outcome of a request whose view raised (in tests Flask propagates
    exceptions instead of answering 500): recorded, and the walk goes on."""

    status_code = 599
    headers: dict[str, str] = {}

    def __init__(self, error: Exception):
        self.error = error

    def get_data(self) -> bytes:
        return b""


def send(client, method: str, url: str, **kw):
    try:
        return client.open(url, method=method, data={} if method == "POST" else None, **kw)
    except Exception as error:  # noqa: BLE001 - reported as a failure with the rule
        return Crashed(error)


def outcome(response) -> str:
    if isinstance(response, Crashed):
        return f"raised {response.error!r}"[:300]
    return f"answered {response.status_code}"


# -- the tests ---------------------------------------------------------------------------


def test_every_route_argument_is_known_to_the_registry(app):
    missing = [
        f"{r.rule} ({r.endpoint}): {', '.join(unknown_arguments(r))}"
        for r in rules(app, with_args=True)
        if unknown_arguments(r)
    ]
    assert not missing, (
        "Routes with arguments the isolation test cannot fill; add them to FILLERS in "
        "tests/test_isolation.py (an object of a client the requester may not see):\n" + "\n".join(missing)
    )


def test_the_target_data_is_really_shown_to_who_may_see_it(world, act_as):
    """The positive control: without it, a body that never shows the target's
    data would make the leak checks below pass for nothing."""
    page = act_as(world.lead).get(f"/clients/{world.target.id}")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert world.target.name in text and world.target_members[0].email in text
    logo = act_as(world.cm_target).get(f"/clients/{world.target.id}/logo")
    assert logo.status_code == 200 and logo.data == tiny_png((200, 10, 10))
    own = act_as(world.cm_own).get(f"/clients/{world.own.id}")
    assert own.status_code == 200 and world.own.name in html.unescape(own.get_data(as_text=True))
    assert act_as(world.member_own).get(f"/clients/{world.own.id}/portal").status_code == 200
    report = f"/clients/{world.target.id}/reports/{world.target_report.id}"
    assert "Faits marquants Vautrin-77" in act_as(world.cm_target).get(report).get_data(as_text=True)
    pdf = act_as(world.target_members[1]).get(f"{report}/versions/{world.target_version.number}.pdf")
    assert pdf.status_code == 200 and pdf.data == b"%PDF-1.7 rapport Boulangerie Vautrin"
    assert world.forbidden_for(world.cm_own) and not world.forbidden_for(world.lead)
    assert leaks(page, world.forbidden_for(world.cm_own))


@pytest.mark.parametrize("requester", list(REQUESTERS))
def test_routes_with_ids_of_another_client_answer_404_and_show_nothing(app, world, act_as, requester):
    user = REQUESTERS[requester](world)
    forbidden = world.forbidden_for(user)
    own_client = None
    if user is not None:
        own_client = next(iter(_db.session.scalars(access.visible_clients(user))), None)
    failures: list[str] = []

    def check(rule: Rule, method: str, url: str, ghost_url: str, *, strict: bool) -> None:
        response = send(act_as(user), method, url)
        where = f"{method} {url} ({rule.endpoint}) as {requester}"
        found = leaks(response, forbidden)
        if found:
            failures.append(f"{where}: shows {found}")
        status = response.status_code
        if status >= 500:
            failures.append(f"{where}: {outcome(response)}")
            return
        if is_public(app, rule):
            ghost = send(act_as(user), method, ghost_url).status_code
            if ghost != status:
                failures.append(f"{where}: answered {status}, but {ghost} for an object that does not exist")
            return
        if user is None:
            if not (is_login_redirect(response) or status == 404):
                failures.append(f"{where}: answered {status}, not the login redirect nor 404")
            return
        if status == 404:
            return
        if status == 403 and not strict:
            ghost = send(act_as(user), method, ghost_url).status_code
            if ghost == 403:
                return
            failures.append(f"{where}: answered 403, but {ghost} for an object that does not exist")
            return
        failures.append(f"{where}: answered {status}, expected 404")

    for rule in rules(app, with_args=True):
        if unknown_arguments(rule):
            failures.append(f"{rule.rule} ({rule.endpoint}): {unknown_arguments(rule)} unknown to FILLERS")
            continue
        for method in methods(rule):
            url, ghost_url = fill(rule, world), fill(rule, world, ghost=True)
            # The target's client id in the URL: nothing may get past the client scope.
            check(rule, method, url, ghost_url, strict="client_id" in rule.arguments)
            if own_client is not None and "client_id" in rule.arguments and len(rule.arguments) > 1:
                # A visible client in the URL, the target's child object after it.
                check(
                    rule,
                    method,
                    fill(rule, world, own_client=own_client),
                    fill(rule, world, ghost=True, own_client=own_client),
                    strict=False,
                )

    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("requester", list(REQUESTERS))
def test_routes_without_ids_never_fail_nor_show_another_client(app, world, act_as, requester):
    user = REQUESTERS[requester](world)
    forbidden = world.forbidden_for(user)
    failures: list[str] = []
    for rule in rules(app, with_args=False):
        allowed = required_roles(app.view_functions[rule.endpoint])
        for method in methods(rule):
            where = f"{method} {rule.rule} ({rule.endpoint}) as {requester}"
            if user is None and not is_public(app, rule):
                response = send(act_as(user), method, rule.rule)
                if not is_login_redirect(response):
                    failures.append(f"{where}: {outcome(response)}, not the login redirect")
                continue
            if user is not None and allowed is not None and user.role not in allowed:
                response = send(act_as(user), method, rule.rule)
                if response.status_code != 403:
                    failures.append(f"{where}: {outcome(response)}, expected 403 (for {sorted(allowed)})")
            else:
                response = send(act_as(user), method, rule.rule, follow_redirects=True)
                if response.status_code >= 500:
                    failures.append(f"{where}: {outcome(response)}")
            found = leaks(response, forbidden)
            if found:
                failures.append(f"{where}: shows {found}")
    assert not failures, "\n".join(failures)


def test_lead_pages_without_ids_never_fail(app, world, act_as):
    failures = []
    for rule in rules(app, with_args=False):
        if "GET" in (rule.methods or ()):
            response = send(act_as(world.lead), "GET", rule.rule, follow_redirects=True)
            if response.status_code >= 500:
                failures.append(f"GET {rule.rule} ({rule.endpoint}) as lead: {outcome(response)}")
    assert not failures, "\n".join(failures)


def test_required_roles_reads_the_access_decorators(app):
    views = app.view_functions
    assert required_roles(views["main.dashboard"]) == {Role.LEAD}
    assert required_roles(views["clients.mine"]) == {Role.CM}
    assert required_roles(views["main.home"]) is None
    assert required_roles(views["auth.login"]) is None
