"""Mails about pace: budget thresholds to leads, silent clients to CMs."""

from __future__ import annotations

from datetime import date

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.models import Role, User
from app.clients.models import Client, CMAssignment
from app.contracts.budget import month_budget
from app.contracts.models import Contract
from app.extensions import db
from app.mail import in_language_of, send_mail
from app.mail_links import external_url
from app.timesheets.calendar import is_working_day, month_start, previous_working_days
from app.timesheets.models import BudgetAlert, InactivityNotice, TimeEntry

THRESHOLDS = (80, 100)


def _leads() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == Role.LEAD, User.active.is_(True))))


def check_budget_thresholds(contract: Contract, day: date) -> list[int]:
    """Mail the leads when `contract` crosses 80 % or 100 % of its hours or
    budget in the month of `day`, once per threshold and month."""
    budget = month_budget(contract, day)
    peak = max((p for p in (budget.hours_pct, budget.budget_pct) if p is not None), default=None)
    if peak is None:
        return []
    month = month_start(day)
    sent = set(
        db.session.scalars(
            select(BudgetAlert.threshold).where(
                BudgetAlert.contract_id == contract.id, BudgetAlert.month == month
            )
        )
    )
    crossed = [t for t in THRESHOLDS if peak >= t and t not in sent]
    if not crossed:
        return []
    recorded = []
    for threshold in crossed:
        # Two CMs may cross the threshold at once: the unique constraint
        # decides who mails, and the other's entry is kept all the same.
        try:
            with db.session.begin_nested():
                db.session.add(
                    BudgetAlert(
                        client_id=contract.client_id,
                        contract_id=contract.id,
                        month=month,
                        threshold=threshold,
                    )
                )
        except IntegrityError:
            continue
        recorded.append(threshold)
    crossed = recorded
    if not crossed:
        return []
    threshold = max(crossed)
    link = external_url("contracts.show", client_id=contract.client_id, contract_id=contract.id)
    for lead in _leads():
        with in_language_of(lead):
            send_mail(
                lead.email,
                _(
                    "%(client)s : %(pct)s %% du budget de %(month)s atteint",
                    client=contract.client.name,
                    pct=threshold,
                    month=month.strftime("%m/%Y"),
                ),
                render_template(
                    "timesheets/mail/threshold.txt", budget=budget, threshold=threshold, link=link
                ),
            )
    return crossed


def check_inactivity(day: date) -> int:
    """Mail each CM about the clients it serves where it has logged nothing
    for the two working days before `day`. Once per CM, client and day."""
    if not is_working_day(day):
        return 0
    window = previous_working_days(day, 2)
    first = min(window)
    pairs = db.session.execute(
        select(CMAssignment.cm_id, CMAssignment.client_id)
        .join(Client, Client.id == CMAssignment.client_id)
        .join(User, User.id == CMAssignment.cm_id)
        .where(
            CMAssignment.since <= first,
            (CMAssignment.until.is_(None)) | (CMAssignment.until >= day),
            Client.archived_at.is_(None),
            User.active.is_(True),
            select(Contract.id)
            .where(
                Contract.client_id == CMAssignment.client_id,
                Contract.start_date <= first,
                (Contract.end_date.is_(None)) | (Contract.end_date >= day),
            )
            .exists(),
        )
    ).all()
    if not pairs:
        return 0
    logged = set(
        db.session.execute(
            select(TimeEntry.cm_id, TimeEntry.client_id)
            .where(TimeEntry.day >= first, TimeEntry.day < day)
            .distinct()
        ).all()
    )
    noticed = set(
        db.session.execute(
            select(InactivityNotice.cm_id, InactivityNotice.client_id).where(InactivityNotice.day == day)
        ).all()
    )
    silent: dict[int, list[int]] = {}
    for cm_id, client_id in pairs:
        if (cm_id, client_id) not in logged and (cm_id, client_id) not in noticed:
            silent.setdefault(cm_id, []).append(client_id)
    for cm_id, client_ids in silent.items():
        cm = db.session.get(User, cm_id)
        clients = list(
            db.session.scalars(select(Client).where(Client.id.in_(client_ids)).order_by(Client.name))
        )
        for client in clients:
            db.session.add(InactivityNotice(cm_id=cm_id, client_id=client.id, day=day))
        with in_language_of(cm):
            send_mail(
                cm.email,
                _(
                    "Rien de saisi depuis deux jours pour %(clients)s",
                    clients=", ".join(c.name for c in clients),
                ),
                render_template(
                    "timesheets/mail/inactivity.txt",
                    cm=cm,
                    clients=clients,
                    since=first,
                    link=external_url("timesheets.day"),
                ),
            )
    db.session.flush()
    return sum(len(v) for v in silent.values())
