"""Commands on the database itself, as the tables' owner (DATABASE_OWNER_URL):

    backup     a consistent backup of the database, documents included
    restore    the database replaced by such a backup (asks first)
    app-role   the PostgreSQL role the app connects as, held to row-level security

Errors are click.ClickException (a message, exit status 1).
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli import system_scoped
from app.extensions import db


@click.command("backup")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@with_appcontext
@system_scoped
def backup_command(path: Path | None) -> None:
    """Write a consistent backup of the database, documents included (PATH: a
    new file, or a folder; by default instance/backups/)."""
    from app.lifecycle.backup import BackupError, Target, backup, default_path, size_label
    from app.timeutil import utcnow

    url = current_app.config["DATABASE_OWNER_URL"]
    try:
        target = Target.of(url)
        if path is None or path.is_dir():
            folder = path if path is not None else Path(current_app.instance_path) / "backups"
            path = default_path(folder, target, utcnow())
        written = backup(url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Sauvegarde écrite : {written} ({size_label(written.stat().st_size)}).")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the database without asking.")
@with_appcontext
@system_scoped
def restore_command(path: Path, yes: bool) -> None:
    """Replace the whole database by a backup made with `flask backup` (stop
    the web and worker processes first)."""
    from app.lifecycle.backup import BackupError, check_backup, restore, verify_documents

    url = current_app.config["DATABASE_OWNER_URL"]
    try:
        check_backup(url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    database = db.engine.url.render_as_string(hide_password=True)
    if not yes and not click.confirm(
        f"Remplacer TOUTE la base {database} par {path} ? Ce qui y a été écrit depuis sera perdu.",
        default=False,
    ):
        raise click.ClickException("Restauration annulée : rien n'a été modifié.")
    try:
        restore(url, path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    count, broken = verify_documents()
    db.session.remove()
    if broken:
        raise click.ClickException(
            f"Base restaurée, mais {len(broken)} document(s) sur {count} ne correspondent plus à leur "
            f"SHA-256 : {', '.join(broken[:5])}"
        )
    click.echo(f"Base restaurée depuis {path} : {count} document(s) vérifié(s) (SHA-256).")


@click.command("app-role")
@click.argument("name")
@click.option(
    "--password-env",
    metavar="VARIABLE",
    help="Set the role's password from this environment variable (never on the command line).",
)
@with_appcontext
def app_role_command(name: str, password_env: str | None) -> None:
    """Create or update NAME, the PostgreSQL role the app connects as
    (DATABASE_URL): it owns no table, is no superuser, cannot bypass
    row-level security. Run as the tables' owner (DATABASE_OWNER_URL),
    after `flask db upgrade`."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    from app.rls import AppRoleError, grant_app_role

    password = None
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise click.BadParameter(
                f"la variable {password_env} est vide ou absente", param_hint="--password-env"
            )
    owner = create_engine(current_app.config["DATABASE_OWNER_URL"], poolclass=NullPool)
    if owner.dialect.name != "postgresql":
        raise click.ClickException("SQLite : pas de rôle ni de sécurité au niveau des lignes, rien à faire.")
    try:
        with owner.begin() as connection:
            grant_app_role(connection, name, password)
    except AppRoleError as error:
        raise click.ClickException(str(error)) from error
    except SQLAlchemyError as error:
        raise click.ClickException(f"PostgreSQL a refusé : {getattr(error, 'orig', error)}") from error
    finally:
        owner.dispose()
    click.echo(
        f"Rôle {name} prêt : sans table à lui, soumis à la sécurité des lignes. "
        f"L'application s'y connecte par DATABASE_URL ; les migrations par DATABASE_OWNER_URL."
    )
