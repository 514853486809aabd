"""Backup and restore of the whole database, documents included (they live
in it): `flask --app wsgi backup [PATH]` and `flask --app wsgi restore PATH`.

PostgreSQL: `pg_dump --format=custom` (one consistent snapshot) and
`pg_restore --clean --if-exists --no-owner` in a single transaction (all or
nothing; triggers, constraints and row-level security come back after the
data), both as the tables' owner (DATABASE_OWNER_URL) in the system's scope. SQLite: the
backup API, which copies a consistent database page by page, both ways.

A restore checks the file before touching anything: a missing file, or one
that is not a backup for this kind of database, changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.engine import URL, make_url

from app.documents.models import Document
from app.extensions import db
from app.timeutil import PARIS

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(RuntimeError):
    """A backup or restore refused or failed, with a message for the user."""


@dataclass(frozen=True)
class Target:
    """The database a backup is taken of, or restored into."""

    url: URL

    @classmethod
    def of(cls, url: str | URL) -> Target:
        return cls(make_url(url))

    @property
    def kind(self) -> str:
        name = self.url.get_backend_name()
        if name in ("postgresql", "sqlite"):
            return name
        raise BackupError(_("Base de données non prise en charge : %(name)s.", name=name))

    @property
    def suffix(self) -> str:
        return ".dump" if self.kind == "postgresql" else ".sqlite3"

    def sqlite_path(self) -> Path:
        database = self.url.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            raise BackupError(_("Cette base SQLite n'est pas un fichier : rien à sauvegarder."))
        return Path(database)

    def libpq(self) -> tuple[str, dict[str, str]]:
        """The connection URI for pg_dump/pg_restore, and the environment that
        carries the password (never on the command line, where `ps` shows it)."""
        env = dict(os.environ)
        # Row-level security is forced, on the owner too: the tools read and
        # write every client's rows in the system's scope (app/rls.py).
        env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c relais.scope=all").strip()
        if self.url.password:
            env["PGPASSWORD"] = str(self.url.password)
        uri = self.url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
        return uri, env


def default_path(folder: Path, target: Target, now: datetime) -> Path:
    return folder / f"relais-{now.astimezone(PARIS):%Y%m%d-%H%M%S}{target.suffix}"


def pg_tool(name: str) -> str:
    """pg_dump or pg_restore: on PATH, else the newest of /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.parent.name)) or (0,)

    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=version, reverse=True)
    if candidates:
        return str(candidates[0])
    raise BackupError(
        _(
            "%(tool)s est introuvable : installez le client PostgreSQL (paquet postgresql-client).",
            tool=name,
        )
    )


def _run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603


# -- backup ------------------------------------------------------------------------------


def backup(url: str | URL, path: Path) -> Path:
    """Write a consistent backup of the database at `url` to `path` (a new
    file: an existing one is never overwritten). Written beside it first,
    then renamed: a failed backup leaves no half file behind."""
    target = Target.of(url)
    if path.exists():
        raise BackupError(_("%(path)s existe déjà : choisissez un autre nom.", path=path))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if target.kind == "postgresql":
            uri, env = target.libpq()
            done = _run(
                [
                    pg_tool("pg_dump"),
                    "--format=custom",
                    "--enable-row-security",
                    f"--file={partial}",
                    f"--dbname={uri}",
                ],
                env,
            )
            if done.returncode != 0:
                raise BackupError(_("pg_dump a échoué : %(error)s", error=done.stderr.strip()))
        else:
            source_path = target.sqlite_path()
            if not source_path.exists():
                raise BackupError(_("La base SQLite %(path)s n'existe pas.", path=source_path))
            source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
            copy = sqlite3.connect(partial)
            try:
                with copy:
                    source.backup(copy)
            finally:
                copy.close()
                source.close()
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


# -- restore -----------------------------------------------------------------------------


def check_backup(url: str | URL, path: Path) -> Target:
    """The target to restore into, once `path` is known to be a backup for
    it; BackupError (and nothing touched) otherwise."""
    target = Target.of(url)
    if not path.is_file():
        raise BackupError(_("Fichier introuvable : %(path)s", path=path))
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if target.kind == "postgresql":
        if not head.startswith(PG_MAGIC):
            raise BackupError(
                _(
                    "%(path)s n'est pas une sauvegarde PostgreSQL (format pg_dump --format=custom, celui "
                    "de « flask backup ») : rien n'a été modifié.",
                    path=path,
                )
            )
        listing = _run([pg_tool("pg_restore"), "--list", str(path)])
        if listing.returncode != 0:
            raise BackupError(
                _(
                    "%(path)s est illisible (%(error)s) : rien n'a été modifié.",
                    path=path,
                    error=listing.stderr.strip(),
                )
            )
        if "TABLE DATA public document" not in listing.stdout:
            raise BackupError(
                _("%(path)s n'est pas une sauvegarde de Relais : rien n'a été modifié.", path=path)
            )
        return target
    if head != SQLITE_MAGIC:
        raise BackupError(
            _(
                "%(path)s n'est pas une sauvegarde SQLite (celle de « flask backup ») : "
                "rien n'a été modifié.",
                path=path,
            )
        )
    try:
        backup_db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = backup_db.execute("PRAGMA quick_check").fetchone()[0]
            tables = {
                row[0] for row in backup_db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            backup_db.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(
            _("%(path)s est illisible (%(error)s) : rien n'a été modifié.", path=path, error=error)
        ) from error
    if check != "ok":
        raise BackupError(
            _("%(path)s est endommagé (%(error)s) : rien n'a été modifié.", path=path, error=check)
        )
    if not {"alembic_version", "document"} <= tables:
        raise BackupError(_("%(path)s n'est pas une sauvegarde de Relais : rien n'a été modifié.", path=path))
    return target


def restore(url: str | URL, path: Path) -> None:
    """Replace the database at `url` by the backup `path` (checked first).
    The app's connections are closed before; stop the web and worker
    processes while it runs."""
    target = check_backup(url, path)
    db.engine.dispose()
    if target.kind == "postgresql":
        uri, env = target.libpq()
        done = _run(
            [
                pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--enable-row-security",
                f"--dbname={uri}",
                str(path),
            ],
            env,
        )
        if done.returncode != 0:
            raise BackupError(
                _("pg_restore a échoué, la base est inchangée : %(error)s", error=done.stderr.strip())
            )
        return
    destination_path = target.sqlite_path()
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    destination = sqlite3.connect(destination_path)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()


# -- checking ----------------------------------------------------------------------------


def verify_documents() -> tuple[int, list[str]]:
    """Every stored document read back: (how many, the keys whose content
    no longer hashes to them)."""
    count, broken = 0, []
    stmt = select(Document.sha256, Document.content).execution_options(yield_per=50)
    for sha256, content in db.session.execute(stmt):
        count += 1
        if hashlib.sha256(content or b"").hexdigest() != sha256:
            broken.append(sha256)
    return count, broken


def size_label(size: int) -> str:
    """1536 -> "1,5 Ko" (French units)."""
    value = float(size)
    for unit in ("o", "Ko", "Mo", "Go"):
        if value < 1024 or unit == "Go":
            text = f"{value:.0f}" if unit == "o" else f"{value:.1f}"
            return f"{text.replace('.', ',')} {unit}"
        value /= 1024
    return f"{size} o"  # pragma: no cover
