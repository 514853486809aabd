"""Month close under load: 50 CMs log time while the last month closes.

    python -m bench.load_close [--database-url URL] [--redis-url URL] [--seconds 30]
                               [--workers 1] [--regenerate]

1. The data: the benchmark agency (bench/generate.py: 200 clients, 50 CMs,
   twelve months of entries) in a database of its own, relais_bench_load by
   default, never the shared relais_bench: made again when missing, stale,
   or when its last month was already closed by an earlier run (about 15 s).
2. Relais under gunicorn (2 sync workers, production settings, 127.0.0.1
   only), its jobs on a Redis database of its own (flushed at the start),
   with WORKERS `flask worker` processes rendering the reports' PDFs.
3. The 50 CMs log in through the real /login form, then each, in a thread
   of its own, posts 5-minute entries (the real form, CSRF token included)
   to days of the current month, one after the other, for --seconds. After
   3 s, `flask close-month <last month> --no-wait` runs beside them: it
   locks the month, makes its 200 reports and queues their PDFs, drafts its
   200 invoices; the workers render while the CMs go on.
4. The checks, each printed, exit 1 if one fails: every entry POST answered
   302 (no error, no 5xx, no timeout); the entries in the database after
   the run are exactly those before plus one per 302 (nothing lost, nothing
   twice); the closed month's entries are unchanged; close-month exited 0;
   one report and one invoice per contract of the closed month.

Bounded: the load stops after --seconds, close-month is waited for at most
120 s, the workers are stopped at the end whatever they were doing (the
close is idempotent: what they left is rendered by the next run of it).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import generate
from bench.http_bench import ENTRY_MINUTES, call, load_of, log_in
from bench.servers import ROOT, Server, server_env

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/relais_bench_load"
REDIS_URL = "redis://127.0.0.1:6379/13"
NOTE = "load-close"  # the note of every entry this benchmark posts
CLOSE_AFTER = 3.0  # seconds of load before close-month starts
CLOSE_TIMEOUT = 120.0


@dataclass
class Tally:
    """What the CMs' threads saw."""

    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int | None, seconds: float, failure: str | None = None) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds)
            if failure and len(self.failures) < 10:
                self.failures.append(failure)

    @property
    def saved(self) -> int:
        return self.statuses[302]

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status != 302)


def last_month(today: date) -> date:
    from app.timesheets.calendar import add_months, month_start

    return add_months(month_start(today), -1)


def prepare(url: str, month: date, regenerate: bool) -> None:
    """The benchmark agency in its own database, its last month not closed yet."""
    from app.timeutil import today

    meta = generate.read_meta(url)
    fresh = generate.is_current(meta, generate.Plan.seed, today())
    if fresh and not regenerate:
        engine = create_engine(generate.sqlalchemy_url(url))
        try:
            with engine.connect() as conn:
                closed = conn.scalar(text("SELECT count(*) FROM report WHERE month = :m"), {"m": month})
        finally:
            engine.dispose()
        if not closed:
            return
    generate.generate(url, generate.Plan(), echo=lambda line: print(f"  {line}"))


def counts(url: str, month: date) -> dict[str, int]:
    end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    engine = create_engine(generate.sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT count(*), count(*) FILTER (WHERE note = :note),"
                    " count(*) FILTER (WHERE day >= :first AND day < :end),"
                    " coalesce(sum(minutes) FILTER (WHERE day >= :first AND day < :end), 0)"
                    " FROM time_entry"
                ),
                {"note": NOTE, "first": month, "end": end},
            ).one()
            contracts = conn.scalar(  # what the last close of the month set out to do
                text("SELECT contracts FROM month_close WHERE month = :m ORDER BY id DESC LIMIT 1"),
                {"m": month},
            )
            reports = conn.execute(
                text("SELECT count(*), count(DISTINCT contract_id) FROM report WHERE month = :m"),
                {"m": month},
            ).one()
            invoices = conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT contract_id) FROM invoice"
                    " WHERE month = :m AND kind = 'invoice' AND status <> 'cancelled'"
                ),
                {"m": month},
            ).one()
            rendered = conn.scalar(
                text("SELECT count(*) FROM report WHERE month = :m AND draft_sha256 IS NOT NULL"),
                {"m": month},
            )
    finally:
        engine.dispose()
    return {
        "entries": row[0],
        "ours": row[1],
        "closed entries": row[2],
        "closed minutes": row[3],
        "contracts": contracts or 0,
        "reports": reports[0],
        "report contracts": reports[1],
        "invoices": invoices[0],
        "invoice contracts": invoices[1],
        "rendered": rendered,
    }


def cm_loop(port: int, login, slots: list, activity_id: int, stop: threading.Event, tally: Tally) -> None:
    """One CM: entries one after the other, to its days of the month in turn."""
    n = 0
    while not stop.is_set():
        _cm, contract_id, _client, day = slots[n % len(slots)]
        n += 1
        form = {"csrf_token": login.csrf, "day": day.isoformat(), "contract": contract_id}
        form |= {"duration": ENTRY_MINUTES, "activity": activity_id, "channel": "", "note": NOTE}
        started = time.perf_counter()
        try:
            answer = call(port, "POST", f"/time?day={day.isoformat()}", login.cookie, form)
        except OSError as error:  # refused, reset, timed out
            tally.add(None, time.perf_counter() - started, f"{login.email}: {error!r}")
            continue
        failure = None if answer.status == 302 else f"{login.email}: {answer.status} {answer.body[:200]!r}"
        tally.add(answer.status, time.perf_counter() - started, failure)


def start_workers(env: dict[str, str], count: int, logdir: Path) -> list[subprocess.Popen]:
    workers = []
    for n in range(count):
        log = (logdir / f"worker-{n}.log").open("w")
        command = [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "worker",
            "-q",
            "reports",
            "-q",
            "invoices",
        ]
        workers.append(
            subprocess.Popen(  # noqa: S603 (our own worker)
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )
    return workers


def stop_all(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def run(url: str, redis_url: str, seconds: float, workers: int, regenerate: bool) -> bool:
    from redis import Redis

    from app.timeutil import today

    month = last_month(today())
    print(f"Month close under load: 50 CMs log time for {seconds:.0f} s while {month:%m/%Y} closes.")
    prepare(url, month, regenerate)
    Redis.from_url(redis_url).flushdb()
    plan = load_of(url)
    before = counts(url, month)
    by_cm: dict[int, list] = {}
    for slot in plan.slots:
        by_cm.setdefault(slot[0], []).append(slot)

    with tempfile.TemporaryDirectory(prefix="relais-load-close-") as tmp:
        logdir = Path(tmp)
        env = server_env(url, logdir / "outbox") | {"REDIS_URL": redis_url}
        server = Server("relais", "wsgi:app", env, logdir)
        processes: list[subprocess.Popen] = []
        try:
            server.start()
            server.wait_ready("/login")
            processes += start_workers(env, workers, logdir)
            with ThreadPoolExecutor(max_workers=4) as pool:
                done = pool.map(lambda cm_id: (cm_id, log_in(server.port, plan.cms[cm_id], "/time")), by_cm)
                logins = dict(done)
            print(f"  {len(logins)} CMs logged in through /login.")

            tally, stop = Tally(), threading.Event()
            threads = [
                threading.Thread(
                    target=cm_loop, args=(server.port, logins[cm], slots, plan.activity_id, stop, tally)
                )
                for cm, slots in by_cm.items()
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            time.sleep(CLOSE_AFTER)
            close_started = time.perf_counter()
            close = subprocess.Popen(  # noqa: S603 (our own command)
                [
                    sys.executable,
                    "-m",
                    "flask",
                    "--app",
                    "wsgi",
                    "close-month",
                    f"{month:%Y-%m}",
                    "--no-wait",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            processes.append(close)
            time.sleep(max(0.0, seconds - (time.perf_counter() - started)))
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            elapsed = time.perf_counter() - started
            try:
                close_output, _ = close.communicate(timeout=CLOSE_TIMEOUT)
            except subprocess.TimeoutExpired:
                close_output = b"(still running after the timeout: stopped)"
            close_seconds = time.perf_counter() - close_started
            rendered_by_end = counts(url, month)["rendered"]
        finally:
            stop_all(processes)
            server.stop()
        after = counts(url, month)

    return report(tally, elapsed, before, after, close, close_output, close_seconds, rendered_by_end, workers)


def report(tally, elapsed, before, after, close, close_output, close_seconds, rendered, workers) -> bool:
    latencies = sorted(tally.latencies) or [0.0]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"  entries posted     {sum(tally.statuses.values())} in {elapsed:.1f} s"
        f" ({sum(tally.statuses.values()) / elapsed:.1f} req/s,"
        f" p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms)"
    )
    checks = []

    def check(ok: bool, label: str, detail: str) -> None:
        checks.append(ok)
        print(f"  {'ok ' if ok else 'FAIL'} {label:<16} {detail}")

    shown = ", ".join(
        f"{status or 'no answer'}: {count}" for status, count in sorted(tally.statuses.items(), key=str)
    )
    check(tally.errors == 0, "no error", f"{tally.errors} answer(s) other than 302 ({shown})")
    for failure in tally.failures:
        print(f"       {failure}")
    added = after["entries"] - before["entries"]
    check(
        added == tally.saved and after["ours"] - before["ours"] == tally.saved,
        "no lost entry",
        f"{before['entries']} entries before, {after['entries']} after: +{added} for {tally.saved} saved",
    )
    unchanged = (after["closed entries"], after["closed minutes"]) == (
        before["closed entries"],
        before["closed minutes"],
    )
    check(
        unchanged,
        "closed month",
        f"{after['closed entries']} entries, {after['closed minutes']} min (before: "
        f"{before['closed entries']}, {before['closed minutes']} min)",
    )
    said = (close_output.decode(errors="replace").strip().splitlines() or [""])[0][:150]
    check(
        close.returncode == 0, "close-month", f"exit {close.returncode} after {close_seconds:.1f} s: {said}"
    )
    contracts = after["contracts"]
    check(
        contracts > 0
        and after["reports"] == after["report contracts"] == contracts
        and after["invoices"] == after["invoice contracts"] <= contracts,
        "one per contract",
        f"{after['reports']} reports, {after['invoices']} invoice drafts for {contracts} contracts"
        f" ({rendered} PDFs rendered by the end of the load, {workers} worker(s))",
    )
    ok = all(checks)
    print("OK" if ok else "FAILED")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--seconds", type=float, default=30, help="length of the load (default 30)")
    parser.add_argument("--workers", type=int, default=1, help="RQ workers rendering during the close")
    parser.add_argument("--regenerate", action="store_true", help="make the data again even if it is usable")
    args = parser.parse_args(argv)
    ok = run(
        args.database_url, args.redis_url, max(args.seconds, CLOSE_AFTER + 1), args.workers, args.regenerate
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
