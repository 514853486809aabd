"""The schema the migrations build is the one the models describe, and the
database itself guards what must never change."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from app.audit.services import record
from app.documents.services import store_document
from app.extensions import db as _db
from tests.factories import make_client, make_lead


def test_migrations_build_exactly_the_models_schema(db):
    connection = _db.session.connection()
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    differences = compare_metadata(context, _db.metadata)
    assert differences == []


def _postgres_only(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the guards are PostgreSQL triggers")


def test_the_database_refuses_to_rewrite_the_audit_log(db):
    _postgres_only(db)
    entry = record(make_lead(), "client.updated", summary="avant")
    db.session.flush()
    for statement in (
        "UPDATE audit_entry SET summary = 'après' WHERE id = :id",
        "DELETE FROM audit_entry WHERE id = :id",
    ):
        with pytest.raises(Exception, match="append-only"), db.session.begin_nested():
            db.session.execute(text(statement), {"id": entry.id})
    db.session.expire_all()
    assert db.session.get(type(entry), entry.id).summary == "avant"


def test_a_deleted_client_is_nulled_out_of_the_audit_log(db):
    _postgres_only(db)
    client = make_client("Éphémère")
    entry = record(make_lead(), "client.created", client, client_id=client.id)
    db.session.flush()
    db.session.execute(text("DELETE FROM client WHERE id = :id"), {"id": client.id})
    db.session.expire_all()
    assert db.session.get(type(entry), entry.id).client_id is None


def test_the_database_refuses_to_change_a_stored_document(db):
    _postgres_only(db)
    document = store_document(b"%PDF-1.7 test", "application/pdf")
    for statement in (
        "UPDATE document SET content = 'x' WHERE sha256 = :sha",
        "DELETE FROM document WHERE sha256 = :sha",
    ):
        with pytest.raises(Exception, match="immutable"), db.session.begin_nested():
            db.session.execute(text(statement), {"sha": document.sha256})
