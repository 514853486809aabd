"""Relais: operations and billing for community-management agencies."""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, render_template, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError

from app import access, formatting, jobs, security, transactions
from app.config import Config, DevelopmentConfig, from_environment
from app.extensions import babel, csrf, db, limiter, login_manager, migrate
from app.formatting import LOCALES


def create_app(config: type[Config] | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app. Settings: the `config` class (chosen from RELAIS_ENV when
    None), then the environment (not for a TESTING class), then `overrides`."""
    app = Flask(__name__, instance_relative_config=True)
    configure(app, config, overrides or {})
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_request_hooks(app)
    register_cli(app)
    return app


def configure(app: Flask, config: type[Config] | None, overrides: dict[str, Any]) -> None:
    environment = from_environment()
    if config is None:
        config = DevelopmentConfig if environment.get("RELAIS_ENV") == "development" else Config
    app.config.from_object(config)
    if not app.config.get("TESTING"):
        app.config.update(environment)
    app.config.update(overrides)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "relais.sqlite3")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    # Migrations, backups and restores connect as the tables' owner; the app
    # itself as a role held to row-level security (app/rls.py).
    app.config["DATABASE_OWNER_URL"] = normalise_database_url(
        app.config.get("DATABASE_OWNER_URL") or app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A database that does not answer fails the request in seconds
        # instead of holding a worker until the system's TCP timeout.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"connect_timeout": 5, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme the URL was given with."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance: Path) -> str:
    """A key generated once into the instance folder (never committed)."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every table known to SQLAlchemy and Alembic)

    db.init_app(app)
    access.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    jobs.init_app(app)
    formatting.init_app(app)

    from app.auth.services import load_user

    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Connectez-vous pour accéder à cette page.")

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def select_locale() -> str:
    """The user's language, else the one chosen this session; French first.
    Jobs and commands (no request) write in French."""
    if not has_request_context():
        return LOCALES["fr"]
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return LOCALES[current_user.locale]
    return LOCALES.get(session.get("lang"), LOCALES["fr"])


BLUEPRINT_PACKAGES = (
    "main",
    "auth",
    "clients",
    "users",
    "agency",
    "audit",
    "portal",
    "documents",
    "outbox",
    "contracts",
    "timesheets",
    "reports",
    "invoices",
    "payments",
    "health",
    "lifecycle",
)


def register_blueprints(app: Flask) -> None:
    """Each domain package defines `bp` in __init__ and its routes in views.py
    (imported here, so models never pull views in)."""
    import importlib

    app.url_map.converters["int"] = security.IdConverter  # before any rule is added
    for name in BLUEPRINT_PACKAGES:
        package = importlib.import_module(f"app.{name}")
        importlib.import_module(f"app.{name}.views")
        app.register_blueprint(package.bp)
    access.check_client_routes_are_scoped(app)


def register_error_handlers(app: Flask) -> None:
    def render_error(code: int):
        def handler(error: Exception):
            if code == 500:
                # The error may have broken the transaction (a connection the
                # database dropped): the page itself must not need it.
                with suppress(SQLAlchemyError):
                    db.session.rollback()
            return render_template(f"errors/{code}.html", error=error), code

        return handler

    for code in (400, 403, 404, 405, 429, 500):  # 413: app/security.py
        app.register_error_handler(code, render_error(code))

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_template("errors/csrf.html", error=error), 400


def register_request_hooks(app: Flask) -> None:
    transactions.install(app)
    app.before_request(access.scope_request)
    app.before_request(access.require_login_by_default)
    security.init_app(app)  # headers, cookies, uploads too large

    @app.context_processor
    def template_globals():
        from flask_babel import get_locale

        from app.mail import uses_outbox

        return {
            "get_locale": get_locale,
            "current_client": g.get("client"),
            "outbox_enabled": uses_outbox(app),
        }


def register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)
