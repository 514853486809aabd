"""Invoices: drafts from a contract's month, manual drafts, issuing (number,
freeze, month lock, PDF job), credit notes and payments. Services flush,
never commit: the caller's transaction holds the number and the lock."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from flask import abort
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.access import can_view
from app.agency.services import get_settings, legal_form_label
from app.audit.services import record
from app.auth.models import Role, User
from app.clients.models import Client
from app.contracts.budget import MonthBudget, month_budget
from app.contracts.models import BillingModel, Contract
from app.extensions import db
from app.invoices import guards  # noqa: F401  (registers the flush guard)
from app.invoices.models import (
    CeilingDecision,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    RenderState,
)
from app.invoices.numbering import NumberingError, take_number
from app.jobs import enqueue
from app.money import CENT, ZERO, hours, line_total, vat_on
from app.timesheets.calendar import month_end, month_start
from app.timesheets.services import lock_month
from app.timeutil import today as agency_today
from app.timeutil import utcnow

# A monthly (periodic) invoice is due at most 45 days after it is issued; any
# other at most 60 (art. L441-10 of the Code de commerce).
MAX_DAYS_PERIODIC = 45
MAX_DAYS = 60
MAX_LINES = 50
MAX_AMOUNT = Decimal("9999999.99")


class InvoiceError(ValueError):
    """A refused change, with a message for the user."""


# -- finding invoices (always through their client) ---------------------------------


def can_see_invoice(user: User, invoice: Invoice) -> bool:
    """The lead sees every invoice; a client user the issued ones of its own
    company whose PDF exists; a CM none."""
    if user.role == Role.LEAD:
        return True
    if user.role != Role.CLIENT or not can_view(user, invoice.client):
        return False
    return invoice.available


def get_invoice_or_404(client: Client, invoice_id: int, user: User) -> Invoice:
    invoice = db.session.scalar(
        select(Invoice).where(Invoice.id == invoice_id, Invoice.client_id == client.id)
    )
    if invoice is None or not can_see_invoice(user, invoice):
        abort(404)
    return invoice


def client_invoices(client: Client, user: User) -> list[Invoice]:
    """The invoices and credit notes of `client` that `user` may see, newest first."""
    stmt = select(Invoice).where(Invoice.client_id == client.id)
    if user.role != Role.LEAD:
        if user.role != Role.CLIENT:
            return []
        stmt = stmt.where(Invoice.status != InvoiceStatus.DRAFT, Invoice.pdf_sha256.is_not(None))
    order = (Invoice.issue_date.desc().nulls_first(), Invoice.id.desc())
    return list(db.session.scalars(stmt.order_by(*order)))


def live_invoice_for(contract_id: int, month: date) -> Invoice | None:
    """The invoice (draft or issued, not cancelled) of a contract's month."""
    return db.session.scalar(
        select(Invoice).where(
            Invoice.contract_id == contract_id,
            Invoice.month == month_start(month),
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status != InvoiceStatus.CANCELLED,
        )
    )


def month_is_invoiced(contract_id: int, month: date) -> bool:
    """An issued invoice bills this month (its time entries stay locked)."""
    invoice = live_invoice_for(contract_id, month)
    return invoice is not None and not invoice.is_draft


# -- amounts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    unit: str = "unit"  # "unit" or "hour"
    kind: str = LineKind.MANUAL


@dataclass(frozen=True)
class VatGroup:
    rate: Decimal
    base: Decimal
    vat: Decimal


def vat_groups(lines: list[InvoiceLine], franchise: bool) -> list[VatGroup]:
    """Totals HT per VAT rate, and the VAT on each (rounded half-up per rate,
    as EN 16931 requires: VAT = base x rate). Under the franchise regime
    there is no VAT at all."""
    bases: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        rate = ZERO if franchise else Decimal(line.vat_rate)
        bases[rate] += Decimal(line.total_ht)
    return [
        VatGroup(rate=rate, base=base, vat=ZERO if franchise else vat_on(base, rate))
        for rate, base in sorted(bases.items(), reverse=True)
    ]


def _refresh_totals(invoice: Invoice, franchise: bool | None = None) -> None:
    franchise = get_settings().is_franchise if franchise is None else franchise
    groups = vat_groups(invoice.lines, franchise)
    invoice.total_ht = sum((g.base for g in groups), ZERO)
    invoice.total_vat = sum((g.vat for g in groups), ZERO)
    invoice.total_ttc = invoice.total_ht + invoice.total_vat


def _check_line(line: LineInput) -> None:
    if not line.description.strip():
        raise InvoiceError(_("Chaque ligne demande une désignation."))
    if len(line.description) > 300:
        raise InvoiceError(_("Une désignation tient en 300 caractères."))
    if line.quantity < 0 or line.unit_price < 0:
        raise InvoiceError(_("Quantités et prix sont positifs : une correction passe par un avoir."))
    if line.quantity > Decimal("99999") or line.unit_price > MAX_AMOUNT:
        raise InvoiceError(_("Montant trop élevé."))
    if line.quantity != line.quantity.quantize(CENT) or line.unit_price != line.unit_price.quantize(CENT):
        raise InvoiceError(_("Quantités et prix ont au plus deux décimales."))
    if not (ZERO <= line.vat_rate <= Decimal(100)):
        raise InvoiceError(_("Taux de TVA invalide."))


def _set_lines(invoice: Invoice, inputs: list[LineInput]) -> None:
    if not inputs:
        raise InvoiceError(_("Une facture a au moins une ligne."))
    if len(inputs) > MAX_LINES:
        raise InvoiceError(_("Une facture a au plus %(n)d lignes.", n=MAX_LINES))
    for line in inputs:
        _check_line(line)
    franchise = get_settings().is_franchise
    invoice.lines.clear()
    db.session.flush()  # the old lines go before the new ones come
    for position, line in enumerate(inputs):
        invoice.lines.append(
            InvoiceLine(
                client_id=invoice.client_id,
                position=position,
                kind=line.kind,
                description=line.description.strip(),
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                vat_rate=ZERO if franchise else line.vat_rate,
                total_ht=line_total(line.quantity, line.unit_price),
            )
        )
    _refresh_totals(invoice, franchise)
    if invoice.total_ttc > MAX_AMOUNT:
        raise InvoiceError(_("Montant trop élevé."))


def line_inputs(invoice: Invoice) -> list[LineInput]:
    return [
        LineInput(line.description, line.quantity, line.unit_price, line.vat_rate, line.unit, line.kind)
        for line in invoice.lines
    ]


# -- drafts from a contract's month --------------------------------------------------------


@dataclass(frozen=True)
class MonthBilling:
    lines: list[LineInput]
    ceiling: Decimal  # the month's ceiling HT (prorated)
    period_start: date
    period_end: date


def month_billing(contract: Contract, month: date, budget: MonthBudget | None = None) -> MonthBilling:
    """The lines a contract's month bills, from its billing model and its
    time (the budget's own figures, so they agree to the cent). `budget`:
    the month's budget when the caller has it already."""
    from app.formatting import duration, long_day
    from app.formatting import month as month_label

    budget = budget or month_budget(contract, month_start(month))
    terms = budget.terms
    if terms is None or budget.active_first is None or budget.active_last is None:
        raise InvoiceError(_("Ce contrat ne court pas ce mois-là."))
    vat = Decimal(terms.vat_rate)
    with force_locale("fr"):  # an invoice speaks French, whoever drafts it
        label = month_label(budget.month)
        prorata = ""
        if budget.active_days < budget.days_in_month:
            prorata = " " + _(
                "(prorata du %(first)s au %(last)s)",
                first=long_day(budget.active_first, year=False),
                last=long_day(budget.active_last),
            )
        lines: list[LineInput] = []
        if terms.billing_model in (BillingModel.RETAINER, BillingModel.RETAINER_OVERAGE):
            lines.append(
                LineInput(
                    _("Community management — forfait mensuel %(month)s", month=label) + prorata,
                    Decimal(1),
                    budget.fee,
                    vat,
                    "unit",
                    LineKind.FEE,
                )
            )
            if terms.billing_model == BillingModel.RETAINER_OVERAGE and budget.overage_minutes:
                lines.append(
                    LineInput(
                        _(
                            "Heures au-delà du forfait (%(extra)s au-delà des %(included)s incluses)",
                            extra=duration(budget.overage_minutes),
                            included=duration(budget.included_minutes),
                        ),
                        hours(budget.overage_minutes),
                        Decimal(terms.hourly_rate or ZERO),
                        vat,
                        "hour",
                        LineKind.OVERAGE,
                    )
                )
        else:
            lines.append(
                LineInput(
                    _(
                        "Community management — %(month)s (%(time)s)",
                        month=label,
                        time=duration(budget.used_minutes),
                    )
                    + prorata,
                    hours(budget.used_minutes),
                    Decimal(terms.hourly_rate or ZERO),
                    vat,
                    "hour",
                    LineKind.HOURS,
                )
            )
    return MonthBilling(lines, budget.ceiling, budget.active_first, budget.active_last)


def _judge_ceiling(invoice: Invoice) -> None:
    """Past the ceiling: the lead decides before issuing (nothing billed
    past it silently)."""
    if invoice.ceiling_amount is None:
        return
    excess = invoice.total_ht - invoice.ceiling_amount
    if excess > 0:
        invoice.excess_amount = excess
        if invoice.ceiling_decision != CeilingDecision.CONFIRMED:
            invoice.ceiling_decision = CeilingDecision.PENDING
    elif invoice.ceiling_decision != CeilingDecision.CAPPED:
        invoice.excess_amount = ZERO
        invoice.ceiling_decision = CeilingDecision.NONE


def draft_for_month(
    actor: User | None, contract: Contract, month: date, *, budget: MonthBudget | None = None
) -> Invoice:
    """The invoice of `contract` for `month`: the one there is (draft or
    issued), else a new draft. Safe when two processes ask at once."""
    month = month_start(month)
    existing = live_invoice_for(contract.id, month)
    if existing is not None:
        return existing
    billing = month_billing(contract, month, budget)
    with force_locale("fr"):
        from app.formatting import month as month_label

        title = _("Community management — %(month)s", month=month_label(month))
    try:
        with db.session.begin_nested():
            invoice = Invoice(
                client_id=contract.client_id,
                contract_id=contract.id,
                month=month,
                title=title,
                period_start=billing.period_start,
                period_end=billing.period_end,
                ceiling_amount=billing.ceiling,
                created_by_id=actor.id if actor else None,
            )
            db.session.add(invoice)
            _set_lines(invoice, billing.lines)
            _judge_ceiling(invoice)
            db.session.flush()
    except IntegrityError:
        found = live_invoice_for(contract.id, month)
        if found is None:
            raise
        return found
    record(
        actor,
        "invoice.drafted",
        invoice,
        client_id=invoice.client_id,
        summary=_("Brouillon de facture préparé : %(title)s", title=title),
    )
    return invoice


def draft_month_invoices(actor: User | None, month: date) -> list[Invoice]:
    """Month close: a draft for every contract running in `month` that has
    no invoice yet (run twice, it makes nothing twice). The month's budgets
    come from one set of aggregate queries for all the contracts."""
    from app.contracts.budget import active_contracts_query, month_budgets

    month = month_start(month)
    existing = {
        invoice.contract_id: invoice
        for invoice in db.session.scalars(
            select(Invoice).where(
                Invoice.month == month,
                Invoice.kind == InvoiceKind.INVOICE,
                Invoice.status != InvoiceStatus.CANCELLED,
            )
        )
    }
    contracts = list(db.session.scalars(active_contracts_query(month)))
    missing = [c for c in contracts if c.id not in existing]
    budgets = {b.contract.id: b for b in month_budgets(missing, month)}
    drafts = []
    for contract in contracts:
        if contract.id in existing:
            drafts.append(existing[contract.id])
            continue
        if budgets[contract.id].terms is None:
            continue  # no terms that month: nothing to bill
        drafts.append(draft_for_month(actor, contract, month, budget=budgets[contract.id]))
    return drafts


def _require_draft(invoice: Invoice) -> None:
    if not invoice.is_draft:
        raise InvoiceError(_("Une facture émise ne change plus : corrigez-la par un avoir."))


def refresh_draft(actor: User, invoice: Invoice) -> None:
    """Recompute a contract draft's lines from its month (edits are lost)."""
    _require_draft(invoice)
    if invoice.contract is None or invoice.month is None or invoice.is_credit_note:
        raise InvoiceError(_("Seule une facture de contrat se recalcule."))
    billing = month_billing(invoice.contract, invoice.month)
    invoice.ceiling_amount = billing.ceiling
    invoice.ceiling_decision = CeilingDecision.NONE
    _set_lines(invoice, billing.lines)
    _judge_ceiling(invoice)
    record(actor, "invoice.refreshed", invoice, client_id=invoice.client_id, summary=_("Brouillon recalculé"))
    db.session.flush()


def update_draft(
    actor: User,
    invoice: Invoice,
    *,
    title: str,
    lines: list[LineInput],
    period_start: date | None = None,
    period_end: date | None = None,
) -> None:
    _require_draft(invoice)
    title = title.strip()
    if not title:
        raise InvoiceError(_("Donnez un objet à la facture."))
    if period_start and period_end and period_end < period_start:
        raise InvoiceError(_("La fin de la période précède son début."))
    invoice.title = title[:200]
    if invoice.month is None:  # a contract invoice's period is its month
        invoice.period_start, invoice.period_end = period_start, period_end
    _set_lines(invoice, lines)
    if invoice.is_credit_note:
        _check_credit_fits(invoice)
    _judge_ceiling(invoice)
    record(actor, "invoice.updated", invoice, client_id=invoice.client_id, summary=_("Brouillon modifié"))
    db.session.flush()


def create_manual_draft(
    actor: User,
    client: Client,
    *,
    title: str,
    lines: list[LineInput],
    contract: Contract | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
) -> Invoice:
    """A lead's invoice for any client, outside the monthly billing."""
    if contract is not None and contract.client_id != client.id:
        raise InvoiceError(_("Ce contrat n'est pas celui de ce client."))
    title = title.strip()
    if not title:
        raise InvoiceError(_("Donnez un objet à la facture."))
    if period_start and period_end and period_end < period_start:
        raise InvoiceError(_("La fin de la période précède son début."))
    invoice = Invoice(
        client_id=client.id,
        contract_id=contract.id if contract else None,
        title=title[:200],
        period_start=period_start,
        period_end=period_end,
        created_by_id=actor.id,
    )
    db.session.add(invoice)
    _set_lines(invoice, lines)
    db.session.flush()
    record(
        actor,
        "invoice.drafted",
        invoice,
        client_id=client.id,
        summary=_("Brouillon de facture créé : %(title)s", title=invoice.title),
    )
    return invoice


def decide_ceiling(actor: User, invoice: Invoice, *, confirm: bool) -> None:
    """The lead's explicit choice for a draft past its budget ceiling: bill
    it all (`confirm`), or cap the hours billed at the ceiling."""
    _require_draft(invoice)
    if invoice.ceiling_decision not in (CeilingDecision.PENDING, CeilingDecision.CONFIRMED):
        raise InvoiceError(_("Cette facture ne dépasse pas le plafond du budget."))
    if confirm:
        invoice.ceiling_decision = CeilingDecision.CONFIRMED
        summary = _("Dépassement du plafond confirmé (%(amount)s HT)", amount=_money(invoice.excess_amount))
    else:
        _cap_at_ceiling(invoice)
        summary = _("Facture plafonnée au budget du mois")
    record(actor, "invoice.ceiling", invoice, client_id=invoice.client_id, summary=summary)
    db.session.flush()


def _cap_at_ceiling(invoice: Invoice) -> None:
    ceiling = invoice.ceiling_amount or ZERO
    inputs = line_inputs(invoice)
    variable = [i for i, line in enumerate(inputs) if line.kind in (LineKind.OVERAGE, LineKind.HOURS)]
    fixed = sum(
        (line_total(line.quantity, line.unit_price) for i, line in enumerate(inputs) if i not in variable),
        ZERO,
    )
    room = max(ceiling - fixed, ZERO)
    if not variable or fixed > ceiling:
        raise InvoiceError(
            _("Le forfait seul dépasse le plafond : modifiez les lignes ou confirmez le dépassement.")
        )
    before = invoice.total_ht
    capped = []
    for i, line in enumerate(inputs):
        if i in variable:
            quantity = ZERO
            if line.unit_price > 0:
                quantity = (room / line.unit_price).quantize(CENT, rounding=ROUND_DOWN)
            quantity = min(quantity, line.quantity)
            room -= line_total(quantity, line.unit_price)
            with force_locale("fr"):
                description = line.description + " " + _("(plafonné au budget du mois)")
            line = LineInput(
                description[:300], quantity, line.unit_price, line.vat_rate, line.unit, line.kind
            )
        capped.append(line)
    _set_lines(invoice, capped)
    invoice.excess_amount = before - invoice.total_ht
    invoice.ceiling_decision = CeilingDecision.CAPPED


def delete_draft(actor: User, invoice: Invoice) -> None:
    _require_draft(invoice)
    record(
        actor,
        "invoice.draft_deleted",
        invoice,
        client_id=invoice.client_id,
        summary=_("Brouillon supprimé : %(title)s", title=invoice.title),
    )
    db.session.delete(invoice)
    db.session.flush()


def _money(amount: Decimal) -> str:
    from app.formatting import money

    return money(amount)


# -- issuing -----------------------------------------------------------------------------


def seller_snapshot() -> dict:
    """The agency as an invoice names it, frozen with the invoice."""
    s = get_settings()
    return {
        "name": s.legal_name,
        "legal_form": s.legal_form,
        "legal_form_label": legal_form_label(s.legal_form),
        "share_capital": str(s.share_capital) if s.share_capital is not None else None,
        "rcs_city": s.rcs_city,
        "address_line": s.address_line,
        "postal_code": s.postal_code,
        "city": s.city,
        "country_code": s.country_code or "FR",
        "email": s.email,
        "phone": s.phone,
        "siren": s.siren,
        "siret": s.siret,
        "vat_number": s.vat_number,
        "iban": s.iban,
        "bic": s.bic,
        "vat_regime": s.vat_regime,
        "late_penalty_rate": str(s.late_penalty_rate),
        "logo_sha256": s.logo_sha256,
    }


def buyer_snapshot(client: Client) -> dict:
    return {
        "name": client.name,
        "address_line": client.address_line,
        "postal_code": client.postal_code,
        "city": client.city,
        "country_code": client.country_code or "FR",
        "siren": client.siren or "",
        "vat_number": client.vat_number or "",
        "email": client.billing_email or "",
    }


def issue_blockers(invoice: Invoice, today: date | None = None) -> list[str]:
    """Why `invoice` cannot be issued yet (empty: it can)."""
    today = today or agency_today()
    problems = []
    if not invoice.is_draft:
        return [_("Cette facture est déjà émise.")]
    if not get_settings().is_complete:
        problems.append(
            _("Complétez les informations légales de l'agence (raison sociale, adresse, SIREN, SIRET, TVA).")
        )
    client = invoice.client
    if not (client.name and client.address_line and client.postal_code and client.city):
        problems.append(_("Complétez l'adresse de facturation du client."))
    if (client.country_code or "FR") == "FR" and not client.siren:
        problems.append(_("Indiquez le SIREN du client."))
    if not invoice.lines or invoice.total_ttc <= 0:
        problems.append(_("Une facture sans montant ne s'émet pas."))
    if invoice.ceiling_decision == CeilingDecision.PENDING:
        problems.append(
            _("Le brouillon dépasse le plafond du budget : confirmez le dépassement ou plafonnez.")
        )
    if invoice.month is not None and not invoice.is_credit_note and month_end(invoice.month) >= today:
        problems.append(_("Le mois facturé n'est pas terminé."))
    return problems


def issue_invoice(actor: User, invoice: Invoice) -> Invoice:
    """Number and freeze `invoice` (or credit note), lock its month, and
    queue its PDF. The number is taken under the series lock, inside the
    caller's transaction: nothing is numbered unless it commits."""
    if actor.role != Role.LEAD:
        raise InvoiceError(_("Seul un responsable d'agence émet une facture."))
    # Read the row again under a lock: two leads issuing the same draft at once.
    db.session.refresh(invoice, with_for_update=True)
    problems = issue_blockers(invoice)
    if problems:
        raise InvoiceError(" ".join(problems))
    if invoice.is_credit_note:
        _check_credit_fits(invoice)
    today = agency_today()
    settings = get_settings()
    franchise = settings.is_franchise
    if franchise:  # under the franchise regime, no line carries VAT
        for line in invoice.lines:
            line.vat_rate = ZERO
    _refresh_totals(invoice, franchise)
    db.session.flush()  # the lines settle while the invoice is still a draft
    try:
        year, sequence, number = take_number(invoice.kind, today)
    except NumberingError as error:
        raise InvoiceError(str(error)) from error
    limit = MAX_DAYS_PERIODIC if invoice.month is not None else MAX_DAYS
    invoice.number, invoice.series_year, invoice.sequence = number, year, sequence
    invoice.issue_date = today
    invoice.due_date = today + timedelta(days=min(settings.payment_terms_days, limit))
    invoice.period_start = invoice.period_start or today
    invoice.period_end = invoice.period_end or invoice.period_start
    invoice.seller = seller_snapshot()
    invoice.buyer = buyer_snapshot(invoice.client)
    invoice.vat_franchise = franchise
    invoice.status = InvoiceStatus.ISSUED
    invoice.issued_at = utcnow()
    invoice.issued_by_id = actor.id
    invoice.render_state = RenderState.QUEUED
    invoice.render_error = None
    db.session.flush()
    if invoice.is_credit_note:
        _apply_credit(invoice)
    elif invoice.contract is not None and invoice.month is not None:
        lock_month(actor, invoice.contract, invoice.month)
    what = _("Avoir") if invoice.is_credit_note else _("Facture")
    record(
        actor,
        "invoice.issued",
        invoice,
        client_id=invoice.client_id,
        summary=_("%(what)s %(number)s émise", what=what, number=number),
        data={"number": number, "total_ttc": str(invoice.total_ttc)},
    )
    request_render(invoice)
    db.session.flush()
    return invoice


def request_render(invoice: Invoice) -> None:
    """Render the frozen invoice's PDF in a job (after the commit, so never
    under the numbering lock)."""
    invoice.render_state = RenderState.QUEUED
    invoice.render_error = None
    enqueue("app.invoices.jobs.render_invoice", invoice.id, queue="invoices", job_id=f"invoice-{invoice.id}")


# -- credit notes ------------------------------------------------------------------------


def _check_credit_fits(credit_note: Invoice) -> None:
    invoice = credit_note.credited_invoice
    left = invoice.total_ttc - invoice.amount_credited
    if credit_note.total_ttc > left:
        raise InvoiceError(
            _("L'avoir dépasse ce qui reste à créditer sur la facture (%(left)s TTC).", left=_money(left))
        )


def create_credit_note(
    actor: User, invoice: Invoice, *, reason: str, lines: list[LineInput] | None = None
) -> Invoice:
    """A draft credit note against an issued invoice: all of it (`lines`
    None: it cancels the invoice) or the lines given."""
    reason = (reason or "").strip()
    if invoice.is_draft or invoice.is_credit_note:
        raise InvoiceError(_("Un avoir corrige une facture émise."))
    if invoice.status == InvoiceStatus.CANCELLED:
        raise InvoiceError(_("Cette facture est déjà annulée par un avoir."))
    if len(reason) < 5:
        raise InvoiceError(_("Indiquez le motif de l'avoir."))
    with force_locale("fr"):
        title = _("Avoir sur la facture %(number)s", number=invoice.number)
    credit_note = Invoice(
        client_id=invoice.client_id,
        contract_id=invoice.contract_id,
        kind=InvoiceKind.CREDIT_NOTE,
        month=invoice.month,
        title=title,
        credited_invoice=invoice,
        credit_reason=reason[:2000],
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        created_by_id=actor.id,
    )
    db.session.add(credit_note)
    _set_lines(credit_note, lines if lines is not None else line_inputs(invoice))
    _check_credit_fits(credit_note)
    db.session.flush()
    record(
        actor,
        "invoice.credit_drafted",
        credit_note,
        client_id=invoice.client_id,
        summary=_("Avoir préparé sur la facture %(number)s", number=invoice.number),
        reason=reason,
    )
    return credit_note


def cancel_invoice(actor: User, invoice: Invoice, reason: str) -> Invoice:
    """Cancel an issued invoice: a credit note for all of it, issued now."""
    credit_note = create_credit_note(actor, invoice, reason=reason)
    return issue_invoice(actor, credit_note)


def _apply_credit(credit_note: Invoice) -> None:
    invoice = db.session.scalar(
        select(Invoice).where(Invoice.id == credit_note.credited_invoice_id).with_for_update()
    )
    invoice.amount_credited = invoice.amount_credited + credit_note.total_ttc
    if invoice.amount_credited >= invoice.total_ttc:
        invoice.status = InvoiceStatus.CANCELLED
    else:
        invoice.settle()


def credit_notes_of(invoice: Invoice) -> list[Invoice]:
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.credited_invoice_id == invoice.id, Invoice.status != InvoiceStatus.DRAFT)
            .order_by(Invoice.issue_date, Invoice.id)
        )
    )
