"""`flask backup` and `flask restore`, for real: on a PostgreSQL database of
their own (pg_dump / pg_restore) and on a SQLite file (the backup API). A
round trip brings back every row and every document, each of whose SHA-256
recomputed from its content is its key; a missing file, a file of the wrong
format or an unconfirmed restore change nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from app import create_app
from app.clients.models import Client
from app.config import TestConfig
from app.documents.models import Document
from app.documents.services import store_document
from app.extensions import db
from app.timesheets.models import MonthLock
from tests import services as test_services
from tests.conftest import TEST_DB_NAME, build_schema
from tests.factories import (
    make_client,
    make_client_user,
    make_cm,
    make_contract,
    make_entry,
    make_issued_invoice,
    make_lead,
    make_report,
    make_version,
)


def scratch_app(url: str, instance: Path):
    app = create_app(
        TestConfig,
        {**test_services.database_settings(url), "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://"},
    )
    app.instance_path = str(instance)
    build_schema(app)
    return app


@pytest.fixture(scope="module")
def postgres_app(tmp_path_factory) -> Iterator:
    url = test_services.database_url(f"{TEST_DB_NAME}_backup")
    if not url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (pg_dump)")
    test_services.create_postgres_database(url)
    app = scratch_app(url, tmp_path_factory.mktemp("instance"))
    yield app
    with test_services.app_context(app):
        db.engine.dispose()
    drop_database(url)


def drop_database(url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_app(tmp_path) -> Iterator:
    app = scratch_app(f"sqlite:///{tmp_path / 'relais.sqlite3'}", tmp_path / "instance")
    yield app
    with test_services.app_context(app):
        db.engine.dispose()


def seed(app) -> None:
    """An agency's data with documents: report versions, an invoice PDF, a
    logo, and time in a closed month (the database's guards must let a
    restore bring it all back)."""
    with test_services.app_context(app):
        lead = make_lead(name="Marc Lead")
        cm = make_cm()
        client = make_client("Fromagerie Martin", billing_email="compta@fromagerie-martin.example")
        make_client_user(client, name="Sophie Martin")
        client.logo_sha256 = store_document(b"\x89PNG logo Martin", "image/png").sha256
        contract = make_contract(client, start=date(2026, 1, 1))
        make_entry(contract, cm, date(2026, 3, 2), 90).note = "Salon du fromage"
        db.session.flush()
        db.session.add(MonthLock(client_id=client.id, contract_id=contract.id, month=date(2026, 3, 1)))
        report = make_report(contract, date(2026, 3, 1), highlights="Mars")
        make_version(report, content=b"%PDF-1.7 rapport mars v1", by=lead)
        make_version(report, content=b"%PDF-1.7 rapport mars v2", by=lead)
        make_issued_invoice(client, lead=lead, contract=contract, pdf=b"%PDF-1.7 facture mars")
        db.session.commit()
        db.session.remove()


def snapshot(app) -> tuple[dict[str, int], dict[str, bytes]]:
    """Rows per table, and every document's content by key."""
    with test_services.app_context(app):
        counts = {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }
        documents = dict(db.session.execute(select(Document.sha256, Document.content)).all())
        db.session.remove()
    return counts, documents


def write_more(app) -> None:
    """What happens after the backup: it must be gone after the restore."""
    with test_services.app_context(app):
        make_client("Écrit après la sauvegarde")
        store_document(b"%PDF-1.7 plus tard", "application/pdf")
        db.session.commit()
        db.session.remove()


def run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def empty(app) -> None:
    """The schema alone, fresh from the migrations."""
    with test_services.app_context(app):
        if db.engine.dialect.name == "sqlite":
            db.engine.dispose()
            path = Path(db.engine.url.database)
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
    build_schema(app)


def round_trip(app, tmp_path: Path, suffix: str) -> None:
    empty(app)
    seed(app)
    counts, documents = snapshot(app)
    assert counts["document"] == len(documents) >= 4 and counts["time_entry"] == 1

    path = tmp_path / f"sauvegarde{suffix}"
    result = run(app, "backup", str(path))
    assert result.exit_code == 0, result.output
    assert f"Sauvegarde écrite : {path}" in result.output and path.stat().st_size > 0

    write_more(app)
    assert snapshot(app)[0]["client"] == counts["client"] + 1

    refused = run(app, "restore", str(path), input="n\n")
    assert refused.exit_code == 1 and "rien n'a été modifié" in refused.output
    assert snapshot(app)[0]["client"] == counts["client"] + 1

    result = run(app, "restore", str(path), "--yes")
    assert result.exit_code == 0, result.output
    assert f"{len(documents)} document(s) vérifié(s)" in result.output

    restored_counts, restored = snapshot(app)
    assert restored_counts == counts
    assert restored == documents
    for sha256, content in restored.items():
        assert hashlib.sha256(content).hexdigest() == sha256
    with test_services.app_context(app):
        assert db.session.scalar(select(Client.id).where(Client.name == "Écrit après la sauvegarde")) is None
        db.session.remove()


def test_a_postgresql_backup_restores_every_row_and_document(postgres_app, tmp_path):
    round_trip(postgres_app, tmp_path, ".dump")


def test_a_sqlite_backup_restores_every_row_and_document(sqlite_app, tmp_path):
    round_trip(sqlite_app, tmp_path, ".sqlite3")


def test_a_restored_postgresql_database_keeps_its_guards(postgres_app, tmp_path):
    empty(postgres_app)
    seed(postgres_app)
    path = tmp_path / "b.dump"
    assert run(postgres_app, "backup", str(path)).exit_code == 0
    assert run(postgres_app, "restore", str(path), "--yes").exit_code == 0
    owner = create_engine(postgres_app.config["DATABASE_OWNER_URL"])  # past row-level security
    with owner.connect() as conn:
        for statement in (
            "DELETE FROM document",
            "UPDATE audit_entry SET summary = 'x'",
            "DELETE FROM invoice",
        ):
            with pytest.raises(Exception, match="immutable|append-only|never deleted"), conn.begin():
                conn.execute(text(statement))
        # And its second wall: row-level security, forced, with its policies.
        walled = "SELECT count(*) FROM pg_class WHERE relforcerowsecurity"
        walled += " AND relnamespace = 'public'::regnamespace"
        assert conn.scalar(text(walled)) >= 21
        assert conn.scalar(text("SELECT count(*) FROM pg_policies WHERE schemaname = 'public'")) >= 21
    owner.dispose()


@pytest.mark.parametrize("engine", ["postgres_app", "sqlite_app"])
def test_a_missing_or_foreign_file_is_refused_and_nothing_changes(engine, request, tmp_path):
    app = request.getfixturevalue(engine)
    empty(app)
    seed(app)
    before = snapshot(app)

    missing = run(app, "restore", str(tmp_path / "absent.dump"), "--yes")
    assert missing.exit_code == 1 and "Fichier introuvable" in missing.output

    notes = tmp_path / "notes.txt"
    notes.write_text("pas une sauvegarde")
    wrong = run(app, "restore", str(notes), "--yes")
    assert (
        wrong.exit_code == 1
        and "n'est pas une sauvegarde" in wrong.output
        and "rien n'a été modifié" in wrong.output
    )

    # A backup of the other kind of database.
    other = tmp_path / "other"
    other.write_bytes(
        b"SQLite format 3\x00" + bytes(100) if engine == "postgres_app" else b"PGDMP\x01\x0e\x00"
    )
    crossed = run(app, "restore", str(other), "--yes")
    assert crossed.exit_code == 1 and "n'est pas une sauvegarde" in crossed.output
    assert snapshot(app) == before


def test_a_backup_never_overwrites_a_file_and_defaults_to_the_instance_folder(sqlite_app, tmp_path):
    empty(sqlite_app)
    taken = tmp_path / "existe.sqlite3"
    taken.write_bytes(b"ancien")
    result = run(sqlite_app, "backup", str(taken))
    assert result.exit_code == 1 and "existe déjà" in result.output
    assert taken.read_bytes() == b"ancien"

    result = run(sqlite_app, "backup")
    assert result.exit_code == 0, result.output
    written = list((Path(sqlite_app.instance_path) / "backups").glob("relais-*.sqlite3"))
    assert len(written) == 1 and str(written[0]) in result.output
    assert not list(written[0].parent.glob("*.partial"))

    folder = tmp_path / "dossier"
    folder.mkdir()
    assert run(sqlite_app, "backup", str(folder)).exit_code == 0
    assert len(list(folder.glob("relais-*.sqlite3"))) == 1
