"""How a request's transaction ends when its view left it open.

Flask-SQLAlchemy removes the session after each request, which rolls back
whatever is left. On PostgreSQL, psycopg forgets every statement it has
prepared on a connection at each rollback (and has the server deallocate
them): pages that only read would never keep a prepared statement, and
PostgreSQL would plan each of their statements again at every request,
which, through the row-level security policies, costs more than running
them. A transaction that only read is committed instead, which for the
database is the same thing: nothing to keep, nothing to undo.

Only read means: no statement but a SELECT went through the connection
since the transaction began, the session has nothing waiting to be flushed,
no job waits for a commit, the request raised nothing and the transaction
is not in error. Anything else is rolled back, as before.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from flask import Flask
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, event
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.jobs import PENDING_KEY

WROTE = "relais_wrote"  # on the DBAPI connection's info: something but a SELECT ran


def install(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return  # SQLite keeps no prepared statement across requests anyway
    if not event.contains(engine, "begin", _began):
        event.listen(engine, "begin", _began)
        event.listen(engine, "before_cursor_execute", _before_execute)
    app.teardown_request(end_read_only)


def _began(connection: Connection) -> None:
    connection.info[WROTE] = False


def _before_execute(connection: Connection, cursor: Any, statement: str, *args: Any) -> None:
    if statement.lstrip()[:6].upper() != "SELECT":
        connection.info[WROTE] = True


def end_read_only(error: BaseException | None) -> None:
    """Teardown: commit the request's transaction if it only read."""
    if error is not None or not db.session.registry.has():
        return
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    if session.info.get(PENDING_KEY):
        return
    connection = session.connection()
    if connection.info.get(WROTE, True):
        return
    if connection.connection.dbapi_connection.info.transaction_status != TransactionStatus.INTRANS:
        return
    # The page is already made: a connection lost by now must not turn it
    # into an error (the session's removal then closes what is left, as a
    # rollback would have).
    with suppress(SQLAlchemyError):
        session.commit()
