"""Demo reports: the closed months of the demo contracts, with highlights
and channel figures, published (rendered by the report jobs once seed-demo
commits)."""

from __future__ import annotations

import random
from decimal import Decimal

from sqlalchemy import select

from app.auth.models import User
from app.clients.models import Client
from app.contracts.models import Contract
from app.extensions import db
from app.reports.models import ChannelFigure, ReportStatus
from app.reports.services import ensure_report, request_publish
from app.timesheets.models import MonthLock

HIGHLIGHTS = [
    "Un mois **solide** : la communauté grandit et les messages privés reçoivent une réponse "
    "dans la journée.\n\n- 12 publications, dont 4 vidéos courtes\n- Un jeu concours qui a "
    "apporté de nouveaux abonnés\n- Modération des avis Google chaque semaine",
    "Temps fort du mois : la **semaine du goût**, relayée en stories tous les jours.\n\n"
    "- Calendrier éditorial validé avec vous en début de mois\n- Nouvelles photos en boutique\n"
    "- Réponses à toutes les questions sur les horaires",
    "Mois plus calme, consacré à la **stratégie** : nous avons revu la ligne éditoriale et "
    "préparé les campagnes de la fin d'année.\n\n- Audit des comptes\n- Trois formats testés",
]


def publish_demo_reports(lead: User, clients: list[Client], seed: int = 2026) -> int:
    """Publish the report of every closed month of the demo contracts that
    has none yet; returns how many were asked for (rendered after commit)."""
    rnd = random.Random(seed)
    count = 0
    contracts = db.session.scalars(
        select(Contract).where(Contract.client_id.in_([c.id for c in clients])).order_by(Contract.id)
    )
    for contract in contracts:
        months = db.session.scalars(
            select(MonthLock.month).where(MonthLock.contract_id == contract.id).order_by(MonthLock.month)
        )
        followers = {channel: rnd.randint(300, 4000) for channel in contract.channels}
        for month in months:
            report = ensure_report(contract, month)
            for channel in contract.channels:
                followers[channel] += rnd.randint(5, 120)
            if report.status == ReportStatus.PUBLISHED or report.versions:
                continue
            report.highlights = rnd.choice(HIGHLIGHTS)
            report.figures = [
                ChannelFigure(
                    client_id=contract.client_id,
                    channel=channel,
                    followers=followers[channel],
                    posts=rnd.randint(8, 20),
                    engagement=Decimal(rnd.randint(150, 650)) / 100,
                )
                for channel in contract.channels
            ]
            request_publish(lead, report)
            count += 1
    db.session.flush()
    return count
