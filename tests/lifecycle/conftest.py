"""A former client with a bit of everything (contacts, time with notes in a
closed month, a report published twice with a message and a share link, an
invoice, a credit note, a payment), archived years ago; and another client
with distinctive names, that nothing of the first may touch."""

from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from PIL import Image

from app.auth.models import User
from app.clients.models import Client, ClientMember
from app.contracts.models import ContractTerms
from app.documents.services import store_document
from app.extensions import db as _db
from app.invoices import services as invoice_services
from app.invoices.models import Invoice, RenderState
from app.invoices.receipts import record_payment
from app.invoices.services import LineInput, create_credit_note, issue_invoice
from app.reports.models import ReportMessage, ReportStatus, ReportVersion
from app.reports.services import create_share_link
from app.timesheets.models import MonthLock
from tests.factories import (
    assign,
    make_client,
    make_client_user,
    make_cm,
    make_contract,
    make_entry,
    make_issued_invoice,
    make_lead,
    make_report,
)


@dataclass
class Former:
    lead: User
    client: Client
    other: Client
    contacts: list[User]
    other_contact: User
    invoice: Invoice
    credit_note: Invoice
    other_invoice: Invoice
    versions: list[Any]
    report: Any
    # Strings that identify a person or say what was written: gone after erasure.
    personal: list[str] = field(default_factory=list)
    # Strings of the other client: never in the first one's export.
    foreign: list[str] = field(default_factory=list)
    foreign_files: list[bytes] = field(default_factory=list)


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, format="PNG")
    return out.getvalue()


@contextmanager
def on_day(monkeypatch, day: date):
    """The invoice services' clock set to `day`."""
    real = invoice_services.agency_today
    monkeypatch.setattr(invoice_services, "agency_today", lambda: day)
    try:
        yield
    finally:
        monkeypatch.setattr(invoice_services, "agency_today", real)


def issue_on(monkeypatch, day: date, invoice: Invoice, lead: User, pdf: bytes) -> Invoice:
    """Issue `invoice` as if on `day`, its PDF stored as `pdf` (no rendering)."""
    with on_day(monkeypatch, day):
        issue_invoice(lead, invoice)
    _db.session.info.pop("relais_pending_jobs", None)
    invoice.pdf_sha256 = store_document(pdf, "application/pdf").sha256
    invoice.render_state = RenderState.DONE
    _db.session.flush()
    return invoice


def invoice_on(monkeypatch, day: date, client: Client, lead: User, pdf: bytes, **kw) -> Invoice:
    with on_day(monkeypatch, day):
        return make_issued_invoice(client, lead=lead, pdf=pdf, **kw)


def published(report, content: bytes, lead: User, at: datetime) -> ReportVersion:
    """A published version of `report` dated `at` (make_version dates it now)."""
    version = ReportVersion(
        client_id=report.client_id,
        report=report,
        number=len(report.versions) + 1,
        document_sha256=store_document(content, "application/pdf").sha256,
        published_by_id=lead.id,
        published_at=at,
    )
    _db.session.add(version)
    report.status = ReportStatus.PUBLISHED
    report.published_at = at
    _db.session.flush()
    return version


def add_lock(contract, month: date) -> None:
    _db.session.add(MonthLock(client_id=contract.client_id, contract_id=contract.id, month=month))
    _db.session.flush()


@pytest.fixture
def former(app, db, monkeypatch) -> Former:
    lead = make_lead(name="Marc Lead")
    cm = make_cm(name="Léa Dubois")
    client = make_client(
        "Fromagerie Martin",
        siren="552100554",
        vat_number="FR96552100554",
        address_line="3 rue du Lac",
        postal_code="74000",
        city="Annecy",
        billing_email="compta@fromagerie-martin.example",
        internal_notes="Note interne Martin-13 : le gérant préfère le téléphone",
    )
    client.logo_sha256 = store_document(png((10, 120, 30)), "image/png").sha256
    contacts = [
        make_client_user(client, name="Sophie Martin", email="sophie@fromagerie-martin.example"),
        make_client_user(client, name="Jules Martin", email="jules@fromagerie-martin.example"),
    ]
    _db.session.scalar(
        _db.select(ClientMember).where(ClientMember.user_id == contacts[0].id)
    ).job_title = "Gérante Martin-31"
    assign(cm, client, since=date(2020, 1, 1), until=date(2021, 6, 30))
    contract = make_contract(client, title="Contrat Martin", start=date(2020, 1, 1), end=date(2021, 6, 30))
    contract.terms.append(
        ContractTerms(
            effective_from=date(2021, 1, 1),
            billing_model="retainer",
            monthly_fee=Decimal("800.00"),
            included_minutes=30 * 60,
            budget_ceiling=Decimal("800.00"),
            vat_rate=Decimal("20.00"),
        )
    )
    first = make_entry(contract, cm, date(2021, 5, 3), 90, channel="instagram")
    first.note = "Fête du fromage Martin-21"
    second = make_entry(contract, cm, date(2021, 6, 7), 45)
    second.note = "=Appel avec Sophie Martin-22"
    add_lock(contract, date(2021, 5, 1))

    report = make_report(contract, date(2021, 5, 1), highlights="Faits marquants Martin-55")
    versions = [
        published(report, b"%PDF-1.7 rapport Martin mai v1", lead, datetime(2021, 6, 2, tzinfo=UTC)),
        published(report, b"%PDF-1.7 rapport Martin mai v2", lead, datetime(2021, 6, 5, tzinfo=UTC)),
    ]
    report.draft_sha256 = store_document(b"%PDF-1.7 brouillon Martin", "application/pdf").sha256
    _db.session.add(
        ReportMessage(
            client_id=client.id,
            report_id=report.id,
            author_id=contacts[0].id,
            kind="question",
            body="Question de Sophie Martin-88 sur TikTok",
            created_at=datetime(2021, 6, 6, tzinfo=UTC),
        )
    )
    create_share_link(lead, report, 30, "Direction Martin-99")

    invoice = invoice_on(
        monkeypatch,
        date(2021, 6, 30),
        client,
        lead,
        b"%PDF-1.7 facture Martin juin",
        contract=contract,
        lines=(("Forfait Martin juin", "1", "800.00", "20.00"),),
    )
    credit_note = create_credit_note(
        lead,
        invoice,
        reason="Geste commercial",
        lines=[LineInput("Remise", Decimal(1), Decimal(50), Decimal(20))],
    )
    issue_on(monkeypatch, date(2021, 7, 2), credit_note, lead, b"%PDF-1.7 avoir Martin")
    record_payment(
        lead, invoice, amount=Decimal("900.00"), received_on=date(2021, 7, 15), reference="VIR MARTIN"
    )

    other = make_client(
        "Boulangerie Vautrin",
        siren="732829320",
        address_line="9 rue du Pâquier",
        postal_code="73000",
        city="Chambéry",
        billing_email="factures@vautrin.example",
        internal_notes="Note Vautrin-77",
    )
    other_contact = make_client_user(other, name="Ines Vautrin", email="ines@vautrin.example")
    assign(cm, other)
    other_contract = make_contract(other, title="Contrat Vautrin Premium", start=date(2021, 1, 1))
    make_entry(other_contract, cm, date(2021, 6, 8), 60).note = "Galette Vautrin-42"
    other_report = make_report(other_contract, date(2021, 5, 1), highlights="Faits Vautrin-66")
    published(other_report, b"%PDF-1.7 rapport Vautrin", lead, datetime(2021, 6, 3, tzinfo=UTC))
    other_invoice = invoice_on(
        monkeypatch,
        date(2021, 7, 20),
        other,
        lead,
        b"%PDF-1.7 facture Vautrin",
        lines=(("Forfait Vautrin-Premium", "1", "500.00", "20.00"),),
    )
    record_payment(
        lead, other_invoice, amount=Decimal("100.00"), received_on=date(2021, 7, 25), reference="VIR VAUTRIN"
    )

    client.archived_at = datetime(2021, 9, 1, tzinfo=UTC)
    _db.session.flush()
    return Former(
        lead=lead,
        client=client,
        other=other,
        contacts=contacts,
        other_contact=other_contact,
        invoice=invoice,
        credit_note=credit_note,
        other_invoice=other_invoice,
        versions=versions,
        report=report,
        personal=[
            "Sophie Martin",
            "Jules Martin",
            "sophie@fromagerie-martin.example",
            "jules@fromagerie-martin.example",
            "compta@fromagerie-martin.example",
            "Gérante Martin-31",
            "Note interne Martin-13",
            "Fête du fromage Martin-21",
            "Appel avec Sophie Martin-22",
            "Faits marquants Martin-55",
            "Question de Sophie Martin-88",
            "Direction Martin-99",
        ],
        foreign=[
            "Vautrin",
            "ines@vautrin.example",
            "factures@vautrin.example",
            "732829320",
            "Galette Vautrin-42",
            "Faits Vautrin-66",
            "Note Vautrin-77",
            "VIR VAUTRIN",
        ],
        foreign_files=[b"%PDF-1.7 rapport Vautrin", b"%PDF-1.7 facture Vautrin"],
    )
