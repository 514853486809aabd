"""Command-line tools: `flask --app wsgi <command>`.

    seed-demo      the demo agency (idempotent), then its logins
    create-user    an account with a password, e.g. the first lead of an install
    close-month    close a month: lock its time, make its reports, draft its invoices
    daily-checks   remind CMs of clients with nothing logged for two working days
    reconcile-payments  re-read at Stripe the card payments still waiting (cron)
    worker         an RQ worker with the app configured (needs REDIS_URL)
    backup, restore, app-role   the database itself, as its owner (app/database_commands.py)

Commands call services and commit once at their end; errors are
click.ClickException (a message, exit status 1) and leave nothing behind.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

import click
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.access import system_scope, using_scope, visible_clients
from app.audit.services import record
from app.auth.models import Role, User
from app.auth.services import AccountError, check_new_password, hash_password, normalise_email, role_label
from app.clients.models import Client, ClientMember
from app.extensions import db
from app.timesheets.calendar import add_months, month_start, parse_month
from app.timeutil import today

ROLES = (Role.LEAD, Role.CM, Role.CLIENT)


def system_scoped(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command in the system's scope (app/access.py): no user's
    request starts it, so it says so instead of inheriting none."""

    @wraps(command)
    def scoped(*args: Any, **kwargs: Any) -> Any:
        with using_scope(system_scope(f"command {command.__name__}")):
            return command(*args, **kwargs)

    return scoped


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(close_month_command)
    app.cli.add_command(daily_checks_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(reconcile_payments_command)
    from app.database_commands import app_role_command, backup_command, restore_command

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(app_role_command)


def create_account(
    email: str,
    name: str,
    role: str,
    password: str,
    *,
    actor: User | None = None,
    client: Client | None = None,
    job_title: str = "",
) -> User:
    """An active account with a password (a client user joins `client`).

    Raises AccountError before writing anything; flushes, never commits.
    """
    email = normalise_email(email)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        if not email:
            raise AccountError(_("Indiquez une adresse e-mail (--email).")) from error
        raise AccountError(_("Adresse e-mail invalide : %(email)s", email=email)) from error
    if role not in ROLES:
        raise AccountError(_("Rôle inconnu : « %(role)s » (choisissez lead, cm ou client).", role=role))
    if role == Role.CLIENT and client is None:
        raise AccountError(_("Un compte client doit être rattaché à une entreprise cliente (--client)."))
    if role != Role.CLIENT and client is not None:
        raise AccountError(_("Seul un compte client se rattache à une entreprise cliente."))
    name = (name or "").strip()
    if not name:
        raise AccountError(_("Indiquez le nom de la personne (--name)."))
    check_new_password(password or "")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(_("Un compte existe déjà avec l'adresse %(email)s.", email=email))
    user = User(email=email, name=name, role=role, active=True, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    if client is not None:
        db.session.add(ClientMember(client=client, user=user, job_title=job_title.strip()))
    record(
        actor,
        "user.created",
        user,
        client_id=client.id if client is not None else None,
        summary=_("Compte créé : %(email)s (%(role)s)", email=email, role=role_label(role)),
    )
    db.session.flush()
    return user


# -- seed-demo ----------------------------------------------------------------------

CREATED_LABELS = {
    "users": _l("comptes"),
    "memberships": _l("rattachements"),
    "agency": _l("fiche agence"),
    "groups": _l("groupes de concurrents"),
    "clients": _l("clients"),
    "assignments": _l("affectations"),
    "contracts": _l("contrats"),
    "time_entries": _l("saisies de temps"),
    "reports": _l("rapports publiés"),
    "invoices": _l("factures émises"),
    "payments": _l("paiements"),
}


@click.command("seed-demo")
@click.option("--json", "as_json", is_flag=True, help="Print only the logins and clients, as JSON.")
@click.option("--force", is_flag=True, help="Also on a database that has other accounts.")
@with_appcontext
@system_scoped
def seed_demo_command(as_json: bool, force: bool) -> None:
    """Build the demo agency (idempotent) and print its logins."""
    from app.demo import foreign_accounts, seed_demo

    others = foreign_accounts()
    if others and not force:
        raise click.ClickException(
            _(
                "Cette base a déjà des comptes qui ne sont pas ceux de la démo (%(emails)s…) : la démo y "
                "ajouterait un responsable au mot de passe connu. Relancez avec --force si c'est voulu.",
                emails=", ".join(others),
            )
        )
    result = seed_demo()
    db.session.commit()
    logins = [
        {
            "email": user.email,
            "password": spec.password,
            "role": user.role,
            "clients": [c.name for c in db.session.scalars(visible_clients(user).order_by(Client.name))],
            "note": spec.note,
        }
        for user, spec in result.users
    ]
    all_clients = [c.name for c in result.clients]
    if as_json:
        users = [{key: row[key] for key in ("email", "password", "role", "clients")} for row in logins]
        click.echo(json.dumps({"users": users, "clients": all_clients}, ensure_ascii=False, indent=2))
        return
    if result.created:
        created = ", ".join(f"{n} {CREATED_LABELS.get(kind, kind)}" for kind, n in result.created.items())
        click.echo(_("Agence de démonstration prête. Créés : %(created)s.", created=created))
    else:
        click.echo(_("Agence de démonstration déjà en place : rien à créer."))
    click.echo()
    click.echo(_logins_table(logins, len(all_clients)))
    click.echo()
    base = current_app.config.get("BASE_URL", "").rstrip("/")
    click.echo(_("Connexion : %(url)s", url=f"{base}/login"))


def _logins_table(logins: list[dict], client_count: int) -> str:
    header = [_("E-mail"), _("Mot de passe"), _("Rôle"), _("Clients visibles")]
    rows = []
    for row in logins:
        role = role_label(row["role"]) + (f" ({row['note']})" if row["note"] else "")
        if row["role"] == Role.LEAD and len(row["clients"]) == client_count:
            seen = _("tous (%(n)d)", n=client_count)
        else:
            seen = ", ".join(row["clients"]) or _("aucun")
        rows.append([row["email"], row["password"], role, seen])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]

    def line(cells: list[str]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=False)]
        return "  ".join([*padded, cells[-1]])

    rule = "  ".join("-" * w for w in widths) + "  " + "-" * len(header[-1])
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


# -- create-user ----------------------------------------------------------------------


@click.command("create-user")
@click.option("--email", prompt="Adresse e-mail", help="Login e-mail address.")
@click.option("--name", prompt="Nom", help="Full name, as shown in the app.")
@click.option("--role", default=Role.LEAD.value, show_default=True, help="lead, cm or client.")
@click.option("--client", "client_name", default=None, help="The company of a client user (its exact name).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@with_appcontext
@system_scoped
def create_user_command(
    email: str, name: str, role: str, client_name: str | None, password_stdin: bool
) -> None:
    """Create an account with a password (e.g. the first lead of an install)."""
    role = (role or "").strip().lower()
    if role not in ROLES:
        raise click.UsageError(_("Rôle inconnu : « %(role)s » (choisissez lead, cm ou client).", role=role))
    client = None
    if client_name:
        client = db.session.scalar(select(Client).where(Client.name == client_name.strip()).limit(1))
        if client is None:
            raise click.UsageError(_("Aucun client ne s'appelle « %(name)s ».", name=client_name))
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            _("Mot de passe"), hide_input=True, confirmation_prompt=_("Confirmez le mot de passe")
        )
    try:
        user = create_account(email, name, role, password, client=client)
    except AccountError as error:  # refused before anything was written
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(_("Compte créé : %(email)s (%(role)s).", email=user.email, role=role_label(user.role)))


# -- month close and daily checks ---------------------------------------------


def _month(value: str | None) -> date:
    if value is None:
        return add_months(month_start(today()), -1)
    month = parse_month(value)
    if month is None:
        raise click.BadParameter("attendu : AAAA-MM, par exemple 2026-10", param_hint="MONTH")
    return month


@click.command("close-month")
@click.argument("month", required=False)
@click.option("--no-wait", is_flag=True, help="Ne pas attendre la fin des rapports (workers RQ).")
@with_appcontext
@system_scoped
def close_month_command(month: str | None, no_wait: bool) -> None:
    """Close MONTH (AAAA-MM; default: last month): lock every running
    contract's time, make and render its report, draft its invoice. Idempotent."""
    import time

    from app.mail_links import external_url
    from app.reports.close import close_month, invoice_tally, progress

    first = _month(month)
    if first > month_start(today()):
        raise click.BadParameter("ce mois n'a pas commencé", param_hint="MONTH")
    run = close_month(None, first)
    db.session.commit()
    invoices = invoice_tally(first)
    click.echo(
        f"{first:%m/%Y} : saisies verrouillées, {run.contracts} rapport(s) à préparer, "
        f"{invoices.drafts} brouillon(s) de facture ({invoices.issued} déjà émise(s))."
    )
    if invoices.drafts:
        drafts_url = external_url("invoices.index", month=f"{first:%Y-%m}", status="draft")
        click.echo(f"Brouillons de factures à relire et émettre : {drafts_url}")
    state = progress(first)
    if no_wait or state.finished:
        click.echo(f"Rapports prêts : {state.done}/{state.total}, en échec : {state.failed}.")
        return
    with click.progressbar(length=state.total, label="Rapports", show_pos=True) as bar:
        shown = 0
        while True:
            db.session.expire_all()
            state = progress(first)
            bar.update(state.done + state.failed - shown)
            shown = state.done + state.failed
            if state.finished:
                break
            time.sleep(1)
    click.echo(f"Rapports prêts : {state.done}/{state.total}, en échec : {state.failed}.")
    if state.failed:
        raise click.ClickException(
            "certains rapports ont échoué : voyez leur page, puis relancez la commande."
        )


@click.command("daily-checks")
@click.option("--day", "day_", help="Jour vérifié (AAAA-MM-JJ ; par défaut aujourd'hui).")
@with_appcontext
@system_scoped
def daily_checks_command(day_: str | None) -> None:
    """Remind CMs of clients with nothing logged for two working days."""
    from app.timesheets.alerts import check_inactivity

    try:
        day = date.fromisoformat(day_) if day_ else today()
    except ValueError as error:
        raise click.BadParameter("attendu : AAAA-MM-JJ", param_hint="--day") from error
    count = check_inactivity(day)
    db.session.commit()
    click.echo(f"{day:%d/%m/%Y} : {count} rappel(s) envoyé(s).")


@click.command("worker")
@click.option("--queue", "-q", "queues", multiple=True, help="File(s) à traiter (par défaut toutes).")
@click.option("--burst", is_flag=True, help="S'arrêter quand les files sont vides.")
@with_appcontext
def worker_command(queues: tuple[str, ...], burst: bool) -> None:
    """Run an RQ worker for the app's queues (REDIS_URL must be set)."""
    from app.jobs import QUEUES, work

    unknown = [name for name in queues if name not in QUEUES]
    if unknown:
        raise click.BadParameter(f"file inconnue : {', '.join(unknown)} (connues : {', '.join(QUEUES)})")
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException(
            "REDIS_URL n'est pas défini : les tâches s'exécutent déjà dans le processus web."
        )
    work(current_app._get_current_object(), list(queues) or list(QUEUES), burst=burst)


@click.command("reconcile-payments")
@with_appcontext
@system_scoped
def reconcile_payments_command() -> None:
    """Re-read at Stripe the card payments of invoices still waiting, record
    those that succeeded, and retry webhook events left unhandled."""
    from app.payments.jobs import reconcile_pending
    from app.payments.services import card_payments_enabled

    if not card_payments_enabled():
        click.echo("Paiement par carte non configuré (STRIPE_*) : rien à rapprocher.")
        return
    counts = reconcile_pending()
    click.echo(
        f"Paiements relus : {counts['checked']}, enregistrés : {counts['recorded']}, "
        f"événements repris : {counts['events']}, en échec : {counts['failed']}."
    )
    if counts["failed"]:
        raise click.ClickException("certains paiements n'ont pas pu être relus : voyez les journaux.")
