"""HTTP benchmarks: Relais and the bare stack (bench/bare_app.py) served side
by side by gunicorn (2 sync workers each, 127.0.0.1 only) against the same
database, driven by wrk in the same run.

Real users log in through the real /login form (CSRF token included); the
day view's form gives each CM its CSRF token for the entry POSTs. wrk then
replays, for a fixed time after a short warm-up, a list of prepared requests
(a generated Lua script sets each one's Cookie header and body), and counts
every answer other than the expected status as an error.

The module is named http_bench, not http: a module named `http` in bench/
would shadow the standard library's whenever bench/ is on sys.path.
"""

from __future__ import annotations

import http.client
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import Engine, create_engine, text

from bench.generate import LEAD_EMAIL, PASSWORD, client_email, sqlalchemy_url
from bench.servers import HOST, servers
from bench.wrk import Request, Result, Scenario, ensure_wrk, run_wrk

# Short entries: even on the 1st of a month (one open day per CM), a run
# stays far from the 24 h a day that Relais refuses past.
ENTRY_MINUTES = 5
# The note of every entry the benchmarks add (the generator writes none).
BENCH_NOTE = "bench"


# -- HTTP as a browser would ---------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str


def call(port: int, method: str, path: str, cookie: str | None = None, form: dict | None = None) -> Answer:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        headers = {"Cookie": cookie} if cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read().decode("utf-8", "replace"))
    finally:
        connection.close()


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(page: str) -> str:
    match = CSRF.search(page)
    if match is None:
        raise RuntimeError("no csrf_token in the page")
    return match.group(1)


def session_cookie(answer: Answer, previous: str | None = None) -> str | None:
    jar = SimpleCookie()
    for header in answer.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    for name in ("__Host-relais_session", "relais_session"):  # production, development
        if name in jar:
            return f"{name}={jar[name].value}"
    return previous


@dataclass
class Login:
    email: str
    cookie: str
    csrf: str  # valid for every form of this session


def log_in(port: int, email: str, form_page: str) -> Login:
    """The real /login form, then `form_page` for a CSRF token of the new session."""
    page = call(port, "GET", "/login")
    cookie = session_cookie(page)
    answer = call(
        port,
        "POST",
        "/login",
        cookie,
        {"csrf_token": csrf_token(page.body), "email": email, "password": PASSWORD},
    )
    if answer.status != 302:
        raise RuntimeError(f"login of {email} refused ({answer.status})")
    cookie = session_cookie(answer, cookie)
    landing = call(port, "GET", form_page, cookie)
    if landing.status != 200:
        raise RuntimeError(f"{email} logged in but {form_page} answered {landing.status}")
    return Login(email, session_cookie(landing, cookie) or "", csrf_token(landing.body))


# -- what to ask ---------------------------------------------------------------------------------


@dataclass
class Load:
    lead: str
    cms: dict[int, str]  # user id -> e-mail
    portals: dict[str, int]  # client user e-mail -> client id
    slots: list[tuple[int, int, int, date]]  # (cm id, contract id, client id, day) open for entries
    activity_id: int
    today: date


def load_of(url: str, portals: int = 50) -> Load:
    """Who logs in and where entries may go: days of the current (open) month
    where the CM served the client and the contract ran, every CM in turn."""
    from app.timeutil import today as agency_today

    today = agency_today()
    first = today.replace(day=1)
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            cms = dict(
                conn.execute(text("SELECT id, email FROM user_account WHERE role = 'cm' ORDER BY id")).all()
            )
            pairs = conn.execute(
                text(
                    "SELECT a.cm_id, c.id, c.client_id, greatest(c.start_date, a.since) FROM cm_assignment a"
                    " JOIN contract c ON c.client_id = a.client_id AND c.end_date IS NULL"
                    " JOIN client k ON k.id = c.client_id AND k.archived_at IS NULL"
                    " WHERE a.until IS NULL ORDER BY a.cm_id, c.id"
                )
            ).all()
            clients = conn.scalars(text("SELECT id FROM client ORDER BY id LIMIT :n"), {"n": portals}).all()
            activity_id = conn.scalar(text("SELECT id FROM activity WHERE label = 'Animation'"))
    finally:
        engine.dispose()
    by_cm: dict[int, list[tuple[int, int, date]]] = {}
    for cm_id, contract_id, client_id, since in pairs:
        by_cm.setdefault(cm_id, []).append((contract_id, client_id, since))
    slots = []
    day = first
    while day <= today:
        for cm_id, contracts in by_cm.items():
            open_ = [c for c in contracts if c[2] <= day]
            if open_:
                contract_id, client_id, _since = open_[day.day % len(open_)]
                slots.append((cm_id, contract_id, client_id, day))
        day += timedelta(days=1)
    return Load(
        lead=LEAD_EMAIL,
        cms=cms,
        portals={client_email(client_id): client_id for client_id in clients},
        slots=slots,
        activity_id=activity_id,
        today=today,
    )


def scenarios(p: Load, logins: dict[str, Login]) -> list[Scenario]:
    relais_entries, bare_entries = [], []
    for cm_id, contract_id, client_id, day in p.slots:
        login = logins[p.cms[cm_id]]
        fields = {"day": day.isoformat(), "contract": contract_id, "duration": ENTRY_MINUTES}
        fields |= {"activity": p.activity_id, "channel": "", "note": BENCH_NOTE}
        body = urlencode({"csrf_token": login.csrf, **fields})
        relais_entries.append(Request("POST", f"/time?day={day.isoformat()}", login.cookie, body))
        bare = {"cm_id": cm_id, "contract_id": contract_id, "client_id": client_id, "day": day.isoformat()}
        bare |= {"minutes": ENTRY_MINUTES, "activity_id": p.activity_id, "channel": "", "note": BENCH_NOTE}
        bare_entries.append(Request("POST", "/entry", None, urlencode(bare)))
    day_views = [Request("GET", "/time", logins[email].cookie) for email in p.cms.values()]
    rows = [Request("GET", f"/rows?cm={cm_id}") for cm_id in p.cms]
    portals = [
        Request("GET", f"/clients/{client_id}/portal", logins[email].cookie)
        for email, client_id in p.portals.items()
    ]
    dashboard = [Request("GET", "/dashboard", logins[p.lead].cookie)]
    # Each Relais measurement right beside its bare counterpart, so that both
    # run in the same conditions (the bare select is measured once per page).
    out = []
    for concurrency in (8, 32):
        out.append(Scenario("entry", "relais", concurrency, relais_entries, 302, writes=True))
        out.append(Scenario("entry", "bare", concurrency, bare_entries, 302, writes=True))
    for key, requests in (("day", day_views), ("portal", portals), ("dashboard", dashboard)):
        out.append(Scenario(key, "relais", 8, requests, 200))
        out.append(Scenario(key, "bare", 8, rows, 200))
    return out


# -- the run ---------------------------------------------------------------------------------------


def remove_bench_rows(engine: Engine, last_alert: int) -> int:
    """Delete what the write scenarios added, so that every measurement starts
    from the generated data: entries noted BENCH_NOTE, and the budget alerts
    after the generated ones (`last_alert`, the last generated id). Also what
    a run that was interrupted left behind."""
    with engine.begin() as conn:
        deleted = conn.execute(text("DELETE FROM time_entry WHERE note = :n"), {"n": BENCH_NOTE}).rowcount
        conn.execute(text("DELETE FROM budget_alert WHERE id > :last"), {"last": last_alert})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE time_entry"))
    return deleted


def run(url: str, last_alert: int, *, seconds: float = 10, warmup: float = 2, echo=print) -> list[Result]:
    """Every scenario against both servers; `last_alert` is the last budget
    alert the generator made (see remove_bench_rows)."""
    ensure_wrk()
    p = load_of(url)
    results = []
    engine = create_engine(sqlalchemy_url(url))
    remove_bench_rows(engine, last_alert)
    try:
        with servers(url) as (relais, bare), tempfile.TemporaryDirectory(prefix="relais-wrk-") as scripts:
            started = time.perf_counter()
            emails = [(p.lead, "/dashboard"), *((e, "/time") for e in p.cms.values())]
            emails += [(e, f"/clients/{c}/portal") for e, c in p.portals.items()]
            with ThreadPoolExecutor(max_workers=4) as pool:
                done = pool.map(lambda pair: log_in(relais.port, *pair), emails)
                logins = {login.email: login for login in done}
            echo(f"{len(logins)} users logged in through /login in {time.perf_counter() - started:.1f} s.")
            for scenario in scenarios(p, logins):
                port = relais.port if scenario.stack == "relais" else bare.port
                if warmup:
                    run_wrk(port, scenario, warmup, Path(scripts))
                result = run_wrk(port, scenario, seconds, Path(scripts))
                if scenario.writes:
                    remove_bench_rows(engine, last_alert)
                echo(
                    f"  {scenario.label:<26} c={scenario.concurrency:<3}"
                    f" {result.rps:8.1f} req/s  p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms"
                    f"  errors {result.errors}"
                    + (f" (e.g. {result.example})" if result.unexpected else "")
                    + (f" ({result.socket_errors} socket)" if result.socket_errors else "")
                )
                if result.unexpected and result.example >= 500:
                    echo((relais if scenario.stack == "relais" else bare).last_error())
                results.append(result)
    finally:
        remove_bench_rows(engine, last_alert)
        engine.dispose()
    return results
