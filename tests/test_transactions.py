"""A request's transaction that only read is committed at the end, so that
psycopg keeps the statements it prepared; anything else is rolled back
(app/transactions.py). On a database of its own, without the test
transaction around it: what ends each request's transaction is the point."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.access import public
from app.extensions import db
from app.timesheets.models import Activity
from tests import services as test_services
from tests.conftest import app_on_own_database, build_schema


@pytest.fixture(scope="module")
def probe_app():
    app = app_on_own_database(
        "transactions", "prepared statements are PostgreSQL's (SQLite needs nothing here)"
    )

    def count_activities():
        return str(db.session.scalar(select(func.count()).select_from(Activity)))

    def flush_one():
        db.session.add(Activity(label="Écrite", position=99))
        db.session.flush()
        return count_activities()

    def leave_one_pending():
        count = count_activities()
        db.session.add(Activity(label="En attente", position=99))
        return count

    def write_with_sql():
        db.session.execute(text("UPDATE activity SET position = position + 1"))
        return count_activities()

    def read_then_fail():
        count_activities()
        raise RuntimeError("the view failed after reading")

    for view in (count_activities, flush_one, leave_one_pending, write_with_sql, read_then_fail):
        app.add_url_rule(f"/probe/{view.__name__}", view.__name__, public(view))
    build_schema(app)
    with test_services.app_context(app):
        test_services.empty_database(app)
        db.session.commit()
    yield app
    with test_services.app_context(app):
        db.engine.dispose()


@pytest.fixture
def ends(probe_app):
    """How each transaction of the app's engine ended, in order."""
    with test_services.app_context(probe_app):
        engine = db.engine
    ended: list[str] = []

    def commit(conn):
        ended.append("commit")

    def rollback(conn):
        ended.append("rollback")

    event.listen(engine, "commit", commit)
    event.listen(engine, "rollback", rollback)
    yield ended
    event.remove(engine, "commit", commit)
    event.remove(engine, "rollback", rollback)


def prepared_statements(app) -> int:
    with test_services.app_context(app):
        connection = db.engine.raw_connection()  # the pool's only connection
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            return cursor.fetchone()[0]
        finally:
            connection.close()


def activities(app) -> int:
    with test_services.app_context(app):
        try:
            return db.session.scalar(select(func.count()).select_from(Activity))
        finally:
            db.session.remove()


def test_a_request_that_only_read_is_committed_and_its_statements_stay_prepared(probe_app, ends):
    client = probe_app.test_client()
    for _ in range(7):  # psycopg prepares a statement at its fifth run
        assert client.get("/probe/count_activities").status_code == 200
    assert ends and set(ends) == {"commit"}
    assert prepared_statements(probe_app) >= 1


@pytest.mark.parametrize("view", ["flush_one", "leave_one_pending", "write_with_sql", "read_then_fail"])
def test_a_request_that_wrote_or_failed_is_rolled_back(probe_app, ends, view):
    client = probe_app.test_client()
    before = activities(probe_app)
    positions = _positions(probe_app)
    ends.clear()
    if view == "read_then_fail":
        with pytest.raises(RuntimeError):  # TESTING: the error goes through
            client.get(f"/probe/{view}")
    else:
        assert client.get(f"/probe/{view}").status_code == 200
    assert ends == ["rollback"]
    assert activities(probe_app) == before
    assert _positions(probe_app) == positions


def _positions(app) -> list[int]:
    with test_services.app_context(app):
        try:
            return list(db.session.scalars(select(Activity.position).order_by(Activity.id)))
        finally:
            db.session.remove()


def test_a_commit_that_fails_once_the_page_is_made_does_not_fail_it(probe_app, monkeypatch):
    def lost(session):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(Session, "commit", lost)
    response = probe_app.test_client().get("/probe/count_activities")
    assert response.status_code == 200 and response.text == "0"
