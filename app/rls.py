"""PostgreSQL row-level security: the second wall behind app/access.py.

Every client-owned table has row-level security forced, with a policy that
admits only the clients of the transaction's `relais.scope` setting (the
migration 7c3e9a1f0b2d holds the policies). This module writes that setting
at the start of every transaction of the app's session, from the scope the
access module keeps for the current request, job or command, and again
whenever that scope changes mid-transaction. A transaction nobody scoped
sees no client row at all.

The app connects as a role that owns no table, is no superuser and cannot
bypass row-level security (`grant_app_role`, run by `flask --app wsgi
app-role` as the owner); migrations, backups and restores connect as the
owner (DATABASE_OWNER_URL). On SQLite none of this applies: the access
module's filters are the only wall there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, Text, cast, event, func, literal_column, select, text, true
from sqlalchemy.orm import Session, SessionTransaction

SET_SCOPE = text("SELECT set_config('relais.scope', :scope, true)")

# Tables without client-owned rows: the agency's own (settings, activities,
# groups of competitors, month closes) and the migration bookkeeping. Every
# other table has its policy (accounts too: a client contact's is its
# company's), and tests/security/test_row_security.py keeps it that way.
AGENCY_TABLES = frozenset(
    {
        "activity",
        "agency_settings",
        "alembic_version",
        "competitor_group",
        "month_close",
    }
)


def apply(connection: Connection, value: str) -> None:
    """Write the scope setting for the connection's current transaction."""
    connection.execute(SET_SCOPE, {"scope": value})


def apply_selected(connection: Connection, ids: Select[tuple[int]]) -> frozenset[int]:
    """Write as the scope setting the client ids that `ids` selects, and
    return them: one statement where reading them, then writing them, takes
    two. `ids` runs in the scope under way (set_config needs its argument
    first), which the new one replaces for the rest of the transaction."""
    selected = ids.subquery()
    listed = func.coalesce(select(func.string_agg(cast(selected.c[0], Text), ",")).scalar_subquery(), "")
    setting = literal_column("'relais.scope'")  # as SET_SCOPE reads, in logs and counts
    value = connection.scalar(select(func.set_config(setting, listed, true())))
    return frozenset(int(client_id) for client_id in value.split(",") if client_id)


_current_value: Callable[[], str] = lambda: ""  # noqa: E731 - until install(): no scope


def install(session_factory: Any, current_value: Callable[[], str]) -> None:
    """Scope every transaction the app's session begins on PostgreSQL with
    `current_value()` (the access module's current scope, as a setting).
    Once per process, however many apps it creates."""
    global _current_value
    _current_value = current_value
    if not event.contains(session_factory, "after_begin", _scope_transaction):
        event.listen(session_factory, "after_begin", _scope_transaction)


def _scope_transaction(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        apply(connection, _current_value())


# -- the app's role -------------------------------------------------------------------


ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
APP_ROLE = "relais_app"  # the README's, the tests' and the benchmarks'


def as_role(url: str, role: str = APP_ROLE) -> str:
    """The owner's database `url`, connecting as `role` instead, with no
    password (PostgreSQL's trust on 127.0.0.1: the tests and benchmarks)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


class AppRoleError(RuntimeError):
    """The role cannot serve as the app's: a message for the command line."""


@dataclass(frozen=True)
class RoleStatus:
    """What the app's own connection is, as the health page shows it."""

    name: str
    superuser: bool
    bypasses_rls: bool
    owned_tables: int
    protected_tables: int

    @property
    def walled(self) -> bool:
        return not (self.superuser or self.bypasses_rls or self.owned_tables) and self.protected_tables > 0


def role_status(connection: Connection) -> RoleStatus:
    row = connection.execute(
        text(
            "SELECT r.rolname, r.rolsuper, r.rolbypassrls,"
            " (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid"
            "   AND c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'),"
            " (SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"
            "   AND c.relkind = 'r' AND c.relrowsecurity AND c.relforcerowsecurity)"
            " FROM pg_roles r WHERE r.rolname = current_user"
        )
    ).one()
    return RoleStatus(row[0], row[1], row[2], row[3], row[4])


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def grant_app_role(connection: Connection, role: str, password: str | None = None) -> None:
    """Create `role` if needed (login, no superuser, no bypass of row-level
    security, no table of its own) and grant it what the app does: read and
    write rows, use sequences; never TRUNCATE (which ignores row-level
    security), nor the migrations' bookkeeping. Run as the tables' owner,
    after the migrations; tables later migrations add are granted too."""
    if not ROLE_NAME.fullmatch(role):
        raise AppRoleError("role name: 1 to 63 lowercase letters, digits or _, not starting with a digit")
    existing = connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).one_or_none()
    if existing is not None and (existing[0] or existing[1]):
        raise AppRoleError(
            f"role {role} is a superuser or bypasses row-level security: it cannot be the app's role"
        )
    if role == connection.execute(text("SELECT current_user")).scalar():
        raise AppRoleError(f"role {role} is the one running this command, which owns the tables")
    quoted = _quote(connection, role)
    if existing is None:  # another process may create it at the same moment
        connection.exec_driver_sql(
            f"DO $$ BEGIN CREATE ROLE {quoted} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;"
            " EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
    owned = connection.execute(
        text(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner"
            " WHERE r.rolname = :role AND c.relnamespace = 'public'::regnamespace"
        ),
        {"role": role},
    ).scalar()
    if owned:
        raise AppRoleError(f"role {role} owns {owned} table(s) here: the app's role must own none")
    if password is not None:
        from psycopg import sql

        literal = sql.Literal(password).as_string(connection.connection.driver_connection)
        connection.exec_driver_sql(f"ALTER ROLE {quoted} PASSWORD {literal}")
    database = _quote(connection, connection.execute(text("SELECT current_database()")).scalar())
    tables = "SELECT, INSERT, UPDATE, DELETE"
    for statement in (
        f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {quoted}",
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT {tables} ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {tables} ON TABLES TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {quoted}",
    ):
        connection.exec_driver_sql(statement)
    if connection.execute(text("SELECT to_regclass('public.alembic_version') IS NOT NULL")).scalar():
        connection.exec_driver_sql(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {quoted}")
