"""Month close at agency scale, against bare WeasyPrint in the same run.

    python -m bench.reports [--database-url URL] [--month 2026-10] [--workers 2]
                            [--timeout 900] [--quiet-wait 60] [--only reports|invoices] [--limit N]

(bench/run runs it at the end, unless --no-close.)

Two phases, one after the other, with the same WORKERS `flask --app wsgi
worker -q reports -q invoices` processes on Redis (started before, not
timed). Each phase's bare renders run right after it, the workers idle, so
both sides of a ratio see the machine in the same state.

1. Reports. Relais: `flask --app wsgi close-month MONTH --no-wait` on the
   benchmark agency (bench/generate.py), timed from the command's start until
   every report of the month is rendered (its PDF stored in the database).
   The command also drafts the month's invoices (one per contract): that is
   part of its time. Bare: the same reports' HTML (rendered by the app
   afterwards, not timed) turned into PDFs by plain WeasyPrint in WORKERS
   processes.
2. Invoices. Relais: every draft of the month is issued the way the lead's
   bulk-issue button does it (`issue_invoice(lead, draft)` then a commit, one
   transaction per draft, in this process), and the workers render each
   invoice's PDF/A-3b with its Factur-X XML (built, checked against the XSD,
   embedded), store it and tell the client. Timed from the first issue until
   every issued invoice has its PDF. The drafts past their budget ceiling are
   confirmed first (`decide_ceiling(lead, draft, confirm=True)`, as the lead
   must before issuing them), outside the timing. Bare: the same issued
   invoices' HTML (`invoice_html`, not timed) rendered by plain WeasyPrint as
   PDF/A-3b in WORKERS processes, without the Factur-X XML (the XML is
   Relais' own work, measured on its side).

Prints each phase and the month close (both phases) with the ratio Relais /
bare; the target of issue 7 is Relais within 1.3x the bare renders. Bounded:
each phase stops waiting after --timeout seconds. To read the times on a
shared machine it also prints the CPU seconds each side spent: Relais' workers,
its close-month command and its issuing, plus PostgreSQL's backends for it
("+ db"); the bare renders. Wall times that drift from the CPU ratio show
other work on the machine.

Each run does the work again: before it, the month's draft reports are
removed and so is EVERY invoice of the benchmark database with its lines,
payments and card payment intents (credit notes first). Issued invoices are
never deleted by the app: a PostgreSQL trigger refuses it (invoice_frozen,
invoice_line_frozen, payment_append_only). The reset disables those
triggers, deletes, and enables them again inside one transaction, so no
other session ever sees them off; it refuses a database the generator did
not make (no generator comment on it). The generator makes no invoice, so
deleting them all leaves the numbering consistent: the series start again at
F<year>-0001 (numbers are max(sequence) + 1 per kind and year). The PDFs of
earlier runs stay in the document store (documents are immutable too); the
audit log keeps their lines.

--only runs one phase (for experiments; `--only invoices` drafts the month's
invoices untimed, without the reports); --limit issues only the first N
drafts (by id). Use neither for figures.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import generate

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.3
WORKERS = 2
REDIS_URL = "redis://127.0.0.1:6379/11"
QUEUES = ("reports", "invoices")
# What the reset turns off for its own transaction (see the module's docstring).
FROZEN_TRIGGERS = (
    ("invoice", "invoice_frozen"),
    ("invoice_line", "invoice_line_frozen"),
    ("payment", "payment_append_only"),
)


@dataclass(frozen=True)
class Phase:
    name: str
    count: int
    relais: float
    bare: float
    relais_cpu: float = 0.0  # CPU seconds of the workers, the close-month command, the issuing
    database_cpu: float = 0.0  # CPU seconds of PostgreSQL for Relais
    bare_cpu: float = 0.0  # CPU seconds of the bare renders

    @property
    def ratio(self) -> float:
        return self.relais / self.bare if self.bare else float("inf")


def _env(url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": generate.app_url(url),
        "DATABASE_OWNER_URL": url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench",
        "RELAIS_ENV": "production",
        "MAIL_OUTBOX_DIR": "/tmp/relais-bench-outbox",
    }


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of running processes (Linux /proc): what the
    workers spent, whatever else the shared machine was doing meanwhile."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


class PostgresCpu:
    """CPU seconds the benchmark database's backends spend while it runs
    (PostgreSQL on this machine): sampled every 0.2 s by a thread, so a
    backend that comes and goes (the close-month command's) is counted too.
    A diagnostic; without /proc access it counts nothing."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(generate.sqlalchemy_url(url))
        self.base: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, first: bool = False) -> None:
        with self.engine.connect() as conn:
            pids = conn.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).all()
        for pid in pids:
            try:
                seconds = cpu_seconds([pid])
            except OSError:
                continue
            if first:
                self.base[pid] = seconds
            self.last[pid] = seconds

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            self._sample()

    def __enter__(self) -> PostgresCpu:
        self._sample(first=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self._sample()
        self.engine.dispose()

    @property
    def seconds(self) -> float:
        return sum(last - self.base.get(pid, 0.0) for pid, last in self.last.items())


_apps: dict[tuple[str, str], object] = {}


@contextmanager
def _context(url: str, redis_url: str) -> Iterator[None]:
    """An app context of the bench's app, in the lead's scope (every client):
    the bench does what the lead's buttons do."""
    from app import access

    with _app(url, redis_url).app_context():
        access.set_scope(access.system_scope("bench"))
        yield


def _app(url: str, redis_url: str):
    """The app on the benchmark database, its jobs going to the workers' Redis."""
    key = (url, redis_url)
    if key not in _apps:
        from app import create_app

        _apps[key] = create_app(
            overrides={
                **generate.app_settings(url),
                "REDIS_URL": redis_url,
                "SECRET_KEY": "bench",
                "MAIL_OUTBOX_DIR": "/tmp/relais-bench-outbox",
            }
        )
    return _apps[key]


# -- resets ----------------------------------------------------------------------------------


def reset_month(url: str, month: str) -> None:
    """Remove the month's draft reports, so the close renders them all again."""
    engine = create_engine(generate.sqlalchemy_url(url))
    with engine.begin() as conn:
        params = {"m": f"{month}-01"}
        for table in ("channel_figure", "report_message", "share_link"):
            drafts = "SELECT id FROM report WHERE month = :m AND status = 'draft'"
            conn.execute(text(f"DELETE FROM {table} WHERE report_id IN ({drafts})"), params)  # noqa: S608
        conn.execute(text("DELETE FROM report WHERE month = :m AND status = 'draft'"), params)
    engine.dispose()


def reset_invoices(url: str) -> int:
    """Delete every invoice and credit note of the benchmark database, with
    their lines, payments and card payment intents; returns how many. The
    frozen-invoice triggers are off inside this transaction only."""
    if generate.read_meta(url) is None:
        raise SystemExit(f"{url}: not a database of bench.generate, its invoices stay")
    engine = create_engine(generate.sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            for table, trigger in FROZEN_TRIGGERS:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
            for table in ("card_payment_intent", "payment", "invoice_line"):
                conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608
            credit_notes = conn.execute(text("DELETE FROM invoice WHERE kind = 'credit_note'")).rowcount
            invoices = conn.execute(text("DELETE FROM invoice")).rowcount
            for table, trigger in FROZEN_TRIGGERS:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
    finally:
        engine.dispose()
    return credit_notes + invoices


# -- waiting for the workers -----------------------------------------------------------------


def _wait_count(url: str, query: str, params: dict, expected: int, timeout: float, what: str) -> float:
    """The moment `query` (a count) reaches `expected` (polled every 0.2 s)."""
    engine = create_engine(generate.sqlalchemy_url(url))
    start = time.monotonic()
    done = 0
    try:
        while time.monotonic() - start < timeout:
            with engine.connect() as conn:
                done = conn.scalar(text(query), params)
            if done >= expected:
                return time.monotonic()
            time.sleep(0.2)
    finally:
        engine.dispose()
    raise TimeoutError(f"only {done} of the {expected} {what} rendered in {timeout:g} s")


def wait_rendered(url: str, month: str, expected: int, timeout: float) -> float:
    return _wait_count(
        url,
        "SELECT count(*) FROM report WHERE month = :m "
        "AND render_state IN ('done', 'failed') AND draft_sha256 IS NOT NULL",
        {"m": f"{month}-01"},
        expected,
        timeout,
        "reports",
    )


def wait_invoices(url: str, ids: list[int], timeout: float) -> float:
    """Every invoice of `ids` rendered (its PDF stored) or failed."""
    return _wait_count(
        url,
        "SELECT count(*) FROM invoice WHERE id = ANY(:ids) "
        "AND ((render_state = 'done' AND pdf_sha256 IS NOT NULL) OR render_state = 'failed')",
        {"ids": ids},
        len(ids),
        timeout,
        "invoices",
    )


@contextmanager
def workers(url: str, redis_url: str, count: int) -> Iterator[list[int]]:
    """`count` RQ workers on the reports and invoices queues, up and waiting."""
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(redis_url)
    connection.flushdb()
    queues = [arg for queue in QUEUES for arg in ("-q", queue)]
    pool = [
        subprocess.Popen(
            _flask("worker", *queues), cwd=ROOT, env=_env(url, redis_url), stdout=subprocess.DEVNULL
        )
        for _ in range(count)
    ]
    try:
        deadline = time.monotonic() + 60
        while Worker.count(connection=connection) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # registered, now listening
        yield [process.pid for process in pool]
    finally:
        for process in pool:
            process.terminate()
        for process in pool:
            process.wait(timeout=10)
        connection.close()


# -- phase 1: the reports -------------------------------------------------------------------


def running_contracts(url: str, month: str) -> int:
    engine = create_engine(generate.sqlalchemy_url(url))
    with engine.connect() as conn:
        count = conn.scalar(
            text(
                "SELECT count(*) FROM contract WHERE start_date <= :last "
                "AND (end_date IS NULL OR end_date >= :first)"
            ),
            {"first": f"{month}-01", "last": f"{month}-28"},
        )
    engine.dispose()
    return count


def relais_close(url: str, redis_url: str, month: str, timeout: float) -> tuple[float, int, float]:
    """close-month MONTH with the workers running: seconds until every report
    is rendered, how many, and the CPU seconds of the command itself."""
    expected = running_contracts(url, month)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(
        _flask("close-month", month, "--no-wait"),
        cwd=ROOT,
        env=_env(url, redis_url),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    end = wait_rendered(url, month, expected, timeout)
    command_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return end - start, expected, command_cpu


def report_htmls(url: str, redis_url: str, month: str) -> list[str]:
    """The HTML of every report of the month, as the jobs rendered them."""
    from sqlalchemy import select

    from app.extensions import db
    from app.reports.document import render_report_html
    from app.reports.models import Report
    from app.timesheets.calendar import parse_month

    with _context(url, redis_url):
        reports = db.session.scalars(
            select(Report).where(Report.month == parse_month(month)).order_by(Report.id)
        )
        return [render_report_html(report) for report in reports]


# -- phase 2: the invoices ------------------------------------------------------------------


def month_drafts(url: str, redis_url: str, month: str, *, make: bool) -> tuple[list[int], int]:
    """The ids of the month's contract drafts (made now when `make`: the
    month's invoices without the close), after confirming those past their
    ceiling, as the lead must before issuing; and how many were confirmed."""
    from sqlalchemy import select

    from app.auth.models import User
    from app.extensions import db
    from app.invoices.models import CeilingDecision, Invoice, InvoiceKind, InvoiceStatus
    from app.invoices.services import decide_ceiling, draft_month_invoices, issue_blockers
    from app.timesheets.calendar import parse_month

    with _context(url, redis_url):
        lead = db.session.scalar(select(User).where(User.email == generate.LEAD_EMAIL))
        if make:
            draft_month_invoices(lead, parse_month(month))
            db.session.commit()
        drafts = list(
            db.session.scalars(
                select(Invoice)
                .where(
                    Invoice.month == parse_month(month),
                    Invoice.kind == InvoiceKind.INVOICE,
                    Invoice.status == InvoiceStatus.DRAFT,
                )
                .order_by(Invoice.id)
            )
        )
        confirmed = 0
        for draft in drafts:
            if draft.ceiling_decision == CeilingDecision.PENDING:
                decide_ceiling(lead, draft, confirm=True)
                confirmed += 1
        db.session.commit()
        blocked = [(draft.id, issue_blockers(draft)) for draft in drafts]
        blocked = [(draft_id, problems) for draft_id, problems in blocked if problems]
        if blocked:  # the generator's data is incomplete (bench/agency.py)
            raise SystemExit(f"{len(blocked)} drafts cannot be issued, e.g. {blocked[0]}")
        ids = [draft.id for draft in drafts]
        db.session.remove()
    return ids, confirmed


def relais_issue(url: str, redis_url: str, ids: list[int], timeout: float) -> tuple[float, float]:
    """Issue each draft in its own transaction, as the bulk-issue button does
    (app/invoices/views.py, issue_many), with the workers rendering the PDFs
    as they come: seconds from the first issue until the last PDF is stored,
    and the CPU seconds the issuing took."""
    from sqlalchemy import select

    from app.auth.models import User
    from app.extensions import db
    from app.invoices.models import Invoice
    from app.invoices.services import issue_invoice

    with _context(url, redis_url):
        lead = db.session.scalar(select(User).where(User.email == generate.LEAD_EMAIL))
        start, cpu = time.monotonic(), time.process_time()
        for invoice_id in ids:
            issue_invoice(lead, db.session.get(Invoice, invoice_id))
            db.session.commit()  # the render job goes to the workers now
        cpu = time.process_time() - cpu
        db.session.remove()
    end = wait_invoices(url, ids, timeout)
    return end - start, cpu


def invoice_failures(url: str, ids: list[int]) -> int:
    engine = create_engine(generate.sqlalchemy_url(url))
    with engine.connect() as conn:
        failed = conn.scalar(
            text("SELECT count(*) FROM invoice WHERE id = ANY(:ids) AND render_state = 'failed'"),
            {"ids": ids},
        )
    engine.dispose()
    return failed


def invoice_htmls(url: str, redis_url: str, ids: list[int]) -> list[str]:
    """The HTML of each issued invoice, as its job rendered it."""
    from app.extensions import db
    from app.invoices.document import invoice_html
    from app.invoices.models import Invoice

    with _context(url, redis_url):
        htmls = [invoice_html(db.session.get(Invoice, invoice_id)) for invoice_id in ids]
        db.session.remove()
    return htmls


# -- the bare side ----------------------------------------------------------------------------


def _bare_render(job: tuple[str, str | None]) -> float:
    """One document; returns the CPU time it took."""
    from weasyprint import HTML

    from bench.reports_fetcher import bare_fetcher

    html, variant = job
    started = time.process_time()
    document = HTML(string=html, base_url="relais-static:/", url_fetcher=bare_fetcher())
    document.write_pdf(pdf_variant=variant) if variant else document.write_pdf()
    return time.process_time() - started


def bare_renders(htmls: list[str], workers: int, pdf_variant: str | None = None) -> tuple[float, float]:
    """Plain WeasyPrint on `htmls` in `workers` processes (`pdf_variant`:
    "pdf/a-3b" for the invoices, as Relais renders them): wall and CPU seconds."""
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        start = time.monotonic()
        cpu = pool.map(_bare_render, [(html, pdf_variant) for html in htmls], chunksize=1)
        return time.monotonic() - start, sum(cpu)


# -- the run ----------------------------------------------------------------------------------


def _ensure_data(url: str) -> None:
    """The benchmark agency, made again when missing or stale (as bench/run does)."""
    from app.timeutil import today

    meta = generate.read_meta(url)
    seed = meta.get("seed", generate.Plan.seed) if meta else generate.Plan.seed
    if not generate.is_current(meta, seed, today()):
        print("Generating the benchmark agency (missing or stale):")
        generate.generate(url, generate.Plan(seed=seed))
    else:
        generate.migrate(url)


def last_closed_month(url: str) -> str:
    engine = create_engine(generate.sqlalchemy_url(url))
    with engine.connect() as conn:
        month = conn.scalar(text("SELECT max(month) FROM month_lock")).strftime("%Y-%m")
    engine.dispose()
    return month


def run(
    url: str,
    redis_url: str,
    month: str,
    *,
    workers_count: int = WORKERS,
    timeout: float = 900,
    only: str | None = None,
    limit: int | None = None,
) -> list[Phase]:
    if only != "invoices":
        reset_month(url, month)
    reset_invoices(url)
    phases: list[Phase] = []
    # Each phase's bare renders come right after it (the workers idle), so
    # both sides of a ratio see the machine in the same state.
    with workers(url, redis_url, workers_count) as pids:
        if only != "invoices":
            before = cpu_seconds(pids)
            with PostgresCpu(url) as database:
                seconds, count, command_cpu = relais_close(url, redis_url, month, timeout)
            cpu = command_cpu + cpu_seconds(pids) - before
            bare, bare_cpu = bare_renders(report_htmls(url, redis_url, month), workers_count)
            phases.append(
                Phase("reports (close-month)", count, seconds, bare, cpu, database.seconds, bare_cpu)
            )
        if only != "reports":
            ids, confirmed = month_drafts(url, redis_url, month, make=only == "invoices")
            ids = ids[:limit] if limit else ids
            before = cpu_seconds(pids)
            with PostgresCpu(url) as database:
                seconds, issuing_cpu = relais_issue(url, redis_url, ids, timeout)
            cpu = issuing_cpu + cpu_seconds(pids) - before
            failed = invoice_failures(url, ids)
            htmls = invoice_htmls(url, redis_url, ids)
            bare, bare_cpu = bare_renders(htmls, workers_count, pdf_variant="pdf/a-3b")
            phases.append(
                Phase("invoices (issue + PDF)", len(ids), seconds, bare, cpu, database.seconds, bare_cpu)
            )
            print(
                f"Invoices: {len(ids)} drafts issued one transaction each by the lead;"
                f" {confirmed} past their ceiling confirmed beforehand (not timed)."
            )
            if failed:
                print(f"Warning: {failed} invoice PDFs failed to render (see invoice.render_error).")
    return phases


def _ratio(relais: float, bare: float) -> float:
    return relais / bare if bare else float("inf")


def table(month: str, workers_count: int, phases: list[Phase]) -> str:
    """Wall-clock times (what the target is about) and, to read them on a
    shared machine, the CPU seconds each side spent: Relais' workers, its
    close-month command and issuing, and PostgreSQL for it ("+ db")."""
    lines = [
        f"Month close {month}: {workers_count} RQ workers (queues {', '.join(QUEUES)}) against bare"
        f" WeasyPrint on the same HTML in {workers_count} processes",
        f"  {'':<24}{'docs':>5}{'Relais':>9}{'bare':>9}{'ratio':>7}  {'per doc':>15}"
        f"  {'CPU Relais + db':>17}{'bare':>8}{'ratio':>7}",
    ]

    def row(name: str, count: int, relais: float, bare: float, cpu: float, db: float, bare_cpu: float) -> str:
        per_doc = f"{relais / count * 1000:.0f} / {bare / count * 1000:.0f} ms" if count else ""
        return (
            f"  {name:<24}{count:>5}{relais:>8.1f}s{bare:>8.1f}s{_ratio(relais, bare):>7.2f}  {per_doc:>15}"
            f"  {cpu:>8.1f}s +{db:>5.1f}s{bare_cpu:>7.1f}s{_ratio(cpu + db, bare_cpu):>7.2f}"
        )

    for p in phases:
        lines.append(row(p.name, p.count, p.relais, p.bare, p.relais_cpu, p.database_cpu, p.bare_cpu))
    relais, bare = sum(p.relais for p in phases), sum(p.bare for p in phases)
    totals = [sum(getattr(p, field) for p in phases) for field in ("relais_cpu", "database_cpu", "bare_cpu")]
    lines.append(row("month close", sum(p.count for p in phases), relais, bare, *totals))
    verdict = "ok" if _ratio(relais, bare) <= TARGET else "MISSED"
    lines.append(f"  month close, Relais / bare: {_ratio(relais, bare):.2f} (target <= {TARGET}) {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=generate.DEFAULT_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--month", help="AAAA-MM (default: the last closed month of the benchmark agency)")
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--timeout", type=float, default=900, help="seconds each phase may take at most")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60,
        help="wait up to this many seconds for a load average under 1 before measuring",
    )
    parser.add_argument("--only", choices=("reports", "invoices"), help="one phase only (experiments)")
    parser.add_argument("--limit", type=int, help="issue only the first N drafts (experiments)")
    args = parser.parse_args(argv)
    _ensure_data(args.database_url)
    month = args.month or last_closed_month(args.database_url)
    from bench.suite import wait_quiet

    load = wait_quiet(args.quiet_wait)
    phases = run(
        args.database_url,
        args.redis_url,
        month,
        workers_count=args.workers,
        timeout=args.timeout,
        only=args.only,
        limit=args.limit,
    )
    print(table(month, args.workers, phases))
    print(f"Load average before measuring: {load:.2f}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
