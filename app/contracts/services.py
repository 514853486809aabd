"""Contracts and their versioned terms. Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from app.access import client_scope
from app.audit.services import record
from app.auth.models import User
from app.clients.models import Client
from app.contracts.models import BillingModel, Channel, Contract, ContractTerms
from app.extensions import db
from app.timesheets.calendar import month_start


class ContractError(ValueError):
    """A refused change, with a message for the user."""


def get_contract_or_404(client: Client, contract_id: int) -> Contract:
    """A contract, fetched through its client."""
    from flask import abort

    contract = db.session.scalar(
        select(Contract).where(Contract.id == contract_id, Contract.client_id == client.id)
    )
    if contract is None:
        abort(404)
    return contract


def visible_contracts_on(day: date, user: User | None = None) -> list[Contract]:
    """Contracts of the clients `user` may see, active on `day`."""
    stmt = (
        select(Contract)
        .join(Client)
        .where(
            client_scope(Contract.client_id, user),
            Client.archived_at.is_(None),
            Contract.start_date <= day,
            (Contract.end_date.is_(None)) | (Contract.end_date >= day),
        )
        .order_by(Client.name, Contract.title)
        .options(contains_eager(Contract.client))  # their labels name the client
    )
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class TermsInput:
    """The money side of a contract, as a lead gives it."""

    billing_model: str
    monthly_fee: Decimal | None
    included_minutes: int | None
    hourly_rate: Decimal | None
    budget_ceiling: Decimal
    vat_rate: Decimal


def _new_terms(effective_from: date, terms: TermsInput) -> ContractTerms:
    """Terms from `effective_from`, keeping only the fields its model uses."""
    model = terms.billing_model
    if model not in set(BillingModel):
        raise ContractError(_("Modèle de facturation inconnu."))
    retainer = model in (BillingModel.RETAINER, BillingModel.RETAINER_OVERAGE)
    if retainer and (terms.monthly_fee is None or terms.included_minutes is None):
        raise ContractError(_("Un forfait demande un montant mensuel et des heures incluses."))
    if model != BillingModel.RETAINER and terms.hourly_rate is None:
        raise ContractError(_("Indiquez le taux horaire."))
    return ContractTerms(
        effective_from=effective_from,
        billing_model=model,
        monthly_fee=terms.monthly_fee if retainer else None,
        included_minutes=terms.included_minutes if retainer else None,
        hourly_rate=terms.hourly_rate if model != BillingModel.RETAINER else None,
        budget_ceiling=terms.budget_ceiling,
        vat_rate=terms.vat_rate,
    )


def create_contract(
    actor: User,
    client: Client,
    *,
    title: str,
    start_date: date,
    end_date: date | None,
    channels: list[str],
    terms: TermsInput,
) -> Contract:
    if end_date is not None and end_date < start_date:
        raise ContractError(_("La date de fin précède la date de début."))
    contract = Contract(
        client=client,
        title=title.strip(),
        start_date=start_date,
        end_date=end_date,
        channels=[c for c in channels if c in set(Channel)],
    )
    contract.terms.append(_new_terms(start_date, terms))
    db.session.add(contract)
    db.session.flush()
    record(
        actor,
        "contract.created",
        contract,
        client_id=client.id,
        summary=_("Contrat « %(title)s » créé", title=contract.title),
    )
    return contract


def update_contract(
    actor: User,
    contract: Contract,
    *,
    title: str,
    end_date: date | None,
    channels: list[str],
) -> None:
    """Title, end date and channels; money terms change through add_terms."""
    if end_date is not None and end_date < contract.start_date:
        raise ContractError(_("La date de fin précède la date de début."))
    contract.title = title.strip()
    contract.end_date = end_date
    contract.channels = [c for c in channels if c in set(Channel)]
    record(
        actor,
        "contract.updated",
        contract,
        client_id=contract.client_id,
        summary=_("Contrat « %(title)s » modifié", title=contract.title),
    )


def add_terms(
    actor: User,
    contract: Contract,
    *,
    effective_month: date,
    terms: TermsInput,
    locked_months: set[date] | None = None,
) -> ContractTerms:
    """New terms from the first day of `effective_month` on. Months already
    closed keep the terms they were closed with."""
    effective = month_start(effective_month)
    if effective <= contract.start_date:
        raise ContractError(_("Les nouvelles conditions doivent commencer après le début du contrat."))
    if locked_months and any(month >= effective for month in locked_months):
        raise ContractError(
            _("Un mois clôturé ne peut pas changer de conditions : choisissez un mois ouvert.")
        )
    if any(t.effective_from == effective for t in contract.terms):
        raise ContractError(_("Des conditions commencent déjà ce mois-là."))
    new = _new_terms(effective, terms)
    new.contract = contract
    db.session.add(new)
    db.session.flush()
    record(
        actor,
        "contract.terms_added",
        contract,
        client_id=contract.client_id,
        summary=_("Nouvelles conditions à partir du %(day)s", day=effective.strftime("%d/%m/%Y")),
    )
    return new


def terms_on(contract: Contract, day: date) -> ContractTerms | None:
    """The terms in force on `day` (from the loaded, ordered versions)."""
    current = None
    for terms in contract.terms:
        if terms.effective_from <= day:
            current = terms
    return current


def terms_for_month(contract: Contract, month: date) -> ContractTerms | None:
    """A month is billed on the terms in force on its first active day."""
    first = max(month_start(month), contract.start_date)
    return terms_on(contract, first)


def client_contracts(client: Client) -> list[Contract]:
    """The contracts of `client` (already resolved through access), newest first."""
    from sqlalchemy.orm import selectinload

    stmt = (
        select(Contract)
        .where(Contract.client_id == client.id)
        .options(selectinload(Contract.terms))
        .order_by(Contract.start_date.desc(), Contract.id.desc())
    )
    return list(db.session.scalars(stmt))
