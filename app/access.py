"""Who may see what: the one place that decides.

Every query of client-owned data is filtered through `client_scope()` or goes
through `get_client_or_404()`; no other module writes a membership filter.
Unknown users and unknown roles see nothing (deny by default). An object the
user may not see answers 404; one it sees but may not change answers 403.

The same rules give each request, job and command its `Scope`, the clients
whose rows PostgreSQL itself lets through (app/rls.py): the second wall, for
the day a view, a job or a query forgets the first.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, g, has_app_context, request
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.exc import SQLAlchemyError

from app import rls
from app.auth.models import Role, User
from app.clients.models import Client, ClientMember, CMAssignment
from app.extensions import db, login_manager
from app.timeutil import today

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

PUBLIC_ATTR = "_relais_public"


def _user(user: User | None) -> User | None:
    if user is None:
        user = current_user if current_user and current_user.is_authenticated else None
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return None
    return user


def active_assignment_clause(cm_id: int) -> ColumnElement[bool]:
    day = today()
    return (
        (CMAssignment.cm_id == cm_id)
        & (CMAssignment.since <= day)
        & or_(CMAssignment.until.is_(None), CMAssignment.until >= day)
    )


def is_assigned_on(cm: User, client_id: int, day: date) -> bool:
    """Whether `cm` serves the client on `day` (not only today): a CM logs
    time on a day only if it served the client that day."""
    stmt = select(CMAssignment.id).where(
        CMAssignment.cm_id == cm.id,
        CMAssignment.client_id == client_id,
        CMAssignment.since <= day,
        or_(CMAssignment.until.is_(None), CMAssignment.until >= day),
    )
    return db.session.scalar(stmt.limit(1)) is not None


def visible_clients_clause(user: User | None = None) -> ColumnElement[bool]:
    """A condition on Client that admits exactly the clients `user` may see."""
    user = _user(user)
    if user is None:
        return false()
    if user.role == Role.LEAD:
        return true()
    return _built(user, "clause", _clause_of)


def _clause_of(user: User) -> ColumnElement[bool]:
    if user.role == Role.CM:
        served = select(CMAssignment.client_id).where(active_assignment_clause(user.id))
        return Client.id.in_(served) & Client.archived_at.is_(None)
    if user.role == Role.CLIENT:
        own = select(ClientMember.client_id).where(ClientMember.user_id == user.id)
        return Client.id.in_(own)
    return false()


def client_scope(column: Any, user: User | None = None) -> ColumnElement[bool]:
    """A condition on any `client_id` column: rows of visible clients only."""
    user = _user(user)
    if user is None:
        return false()
    if user.role == Role.LEAD:
        return true()
    return column.in_(_visible_client_ids(user))


def _built(user: User, kind: str, build: Callable[[User], T]) -> T:
    """The SQL expression `build` makes for `user`, made once per app context
    and day: a request filters several queries with the same one, and
    building it costs more than running it. It stays SQL, evaluated by each
    query (never a list of ids read earlier)."""
    if not has_app_context():
        return build(user)
    built = g.setdefault("relais_access_sql", {})
    key = (kind, user.id, user.role, today())
    if key not in built:
        built[key] = build(user)
    return built[key]


def visible_clients(user: User | None = None) -> Select[tuple[Client]]:
    return select(Client).where(visible_clients_clause(user))


def can_view(user: User | None, client: Client) -> bool:
    user = _user(user)
    if user is None:
        return False
    stmt = select(Client.id).where(Client.id == client.id, visible_clients_clause(user))
    return db.session.scalar(stmt) is not None


def can_manage(user: User | None, client: Client | None = None) -> bool:
    """Changing a client, its contracts, users or money: leads only."""
    user = _user(user)
    return user is not None and user.role == Role.LEAD


def get_client_or_404(client_id: Any, user: User | None = None) -> Client:
    try:
        client_id = int(client_id)
    except (TypeError, ValueError):
        abort(404)
    client = db.session.scalar(select(Client).where(Client.id == client_id, visible_clients_clause(user)))
    if client is None:
        abort(404)
    return client


def get_user_or_404(user_id: Any, user: User | None = None) -> User:
    """Accounts are the lead's business: anyone else sees no account by id."""
    viewer = _user(user)
    if viewer is None or viewer.role != Role.LEAD:
        abort(404)
    target = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if target is None:
        abort(404)
    return target


def client_of_member(user: User) -> Client | None:
    """The company a client user belongs to."""
    return db.session.scalar(select(Client).join(ClientMember).where(ClientMember.user_id == user.id))


# -- decorators -------------------------------------------------------------


def public(view: F) -> F:
    """Mark a view as reachable without logging in (login, invitations...)."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def roles_required(*roles: str) -> Callable[[F], F]:
    """Logged in (enforced globally) and of one of `roles`, else 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = _user(None)
            if user is None:
                return login_manager.unauthorized()
            if user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


lead_required = roles_required(Role.LEAD)


# -- request-level enforcement ---------------------------------------------


def require_login_by_default() -> Any:
    """App-wide before_request: every endpoint needs a logged-in user unless
    it is marked @public (fail closed for a route that forgets)."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app_view()
    if view is not None and getattr(view, PUBLIC_ATTR, False):
        return None
    if _user(None) is None:
        return login_manager.unauthorized()
    return None


def current_app_view() -> Callable[..., Any] | None:
    from flask import current_app

    return current_app.view_functions.get(request.endpoint or "")


SCOPED_BLUEPRINTS: set[str] = set()


def install_client_scope(bp: Blueprint) -> None:
    """Resolve `<int:client_id>` into g.client through the access rules
    before any view of `bp` runs, and fill it back into url_for."""
    SCOPED_BLUEPRINTS.add(bp.name)

    @bp.url_value_preprocessor
    def _pull_client_id(endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values and "client_id" in values:
            g.client_id = values.pop("client_id")

    @bp.before_request
    def _load_client() -> Any:
        if "client_id" not in g:
            return None
        if _user(None) is None:
            return login_manager.unauthorized()
        g.client = get_client_or_404(g.client_id)
        return None

    @bp.url_defaults
    def _add_client_id(endpoint: str, values: dict[str, Any]) -> None:
        client = g.get("client")
        if client is not None and "client_id" not in values:
            from flask import current_app

            if current_app.url_map.is_endpoint_expecting(endpoint, "client_id"):
                values["client_id"] = client.id


def check_client_routes_are_scoped(app: Any) -> None:
    """Refuse to start if a route takes a client_id outside a scoped blueprint."""
    for rule in app.url_map.iter_rules():
        if "client_id" in rule.arguments:
            bp_name = rule.endpoint.rsplit(".", 1)[0] if "." in rule.endpoint else ""
            if bp_name not in SCOPED_BLUEPRINTS:
                raise RuntimeError(
                    f"route {rule.rule} takes client_id but blueprint {bp_name!r} "
                    "has no client scope: call access.install_client_scope(bp)"
                )


# -- the scope the database enforces ----------------------------------------


@dataclass(frozen=True)
class Scope:
    """The clients whose rows the current request, job or command may read
    or write: every client (`clients` None) or those of the set (empty:
    none). `reason` says who or what it is for, in logs and errors."""

    clients: frozenset[int] | None
    reason: str = ""

    @property
    def setting(self) -> str:
        """The value of PostgreSQL's `relais.scope` setting."""
        if self.clients is None:
            return "all"
        return ",".join(str(client_id) for client_id in sorted(self.clients))


NO_SCOPE = Scope(frozenset(), "nobody")


def system_scope(reason: str) -> Scope:
    """Every client: for work that no user starts (month close, webhooks,
    jobs, commands), which says what it is in `reason`."""
    return Scope(None, reason)


def client_scope_of(client_id: int, reason: str) -> Scope:
    return Scope(frozenset({client_id}), reason)


def scope_for(user: User | None = None) -> Scope:
    """The scope of `user`: a lead's admits every client; a CM's or a client
    user's, exactly the clients `visible_clients_clause` admits."""
    user = _user(user)
    if user is None or user.role not in (Role.CM, Role.CLIENT):
        return _scope_of(user)  # no query to run
    with using_scope(RULES_SCOPE):
        return _scope_of(user)


# The access rules read memberships of every client: their own query runs in
# this scope, which the user's then replaces.
RULES_SCOPE = Scope(None, "access rules")


def _scope_of(user: User | None) -> Scope:
    """`user`'s scope, read in the rules' scope (a CM's or a client user's
    clients need a query)."""
    if user is None or user.role not in (Role.LEAD, Role.CM, Role.CLIENT):
        return NO_SCOPE
    if user.role == Role.LEAD:
        return Scope(None, _reason(user))
    return Scope(frozenset(db.session.scalars(_visible_client_ids(user))), _reason(user))


def _visible_client_ids(user: User) -> Select[tuple[int]]:
    """select(Client.id) of the clients `user` sees: the request's scope and
    every `client_scope` filter of it share one."""
    return _built(user, "ids", lambda u: select(Client.id).where(visible_clients_clause(u)))


def _reason(user: User) -> str:
    return f"{user.role} {user.id}"


def current_scope() -> Scope:
    """The scope of the current app context; none outside one (fail closed)."""
    if not has_app_context():
        return NO_SCOPE
    return g.get("relais_scope", NO_SCOPE)


def set_scope(scope: Scope) -> None:
    """Make `scope` the current one, for the rest of the app context and the
    transaction under way."""
    g.relais_scope = scope
    _apply_now(scope)


def _apply_now(scope: Scope) -> None:
    """On the transaction under way, if any (a new one takes it as it
    begins). Through the connection, not the session: changes waiting to be
    flushed are written later, in the new scope."""
    session = db.session()
    if session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        rls.apply(session.connection(), scope.setting)


@contextmanager
def using_scope(scope: Scope) -> Iterator[Scope]:
    """`scope` for the block, then the previous one again."""
    previous = current_scope()
    set_scope(scope)
    try:
        yield scope
    finally:
        g.relais_scope = previous
        # A failed transaction cannot take it: it is rolled back, and the
        # next one begins in the previous scope.
        with suppress(SQLAlchemyError):
            _apply_now(previous)


def scope_request() -> None:
    """App-wide before_request: the logged-in user's scope (none for anyone
    else) for every transaction of the request. The session's account is
    looked up, and the clients it may see, in the rules' scope; the user's
    then replaces it (as `scope_for`, without going back to none between)."""
    if request.endpoint == "static":
        return None  # no database there: nobody to look up
    set_scope(RULES_SCOPE)
    try:
        _enter_scope_of(_user(None))
    except BaseException:
        set_scope(NO_SCOPE)
        raise
    return None


def _enter_scope_of(user: User | None) -> None:
    """`user`'s scope, made the current one from the rules' scope. On
    PostgreSQL, a CM's or a client user's clients are read and written as
    the setting by one statement (`rls.apply_selected`); a lead's setting is
    the rules' own, already written."""
    session = db.session()
    if (
        user is None
        or user.role not in (Role.CM, Role.CLIENT)
        or session.get_bind().dialect.name != "postgresql"
    ):
        scope = _scope_of(user)
        if scope.setting == RULES_SCOPE.setting:
            g.relais_scope = scope
        else:
            set_scope(scope)
        return
    ids = rls.apply_selected(session.connection(), _visible_client_ids(user))
    g.relais_scope = Scope(ids, _reason(user))


def identify(lookup: Callable[[], T]) -> T:
    """Run `lookup`, which finds the account a login, a session or a mailed
    link is for, in the rules' scope: the request does not know yet whose
    scope it has (a client contact's account is its company's row)."""
    with using_scope(RULES_SCOPE):
        return lookup()


def init_app(app: Any) -> None:
    """Scope each transaction of the app's session, on PostgreSQL."""
    rls.install(db.session, lambda: current_scope().setting)
