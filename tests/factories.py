"""One factory style: plain functions that add rows and flush."""

from __future__ import annotations

import itertools
from datetime import date

from app.auth.models import Role, User
from app.auth.services import hash_password
from app.clients.models import Client, ClientMember, CMAssignment, CompetitorGroup
from app.extensions import db

PASSWORD = "motdepasse-de-test"
_hash: str | None = None
_seq = itertools.count(1)


def _password_hash() -> str:
    global _hash
    if _hash is None:
        _hash = hash_password(PASSWORD)
    return _hash


def make_user(
    role: str = Role.CM,
    *,
    email: str | None = None,
    name: str | None = None,
    active: bool = True,
    pending: bool = False,
) -> User:
    n = next(_seq)
    user = User(
        email=email or f"{role}{n}@example.test",
        name=name or f"{role.capitalize()} {n}",
        role=role,
        active=active,
        password_hash=None if pending else _password_hash(),
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_lead(**kw) -> User:
    return make_user(Role.LEAD, **kw)


def make_cm(**kw) -> User:
    return make_user(Role.CM, **kw)


def make_group(name: str | None = None) -> CompetitorGroup:
    group = CompetitorGroup(name=name or f"Groupe {next(_seq)}")
    db.session.add(group)
    db.session.flush()
    return group


def make_client(name: str | None = None, *, group: CompetitorGroup | None = None, **kw) -> Client:
    client = Client(name=name or f"Client {next(_seq)}", competitor_group=group, **kw)
    db.session.add(client)
    db.session.flush()
    return client


def make_client_user(client: Client, **kw) -> User:
    user = make_user(Role.CLIENT, **kw)
    db.session.add(ClientMember(client=client, user=user))
    db.session.flush()
    return user


def assign(cm: User, client: Client, *, since: date | None = None, until: date | None = None) -> CMAssignment:
    assignment = CMAssignment(cm=cm, client=client, since=since or date(2020, 1, 1), until=until)
    db.session.add(assignment)
    db.session.flush()
    return assignment


# -- contracts and time (issue 3) ---------------------------------------------


def make_contract(
    client: Client,
    *,
    title: str = "Community management",
    start: date = date(2026, 1, 1),
    end: date | None = None,
    model: str = "retainer",
    fee: str | None = "708.00",
    included_hours: int | None = 30,
    rate: str | None = None,
    ceiling: str = "708.00",
    vat: str = "20.00",
    channels: tuple[str, ...] = ("facebook", "instagram"),
):
    from decimal import Decimal

    from app.contracts.models import Contract, ContractTerms

    contract = Contract(client=client, title=title, start_date=start, end_date=end, channels=list(channels))
    contract.terms.append(
        ContractTerms(
            effective_from=start,
            billing_model=model,
            monthly_fee=Decimal(fee) if fee is not None and model != "hourly" else None,
            included_minutes=included_hours * 60
            if included_hours is not None and model != "hourly"
            else None,
            hourly_rate=Decimal(rate) if rate is not None else None,
            budget_ceiling=Decimal(ceiling),
            vat_rate=Decimal(vat),
        )
    )
    db.session.add(contract)
    db.session.flush()
    return contract


def activity(label: str = "Animation"):
    from sqlalchemy import select

    from app.timesheets.models import Activity
    from app.timesheets.services import ensure_default_activities

    ensure_default_activities()
    return db.session.scalar(select(Activity).where(Activity.label == label))


def make_entry(contract, cm: User, day: date, minutes: int, *, label: str = "Animation", channel=None):
    """An entry written straight to the database (no service rules)."""
    from app.timesheets.models import TimeEntry

    entry = TimeEntry(
        client_id=contract.client_id,
        contract=contract,
        cm=cm,
        day=day,
        minutes=minutes,
        activity=activity(label),
        channel=channel,
        cost_rate=cm.cost_rate,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


# -- agency settings (issue 2, agency area) -------------------------------------

AGENCY_DEFAULTS = {
    "legal_name": "Agence Relais",
    "legal_form": "SAS",
    "address_line": "8 avenue du Parmelan",
    "postal_code": "74000",
    "city": "Annecy",
    "email": "contact@agence-relais.fr",
    "phone": "04 50 12 34 56",
    "siren": "443061841",
    "siret": "44306184100013",
    "vat_number": "FR64443061841",
    "iban": "FR7630006000011234567890189",
    "bic": "BNPAFRPP",
}


def make_agency_settings(**overrides):
    """The agency's settings row, filled with valid data (straight to the database)."""
    from app.agency.services import get_settings

    settings = get_settings()
    for name, value in {**AGENCY_DEFAULTS, **overrides}.items():
        setattr(settings, name, value)
    db.session.flush()
    return settings


# -- reports (issue 4, report pages) ------------------------------------------------


def make_report(contract, month: date, *, highlights: str = ""):
    """A draft report of `contract` for `month` (straight to the database)."""
    from app.reports.models import Report

    report = Report(client_id=contract.client_id, contract_id=contract.id, month=month, highlights=highlights)
    db.session.add(report)
    db.session.flush()
    return report


def make_version(report, *, content: bytes | None = None, by: User | None = None, published_at=None):
    """A published version of `report` with stored bytes (no rendering): the
    report becomes published."""
    from app.documents.services import store_document
    from app.reports.models import ReportStatus, ReportVersion
    from app.timeutil import utcnow

    number = len(report.versions) + 1
    content = content or f"%PDF-1.7 report {report.id} v{number}".encode()
    document = store_document(content, "application/pdf")
    version = ReportVersion(
        client_id=report.client_id,
        report=report,
        number=number,
        document_sha256=document.sha256,
        published_by_id=by.id if by else None,
    )
    db.session.add(version)
    report.status = ReportStatus.PUBLISHED
    report.published_at = published_at or utcnow()
    db.session.flush()
    return version


# -- invoices (issue 5) -----------------------------------------------------------


def make_invoice(
    client,
    *,
    lines: list[tuple[str, str, str, str]] = (("Community management", "1", "708.00", "20.00"),),
    title: str = "Community management",
    lead: User | None = None,
    contract=None,
):
    """A manual draft of `client` through the services: lines are
    (description, quantity, unit price HT, VAT rate)."""
    from decimal import Decimal

    from app.invoices.services import LineInput, create_manual_draft

    inputs = [LineInput(d, Decimal(q), Decimal(p), Decimal(v)) for d, q, p, v in lines]
    return create_manual_draft(lead or make_lead(), client, title=title, lines=inputs, contract=contract)


def make_issued_invoice(client, *, pdf: bytes | None = b"%PDF-1.7 facture", lead: User | None = None, **kw):
    """An issued invoice (numbered, frozen) whose PDF is `pdf` stored as is
    (no rendering; None leaves it waiting for its job). The client needs a
    billing address and SIREN; the agency's settings are filled if empty."""
    from app.agency.services import get_settings
    from app.documents.services import store_document
    from app.invoices.models import RenderState
    from app.invoices.services import issue_invoice

    if not get_settings().is_complete:
        make_agency_settings()
    for name, value in (("address_line", "1 rue de la Paix"), ("postal_code", "74000"), ("city", "Annecy")):
        if not getattr(client, name):
            setattr(client, name, value)
    client.siren = client.siren or "552100554"
    lead = lead or make_lead()
    invoice = issue_invoice(lead, make_invoice(client, lead=lead, **kw))
    db.session.info.pop("relais_pending_jobs", None)  # no rendering job
    if pdf is not None:
        invoice.pdf_sha256 = store_document(pdf, "application/pdf").sha256
        invoice.render_state = RenderState.DONE
    db.session.flush()
    return invoice
