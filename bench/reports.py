"""Month close at agency scale, against bare WeasyPrint in the same run.

    python -m bench.reports [--database-url URL] [--month 2026-10] [--limit N] [--workers 2]

Relais: `flask --app wsgi close-month MONTH --no-wait` on the benchmark
agency (bench/generate.py), with WORKERS `flask --app wsgi worker` processes
on Redis, timed from the command's start until every report of the month is
rendered (its PDF stored in the database). The month's draft reports are
removed first, so each run renders them all again.

Bare: the same reports' HTML documents (rendered by the app beforehand, not
timed), turned into PDFs by plain WeasyPrint in WORKERS processes.

Prints both times and the ratio; the target is Relais within 1.3x the bare
renders. Bounded: it stops waiting after --timeout seconds.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import generate

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.3


def _env(url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench",
        "RELAIS_ENV": "production",
        "MAIL_OUTBOX_DIR": "/tmp/relais-bench-outbox",
    }


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


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


def wait_rendered(url: str, month: str, expected: int, timeout: float) -> float:
    engine = create_engine(generate.sqlalchemy_url(url))
    start = time.monotonic()
    try:
        while time.monotonic() - start < timeout:
            with engine.connect() as conn:
                done = conn.scalar(
                    text(
                        "SELECT count(*) FROM report WHERE month = :m "
                        "AND render_state IN ('done', 'failed') AND draft_sha256 IS NOT NULL"
                    ),
                    {"m": f"{month}-01"},
                )
            if done >= expected:
                return time.monotonic()
            time.sleep(0.2)
    finally:
        engine.dispose()
    raise TimeoutError(f"only part of the {expected} reports rendered in {timeout} s")


def relais_close(url: str, redis_url: str, month: str, workers: int, timeout: float) -> tuple[float, int]:
    from redis import Redis

    Redis.from_url(redis_url).flushdb()
    env = _env(url, redis_url)
    engine = create_engine(generate.sqlalchemy_url(url))
    with engine.connect() as conn:
        expected = conn.scalar(
            text(
                "SELECT count(*) FROM contract WHERE start_date <= :last "
                "AND (end_date IS NULL OR end_date >= :first)"
            ),
            {"first": f"{month}-01", "last": f"{month}-28"},
        )
    engine.dispose()
    pool = [
        subprocess.Popen(_flask("worker", "-q", "reports"), cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        for _ in range(workers)
    ]
    try:
        time.sleep(2)  # the workers are up and waiting (their start is not the close's)
        start = time.monotonic()
        subprocess.run(
            _flask("close-month", month, "--no-wait"),
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        end = wait_rendered(url, month, expected, timeout)
        return end - start, expected
    finally:
        for process in pool:
            process.terminate()
        for process in pool:
            process.wait(timeout=10)


def report_htmls(url: str, month: str) -> list[str]:
    """The HTML of every report of the month, as the jobs rendered them."""
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.reports.document import render_report_html
    from app.reports.models import Report
    from app.timesheets.calendar import parse_month

    app = create_app(
        overrides={"SQLALCHEMY_DATABASE_URI": generate.sqlalchemy_url(url), "SECRET_KEY": "bench"}
    )
    with app.app_context():
        reports = db.session.scalars(
            select(Report).where(Report.month == parse_month(month)).order_by(Report.id)
        )
        return [render_report_html(report) for report in reports]


def _bare_render(html: str) -> int:
    from weasyprint import HTML

    from bench.reports_fetcher import bare_fetcher

    return len(HTML(string=html, base_url="relais-static:/", url_fetcher=bare_fetcher()).write_pdf())


def bare_renders(htmls: list[str], workers: int) -> float:
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        start = time.monotonic()
        pool.map(_bare_render, htmls, chunksize=1)
        return time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=generate.DEFAULT_URL)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--month", help="AAAA-MM (default: the last closed month of the benchmark agency)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)
    if generate.read_meta(args.database_url) is None:
        generate.generate(args.database_url, generate.Plan())
    month = args.month
    if month is None:
        engine = create_engine(generate.sqlalchemy_url(args.database_url))
        with engine.connect() as conn:
            month = conn.scalar(text("SELECT max(month) FROM month_lock")).strftime("%Y-%m")
        engine.dispose()
    reset_month(args.database_url, month)
    relais, count = relais_close(args.database_url, args.redis_url, month, args.workers, args.timeout)
    htmls = report_htmls(args.database_url, month)
    bare = bare_renders(htmls, args.workers)
    ratio = relais / bare if bare else float("inf")
    verdict = "ok" if ratio <= TARGET else "MISSED"
    print(f"Month close {month}: {count} reports, {args.workers} workers")
    print(f"  {'Relais close-month':<28}{relais:8.1f} s   {relais / max(count, 1) * 1000:6.0f} ms/report")
    per_report = bare / max(len(htmls), 1) * 1000
    print(f"  {'bare WeasyPrint, same HTML':<28}{bare:8.1f} s   {per_report:6.0f} ms/report")
    print(f"  ratio Relais / bare: {ratio:.2f} (target <= {TARGET}) {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
