"""Demo contracts and three months of realistic time entries (seed-demo)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.clients.models import Client, CMAssignment
from app.contracts.models import Contract, ContractTerms
from app.extensions import db
from app.timesheets.calendar import add_months, is_working_day, month_start
from app.timesheets.models import MonthLock, TimeEntry
from app.timesheets.services import ensure_default_activities
from app.timeutil import today

# name fragment -> (billing model, fee, included hours, hourly rate, ceiling, channels)
PROFILES = {
    "Fromagerie": ("retainer_overage", "708.00", 30, "45.00", "900.00", ["facebook", "instagram"]),
    "Garage Leroy": ("hourly", None, None, "50.00", "1000.00", ["facebook", "linkedin"]),
    "Kiné": ("retainer", "450.00", 15, None, "450.00", ["instagram", "blog"]),
}
DEFAULT_PROFILE = ("retainer", "708.00", 30, None, "708.00", ["facebook", "instagram"])

NOTES = {
    "Animation": ["Réponses aux commentaires", "Jeu concours de la semaine", "Relance de la communauté"],
    "Création de contenu": [
        "3 posts de la semaine",
        "Carrousel des nouveautés",
        "Story du jour",
        "Vidéo courte",
    ],
    "Modération": ["Modération des avis", "Tri des messages privés"],
    "Relation client": ["Réponses aux messages privés", "Suivi d'une réclamation"],
    "Reporting": ["Statistiques de la semaine"],
    "Stratégie": ["Calendrier éditorial du mois", "Point mensuel avec le client"],
    "Publicité": ["Campagne sponsorisée locale", "Réglage du ciblage"],
}
WEIGHTS = {
    "Création de contenu": 5,
    "Animation": 4,
    "Modération": 3,
    "Relation client": 2,
    "Reporting": 1,
    "Stratégie": 1,
    "Publicité": 1,
}


def _profile(name: str):
    for fragment, profile in PROFILES.items():
        if fragment in name:
            return profile
    return DEFAULT_PROFILE


def seed_contracts_and_time(clients: list[Client], seed: int = 2026, months: int = 3) -> tuple[int, int]:
    """Give each of `clients` a contract started `months` months ago and fill
    its working days with one to two hours of entries by its CMs. Idempotent:
    clients that already have a contract, and contracts that already have
    entries, are left as they are. Months before the current one are closed.
    Returns (contracts created, entries created)."""
    rnd = random.Random(seed)
    start = add_months(month_start(today()), -months)
    activities = {a.label: a for a in ensure_default_activities()}
    labels = [label for label in WEIGHTS if label in activities]
    weights = [WEIGHTS[label] for label in labels]
    new_contracts = new_entries = 0
    for client in clients:
        contract = db.session.scalar(select(Contract).where(Contract.client_id == client.id))
        if contract is None:
            model, fee, hours, rate, ceiling, channels = _profile(client.name)
            contract = Contract(
                client=client, title="Community management", start_date=start, channels=channels
            )
            contract.terms.append(
                ContractTerms(
                    effective_from=start,
                    billing_model=model,
                    monthly_fee=Decimal(fee) if fee else None,
                    included_minutes=hours * 60 if hours else None,
                    hourly_rate=Decimal(rate) if rate else None,
                    budget_ceiling=Decimal(ceiling),
                    vat_rate=Decimal("20.00"),
                )
            )
            db.session.add(contract)
            db.session.flush()
            new_contracts += 1
        if db.session.scalar(select(TimeEntry.id).where(TimeEntry.contract_id == contract.id).limit(1)):
            continue
        cms = [
            a.cm for a in db.session.scalars(select(CMAssignment).where(CMAssignment.client_id == client.id))
        ]
        if not cms:
            continue
        terms = contract.terms[0]
        day = contract.start_date
        while day < today():
            if is_working_day(day) and rnd.random() < 0.85:
                total = rnd.choice([45, 60, 60, 75, 90, 90, 105, 120])
                half = total // 30 * 15  # quarter hours, as people log them
                pieces = [total] if total <= 60 or rnd.random() < 0.5 else [half, total - half]
                for minutes in pieces:
                    cm = rnd.choice(cms)
                    label = rnd.choices(labels, weights)[0]
                    db.session.add(
                        TimeEntry(
                            client_id=client.id,
                            contract_id=contract.id,
                            cm_id=cm.id,
                            day=day,
                            minutes=minutes,
                            activity_id=activities[label].id,
                            channel=rnd.choice(contract.channels) if contract.channels else None,
                            note=rnd.choice(NOTES.get(label, [""])),
                            hourly_rate=terms.hourly_rate,
                            cost_rate=cm.cost_rate,
                        )
                    )
                    new_entries += 1
            day += timedelta(days=1)
        db.session.flush()
        month = contract.start_date
        while month < month_start(today()):
            if (
                db.session.scalar(
                    select(MonthLock.id).where(MonthLock.contract_id == contract.id, MonthLock.month == month)
                )
                is None
            ):
                db.session.add(MonthLock(client_id=client.id, contract_id=contract.id, month=month))
            month = add_months(month, 1)
    db.session.flush()
    return new_contracts, new_entries
