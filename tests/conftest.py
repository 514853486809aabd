"""Fixtures that compose: app (one per session, schema built once by the
migrations), db (each test in a transaction rolled back at its end), client,
login_as, outbox, count_queries, and factories in tests/factories.py."""

from __future__ import annotations

import contextvars
import email
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import Connection, event, text

from app import access, create_app
from app.config import TestConfig
from app.extensions import db as _db
from app.extensions import limiter
from tests import services

pytest_plugins = ["tests.localstripe"]

TEST_DB_NAME = os.environ.get("RELAIS_TEST_DB", "relais_test")


def build_schema(app) -> None:
    """Drop whatever is there and run every migration as the owner; on
    PostgreSQL, then grant the app's role what it needs (app/rls.py)."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from app import rls

    with app.app_context():
        engine = _db.engine
        if engine.dialect.name == "postgresql":
            owner = create_engine(app.config["DATABASE_OWNER_URL"])
            with owner.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            upgrade()
            app_role = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).username
            if app_role != owner.url.username:
                with owner.begin() as conn:
                    rls.grant_app_role(conn, app_role)
            owner.dispose()
        else:
            _db.drop_all()
            upgrade()
        engine.dispose()


def app_on_own_database(name: str, why: str, settings: dict | None = None):
    """An app on a PostgreSQL database of its own (`<test database>_<name>`),
    without the test transaction around it, for tests whose point is real
    transactions; the caller adds its routes, then calls `build_schema`.
    Skipped on SQLite, saying `why`."""
    url = services.database_url(f"{TEST_DB_NAME}_{name}")
    if not url.startswith("postgresql"):
        pytest.skip(why)
    services.create_postgres_database(url)
    return create_app(
        TestConfig,
        {
            **services.database_settings(url),
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            **(settings or {}),
        },
    )


@pytest.fixture(scope="session")
def test_dirs() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="relais-tests-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="session")
def database_url(test_dirs: Path) -> str:
    url = services.database_url(TEST_DB_NAME)
    if url.startswith("postgresql"):
        services.create_postgres_database(url)
        return url
    return "sqlite:///" + str(test_dirs / "relais-test.sqlite3")


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    return services.redis_url()


@pytest.fixture(scope="session")
def app(database_url: str, redis_url: str | None, test_dirs: Path):
    app = create_app(
        TestConfig,
        {
            **services.database_settings(database_url),
            # Jobs run in-process in most tests; job tests use a real worker.
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": redis_url or "memory://",
            "MAIL_OUTBOX_DIR": str(test_dirs / "outbox"),
            "WTF_CSRF_ENABLED": False,
        },
    )
    app.instance_path = str(test_dirs / "instance")
    build_schema(app)
    with app.app_context():
        if _db.engine.dialect.name == "sqlite":
            _sqlite_savepoints(_db.engine)
    return app


def _sqlite_savepoints(engine) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINT: take it over."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")


@pytest.fixture
def db(app) -> Iterator:
    """The database, inside a transaction that is rolled back after the test.

    Every session (the test's, each request's, in-process jobs') runs on one
    connection in SAVEPOINTs, so a view's commit is real to the code under
    test and still undone at the end."""
    with app.app_context():
        engines = _db.engines
        engine = engines[None]
        connection = engine.connect()
        transaction = connection.begin()
        engines[None] = connection
        _db.session.remove()
        _db.session.configure(join_transaction_mode="create_savepoint")
        # The test itself writes and reads every client's rows, as a command
        # would; its requests and jobs take their own scopes.
        access.set_scope(access.system_scope("test"))
        try:
            yield _db
        finally:
            _db.session.remove()
            # Rolled back, the stamps take values again that named other data.
            app.extensions.pop("relais_budget_table", None)
            engines[None] = engine
            if transaction.is_active:
                transaction.rollback()
            connection.close()
            limiter.reset()


class IsolatedClient(FlaskClient):
    """Each request runs in an app context (and so a session) of its own, as
    in production, instead of borrowing the test's: a view that rolls back
    must not undo the test's own rows. Afterwards the test's session forgets
    what it had loaded, so it reads what the request wrote."""

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():  # not inside a redirect followed by an outer open()
            _db.session.expire_all()
            _rescope_shared_connection()
        return response


def _rescope_shared_connection() -> None:
    """The request's scope outlives its SAVEPOINT on the connection every
    session shares: the test's own comes back (on the driver's connection,
    which count_queries does not count: no request issued it)."""
    connection = _db.engines[None]
    if isinstance(connection, Connection) and connection.dialect.name == "postgresql":
        connection.connection.driver_connection.execute(
            "SELECT set_config('relais.scope', %s, true)", (access.current_scope().setting,)
        )


@pytest.fixture
def client(app, db):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def login_as(client):
    """Log the test client in as `user` (no form round-trip)."""

    def login(user):
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return client

    return login


@pytest.fixture
def csrf_enabled(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


class Outbox:
    """The mails the app wrote to its file outbox during this test."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        for path in folder.glob("*.eml"):
            path.unlink()

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        policy = email.policy.default
        return [
            email.message_from_bytes(path.read_bytes(), policy=policy)
            for path in sorted(self.folder.glob("*.eml"))
        ]

    def body(self, message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def outbox(app) -> Outbox:
    import email.policy  # noqa: F401

    return Outbox(Path(app.config["MAIL_OUTBOX_DIR"]))


@pytest.fixture
def count_queries(app, db):
    """with count_queries() as counter: ...; counter.count (and, apart,
    counter.scope_count: PostgreSQL's scope settings, one per transaction
    and a few per request, whatever the data)"""
    from contextlib import contextmanager

    class Counter:
        count = 0  # statements that read or write data
        scope_count = 0  # the transactions' scope settings (app/rls.py), apart
        statements: list[str] = []

    @contextmanager
    def counting():
        counter = Counter()
        counter.statements = []
        connection = _db.engines[None]

        def before(conn, cursor, statement, parameters, context, executemany):
            if statement.startswith("SELECT set_config('relais.scope'"):
                counter.scope_count += 1
            elif not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                counter.count += 1
                counter.statements.append(statement)

        event.listen(connection, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(connection, "before_cursor_execute", before)

    return counting
