"""Find (and start, when installed but stopped) the PostgreSQL and Redis the
test suite runs against. Falls back to SQLite and in-process jobs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait(host: str, port: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(host, port):
            return True
        time.sleep(0.25)
    return False


def ensure_postgres() -> bool:
    if port_open("127.0.0.1", 5432):
        return True
    versions = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").exists() else []
    if versions and shutil.which("pg_ctlcluster"):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].name, "main", "start"],
            check=False,
            capture_output=True,
        )
        return _wait("127.0.0.1", 5432)
    return False


def ensure_redis() -> bool:
    if port_open("127.0.0.1", 6379):
        return True
    if shutil.which("redis-server"):
        logdir = Path("/var/log/redis")
        logfile = logdir / "ci.log" if logdir.is_dir() else Path("/tmp/relais-redis.log")
        workdir = Path("/var/lib/redis") if Path("/var/lib/redis").is_dir() else Path("/tmp")
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "-::1",
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--logfile",
                str(logfile),
            ],
            check=False,
            capture_output=True,
        )
        return _wait("127.0.0.1", 6379)
    return False


def database_url(name: str) -> str:
    """TEST_DATABASE_URL wins; else PostgreSQL on 127.0.0.1 if it answers;
    else a SQLite file."""
    explicit = os.environ.get("TEST_DATABASE_URL")
    if explicit:
        return explicit
    if os.environ.get("RELAIS_TEST_SQLITE") != "1" and ensure_postgres():
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    return ""


def database_settings(url: str) -> dict[str, str]:
    """The app's settings for the database at `url` (its owner's): on
    PostgreSQL the app connects as rls.APP_ROLE, held to row-level security,
    and only migrations use the owner, as in production."""
    if not url.startswith("postgresql"):
        return {"SQLALCHEMY_DATABASE_URI": url}
    from app.rls import as_role

    return {"SQLALCHEMY_DATABASE_URI": as_role(url), "DATABASE_OWNER_URL": url}


def database_environment(url: str) -> dict[str, str]:
    """The same, as the environment of a `flask` or worker process."""
    settings = database_settings(url)
    environment = {"DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"]}
    if "DATABASE_OWNER_URL" in settings:
        environment["DATABASE_OWNER_URL"] = settings["DATABASE_OWNER_URL"]
    return environment


def redis_url() -> str | None:
    explicit = os.environ.get("TEST_REDIS_URL")
    if explicit:
        return explicit
    if os.environ.get("RELAIS_TEST_NO_REDIS") != "1" and ensure_redis():
        db_index = os.environ.get("RELAIS_TEST_REDIS_DB", "15")
        return f"redis://127.0.0.1:6379/{db_index}"
    return None


def create_postgres_database(url: str) -> None:
    """CREATE DATABASE if missing (connecting to the maintenance database)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def empty_database(app) -> None:
    """Every row of every table gone, past the freeze triggers: as the owner
    (the app's role may not TRUNCATE). Call it in an app context."""
    from sqlalchemy import create_engine, text

    from app.extensions import db

    owner = create_engine(app.config["DATABASE_OWNER_URL"])
    try:
        with owner.begin() as conn:
            if owner.dialect.name == "postgresql":
                tables = ", ".join(table.name for table in db.metadata.sorted_tables)
                conn.execute(text("SET session_replication_role = replica"))
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
    finally:
        owner.dispose()


@contextmanager
def app_context(app) -> Iterator[None]:
    """An app context whose session reads and writes every client's rows,
    as a command's does (app/access.py: the system's scope)."""
    from app import access

    with app.app_context():
        access.set_scope(access.system_scope("test"))
        yield
