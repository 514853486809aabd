"""Everything bench/run does: make sure the benchmark agency is there and
current, measure each page in-process (SQL queries, CPU time), run the HTTP
benchmarks (Relais and the bare stack in the same run), and print one table
with the targets of issue 7. Missed targets are printed MISSED; the exit
status stays 0.

    bench/run [--regenerate] [--seed N] [--database-url URL] [--seconds 10] [--warmup 2]
              [--quiet-wait 60] [--no-close]

Then the month close of the same agency (bench/reports.py: reports and
invoices with two RQ workers against bare WeasyPrint), unless --no-close.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass

from sqlalchemy import create_engine, event, select, text

from bench import generate, http_bench
from bench.servers import WORKERS
from bench.wrk import Result


@dataclass(frozen=True)
class Target:
    key: str
    concurrency: int
    label: str
    p50_ms: float | None = None
    p99_ms: float | None = None
    ratio: float | None = None  # of the bare stack's req/s
    queries: int | None = None


TARGETS = (
    Target("entry", 8, "entry: POST /time (CM)", ratio=0.5),
    Target("entry", 32, "entry: POST /time (CM)", ratio=0.5),
    Target("day", 8, "day view: GET /time (CM)", p50_ms=20, p99_ms=60),
    Target("portal", 8, "portal home (client user)", p50_ms=20, p99_ms=60),
    Target("dashboard", 8, "lead dashboard", p50_ms=50, p99_ms=150, queries=15),
)


# -- each page in-process: SQL queries and CPU time --------------------------------------------


@dataclass(frozen=True)
class Page:
    queries: int  # SQL statements of one request
    cpu_ms: float  # median CPU time of the app for one request, alone, without HTTP


def in_process(url: str, last_alert: int, repeat: int = 20) -> dict[str, Page]:
    """Each measured request, through Flask's test client on the generated
    data: the statements it issues, and the CPU time it takes, which other
    work on the machine does not change as much as the HTTP figures. The
    entry POST is a typical one (its contract's budget mails already sent);
    its rows are deleted afterwards."""
    from app import access, create_app
    from app.auth.models import User
    from app.clients.models import ClientMember
    from app.config import Config
    from app.extensions import db

    with tempfile.TemporaryDirectory(prefix="relais-bench-") as tmp:
        app = create_app(
            Config,
            {
                **generate.app_settings(url),
                "SECRET_KEY": "bench-queries",
                "RELAIS_ENV": "test",
                "WTF_CSRF_ENABLED": False,
                "REDIS_URL": None,
                "MAIL_OUTBOX_DIR": tmp,
            },
        )
        with app.app_context():
            access.set_scope(access.system_scope("bench"))  # to pick the users; requests take theirs
            lead = db.session.scalar(select(User).where(User.email == generate.LEAD_EMAIL))
            cm = db.session.scalar(select(User).where(User.email == generate.cm_email(1)))
            member = db.session.scalar(select(ClientMember).order_by(ClientMember.id).limit(1))
            users = {"lead": lead.get_id(), "cm": cm.get_id(), "client": member.user.get_id()}
            client_id = member.client_id
            contract_id, activity_id = db.session.execute(
                text(
                    "SELECT c.id, (SELECT id FROM activity WHERE label = 'Animation') FROM contract c"
                    " JOIN cm_assignment a ON a.client_id = c.client_id WHERE a.cm_id = :cm LIMIT 1"
                ),
                {"cm": cm.id},
            ).one()
            engine = db.engine
            db.session.remove()
        from app.timeutil import today

        day = today().isoformat()
        entry = {
            "day": day,
            "contract": contract_id,
            "duration": "15",
            "activity": activity_id,
            "note": http_bench.BENCH_NOTE,
        }
        pages = {
            "day": ("cm", "GET", "/time", None),
            "entry": ("cm", "POST", f"/time?day={day}", entry),
            "dashboard": ("lead", "GET", "/dashboard", None),
            "portal": ("client", "GET", f"/clients/{client_id}/portal", None),
        }
        measured: dict[str, Page] = {}
        statements: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        cleanup = create_engine(generate.sqlalchemy_url(url))
        event.listen(engine, "before_cursor_execute", count)
        try:
            for key, (who, method, path, form) in pages.items():
                client = app.test_client()
                with client.session_transaction() as session:
                    session["_user_id"], session["_fresh"] = users[who], True
                client.open(path, method=method, data=form)  # warm caches and connections
                statements.clear()
                response = client.open(path, method=method, data=form)
                if response.status_code not in (200, 302):
                    raise RuntimeError(f"{path} answered {response.status_code}")
                queries = len(statements)
                cpu = []
                for _ in range(repeat):
                    started = time.process_time()
                    client.open(path, method=method, data=form)
                    cpu.append((time.process_time() - started) * 1000)
                measured[key] = Page(queries, statistics.median(cpu))
        finally:
            event.remove(engine, "before_cursor_execute", count)
            http_bench.remove_bench_rows(cleanup, last_alert)
            cleanup.dispose()
            engine.dispose()
    return measured


# -- the table ---------------------------------------------------------------------------------


def _find(results: list[Result], key: str, stack: str, concurrency: int) -> Result | None:
    return next(
        (
            r
            for r in results
            if r.scenario.key == key and r.scenario.stack == stack and r.scenario.concurrency == concurrency
        ),
        None,
    )


def verdict(target: Target, relais: Result, bare: Result, page: Page | None) -> tuple[str, bool]:
    wants, met = [], True
    if target.ratio is not None:
        wants.append(f"≥ {target.ratio:.0%} of bare req/s")
        met &= relais.rps >= target.ratio * bare.rps
    if target.p50_ms is not None:
        wants.append(f"p50 < {target.p50_ms:g} ms, p99 < {target.p99_ms:g} ms")
        met &= relais.p50_ms < target.p50_ms and relais.p99_ms < target.p99_ms
    if target.queries is not None:
        wants.append(f"≤ {target.queries} queries")
        met &= page is not None and page.queries <= target.queries
    if relais.errors:
        wants.append(f"{relais.errors} errors")
        met = False
    return "; ".join(wants), met


def table(results: list[Result], pages: dict[str, Page]) -> str:
    head = (
        "| measure | c | Relais req/s | p50 ms | p99 ms | bare req/s | p50 ms | p99 ms "
        "| Relais/bare req/s | queries | app CPU ms | target | |"
    )
    lines = [head, "|" + "---|" * 13]
    for target in TARGETS:
        relais = _find(results, target.key, "relais", target.concurrency)
        bare = _find(results, target.key, "bare", target.concurrency)
        if relais is None or bare is None:
            continue
        page = pages.get(target.key)
        wanted, met = verdict(target, relais, bare, page)
        lines.append(
            f"| {target.label} | {target.concurrency}"
            f" | {relais.rps:.0f} | {relais.p50_ms:.1f} | {relais.p99_ms:.1f}"
            f" | {bare.rps:.0f} | {bare.p50_ms:.1f} | {bare.p99_ms:.1f} | {relais.rps / bare.rps:.2f}"
            f" | {page.queries if page else '—'} | {f'{page.cpu_ms:.1f}' if page else '—'}"
            f" | {wanted} | {'ok' if met else '**MISSED**'} |"
        )
    return "\n".join(lines)


def machine(url: str) -> str:
    engine = create_engine(generate.sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            pg = conn.scalar(text("SHOW server_version"))
    finally:
        engine.dispose()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores (nproc), {memory:.0f} GiB of memory, PostgreSQL {pg}, "
        f"Python {platform.python_version()}"
    )


def wait_quiet(seconds: float, below: float = 1.0) -> float:
    """Wait (up to `seconds`) for the one-minute load average to fall below
    `below`: anything else running on a 2-core machine shows in the numbers."""
    deadline = time.monotonic() + seconds
    load = os.getloadavg()[0]
    if load >= below and seconds > 0:
        print(f"Load average {load:.2f}: waiting up to {seconds:g} s for the machine to be quiet...")
    while load >= below and time.monotonic() < deadline:
        time.sleep(5)
        load = os.getloadavg()[0]
    if load >= below:
        print(f"Warning: load average {load:.2f} before measuring; other work skews these numbers.")
    return load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Relais benchmarks against the bare stack.")
    parser.add_argument("--database-url", default=generate.DEFAULT_URL)
    parser.add_argument("--seed", type=int, default=generate.Plan.seed)
    parser.add_argument("--regenerate", action="store_true", help="make the data again even if it is current")
    parser.add_argument("--seconds", type=float, default=10, help="length of each measurement")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up before each measurement")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60,
        help="wait up to this many seconds for the machine to be quiet (load average < 1) before measuring",
    )
    parser.add_argument(
        "--no-close",
        action="store_true",
        help="skip the month-close benchmark (bench/reports.py, a few minutes)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    url = args.database_url
    from app.timeutil import today

    meta = generate.read_meta(url)
    if args.regenerate or not generate.is_current(meta, args.seed, today()):
        print(
            "Generating the benchmark agency"
            + (" (asked)" if args.regenerate else " (missing or stale)")
            + ":"
        )
        meta = generate.generate(url, generate.Plan(seed=args.seed))
    else:
        generate.migrate(url)  # migrations that landed since: the data stays
        print(f"Benchmark agency of {meta['today']} (seed {meta['seed']}) is current.")
    made = meta["made"]
    pages = in_process(url, meta["last_budget_alert"])
    print(
        "In-process, per request: "
        + ", ".join(f"{k} {p.queries} queries {p.cpu_ms:.1f} ms" for k, p in pages.items())
    )
    load = wait_quiet(args.quiet_wait)
    print(f"HTTP, {args.seconds:g} s per measurement after {args.warmup:g} s of warm-up:")
    results = http_bench.run(url, meta["last_budget_alert"], seconds=args.seconds, warmup=args.warmup)
    print()
    print(
        f"{made['clients']} clients, {made['users (lead and CMs)'] - 1} CMs, {made['contracts']} contracts,"
        f" {made['time entries']} time entries (seed {meta['seed']}, generated {meta['today']});"
        f" gunicorn {WORKERS} sync workers each, wrk, {args.seconds:g} s per measurement."
    )
    print()
    print(table(results, pages))
    print()
    print(f"Machine: {machine(url)}. Load average before measuring: {load:.2f}.")
    if not args.no_close:
        from bench import reports

        print()
        month = reports.last_closed_month(url)
        print(f"Month close of {month} (python -m bench.reports; --no-close skips it):")
        load = wait_quiet(args.quiet_wait)
        phases = reports.run(url, reports.REDIS_URL, month)
        print(reports.table(month, reports.WORKERS, phases))
        print(f"Load average before measuring: {load:.2f}.")
    print(f"Whole run: {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
