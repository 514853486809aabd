"""Everything of one client as one ZIP archive, for the client that leaves:

    rapports/<AAAA-MM> v<n>.pdf   every published version of its reports
    factures/<numéro>.pdf         its issued invoices and credit notes
    temps.csv, contrats.csv, paiements.csv, factures.csv   (French Excel CSV)
    manifest.json                 the client, the export date, and every file
                                  with its size and SHA-256

Built in memory (a client's archive weighs a few megabytes), from the
client's rows only: every query filters on its id.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload, undefer

from app.audit.services import record
from app.auth.models import User
from app.clients.models import Client
from app.contracts.models import Contract, ContractTerms
from app.documents.models import Document
from app.documents.views import safe_download_name
from app.extensions import db
from app.invoices.export import french_amount, french_date, invoices_csv, payments_csv
from app.invoices.models import Invoice, InvoiceStatus, Payment
from app.lifecycle.services import EXPORTED_ACTION, require_lead
from app.reports.models import Report, ReportVersion
from app.reports.queries import slug
from app.timesheets.export import csv_lines, entries_csv, french_hours, safe_cell
from app.timesheets.models import TimeEntry
from app.timeutil import PARIS, utcnow

MANIFEST = "manifest.json"
FORMAT = "relais-client-export/1"

BILLING_MODEL_LABELS = {
    "retainer": "Forfait",
    "retainer_overage": "Forfait + dépassement",
    "hourly": "Au temps passé",
}


@dataclass
class ArchiveFile:
    path: str
    sha256: str
    size: int
    media_type: str


@dataclass
class ClientArchive:
    content: bytes
    file_name: str
    files: list[ArchiveFile] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class _Writer:
    """A ZIP being written, that remembers each file's size and SHA-256."""

    def __init__(self, moment: datetime):
        self.buffer = io.BytesIO()
        self.zip = zipfile.ZipFile(self.buffer, "w", compression=zipfile.ZIP_DEFLATED)
        self.stamp = moment.astimezone(PARIS).timetuple()[:6]
        self.files: list[ArchiveFile] = []

    def add(self, path: str, content: bytes, media_type: str) -> None:
        info = zipfile.ZipInfo(path, date_time=self.stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.zip.writestr(info, content)
        self.files.append(ArchiveFile(path, hashlib.sha256(content).hexdigest(), len(content), media_type))

    def close(self) -> bytes:
        self.zip.close()
        return self.buffer.getvalue()


def export_client(actor: User, client: Client, now: datetime | None = None) -> ClientArchive:
    """The client's archive; the export is written to the audit log."""
    require_lead(actor)
    now = now or utcnow()
    writer = _Writer(now)
    counts = {
        "report_versions": _add_reports(writer, client),
        "invoices": _add_invoices(writer, client, now.astimezone(PARIS).date()),
        "time_entries": _add_csv(writer, "temps.csv", entries_csv(_entries(client)), _entries_count(client)),
        "contract_terms": _add_contracts(writer, client),
        "payments": _add_payments(writer, client),
    }
    manifest = {
        "format": FORMAT,
        "exported_at": now.astimezone(PARIS).isoformat(timespec="seconds"),
        "exported_by": actor.name,
        "client": _identity(client),
        "counts": counts,
        "files": [vars(f) for f in writer.files],
    }
    writer.add(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode(), "application/json")
    content = writer.close()
    day = now.astimezone(PARIS).date()
    archive = ClientArchive(
        content=content,
        file_name=f"export-{slug(client.name)}-{day:%Y-%m-%d}.zip",
        files=writer.files,
        counts=counts,
    )
    record(
        actor,
        EXPORTED_ACTION,
        client,
        client_id=client.id,
        summary=_("Données du client exportées (%(n)d fichiers)", n=len(writer.files)),
        data={"sha256": hashlib.sha256(content).hexdigest(), "size": len(content), **counts},
    )
    db.session.flush()
    return archive


def _identity(client: Client) -> dict[str, object]:
    def moment(value: datetime | None) -> str | None:
        return value.isoformat(timespec="seconds") if value else None

    return {
        "id": client.id,
        "name": client.name,
        "siren": client.siren,
        "vat_number": client.vat_number,
        "address_line": client.address_line,
        "postal_code": client.postal_code,
        "city": client.city,
        "country_code": client.country_code,
        "billing_email": client.billing_email,
        "created_at": moment(client.created_at),
        "archived_at": moment(client.archived_at),
    }


def _contents(shas: Iterable[str]) -> dict[str, Document]:
    shas = set(shas)
    if not shas:
        return {}
    documents = db.session.scalars(
        select(Document).options(undefer(Document.content)).where(Document.sha256.in_(shas))
    )
    return {d.sha256: d for d in documents}


def _unique(path: str, taken: set[str]) -> str:
    stem, dot, ext = path.rpartition(".")
    candidate, n = path, 2
    while candidate in taken:
        candidate = f"{stem} ({n}){dot}{ext}"
        n += 1
    taken.add(candidate)
    return candidate


# -- documents -------------------------------------------------------------------------


def _add_reports(writer: _Writer, client: Client) -> int:
    versions = db.session.scalars(
        select(ReportVersion)
        .join(Report, Report.id == ReportVersion.report_id)
        .where(ReportVersion.client_id == client.id, Report.client_id == client.id)
        .options(joinedload(ReportVersion.report).joinedload(Report.contract))
        .order_by(Report.month, Report.contract_id, ReportVersion.number)
    ).all()
    several_contracts = len({v.report.contract_id for v in versions}) > 1
    documents = _contents(v.document_sha256 for v in versions)
    taken: set[str] = set()
    for version in versions:
        report = version.report
        name = f"{report.month:%Y-%m}"
        if several_contracts:
            name += " " + safe_download_name(report.contract.title, default=str(report.contract_id))
        document = documents[version.document_sha256]
        path = _unique(f"rapports/{name} v{version.number}.pdf", taken)
        writer.add(path, document.content, document.media_type)
    return len(versions)


def issued_invoices(client: Client) -> list[Invoice]:
    """The client's invoices and credit notes, issued, in number order."""
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.client_id == client.id, Invoice.status != InvoiceStatus.DRAFT)
            .options(selectinload(Invoice.credited_invoice))
            .order_by(Invoice.issue_date, Invoice.kind.desc(), Invoice.sequence, Invoice.id)
        )
    )


def _add_invoices(writer: _Writer, client: Client, today: date) -> int:
    invoices = issued_invoices(client)
    documents = _contents(i.pdf_sha256 for i in invoices if i.pdf_sha256)
    taken: set[str] = set()
    for invoice in invoices:
        if invoice.pdf_sha256 is None:
            continue  # its PDF is still being rendered: the CSV lists it
        document = documents[invoice.pdf_sha256]
        path = _unique(
            f"factures/{safe_download_name(invoice.number or '', default=str(invoice.id))}.pdf", taken
        )
        writer.add(path, document.content, document.media_type)
    _add_csv(writer, "factures.csv", invoices_csv(invoices, today), len(invoices))
    return len(invoices)


# -- tables ------------------------------------------------------------------------------


def _add_csv(writer: _Writer, path: str, lines: Iterator[str], count: int) -> int:
    writer.add(path, "".join(lines).encode("utf-8"), "text/csv")
    return count


def _entries(client: Client) -> Iterator[TimeEntry]:
    return iter(
        db.session.scalars(
            select(TimeEntry)
            .where(TimeEntry.client_id == client.id)
            .options(
                joinedload(TimeEntry.client),
                joinedload(TimeEntry.contract),
                joinedload(TimeEntry.cm),
                joinedload(TimeEntry.activity),
            )
            .order_by(TimeEntry.day, TimeEntry.id)
        ).all()
    )


def _entries_count(client: Client) -> int:
    return db.session.scalar(select(func.count(TimeEntry.id)).where(TimeEntry.client_id == client.id)) or 0


CONTRACT_HEADER = [
    "Contrat",
    "Début",
    "Fin",
    "Canaux",
    "Conditions à partir du",
    "Modèle",
    "Forfait mensuel HT",
    "Heures incluses",
    "Taux horaire HT",
    "Plafond mensuel HT",
    "TVA (%)",
]


def _add_contracts(writer: _Writer, client: Client) -> int:
    """A line per contract and version of its terms (a rate change is a new line)."""
    rows = db.session.execute(
        select(Contract, ContractTerms)
        .join(ContractTerms, ContractTerms.contract_id == Contract.id)
        .where(Contract.client_id == client.id)
        .order_by(Contract.start_date, Contract.id, ContractTerms.effective_from)
    ).all()

    def line(contract: Contract, terms: ContractTerms) -> list[object]:
        return [
            safe_cell(contract.title),
            french_date(contract.start_date),
            french_date(contract.end_date),
            safe_cell(", ".join(contract.channels or [])),
            french_date(terms.effective_from),
            BILLING_MODEL_LABELS.get(terms.billing_model, terms.billing_model),
            french_amount(terms.monthly_fee),
            french_hours(terms.included_minutes) if terms.included_minutes is not None else "",
            french_amount(terms.hourly_rate),
            french_amount(terms.budget_ceiling),
            french_amount(terms.vat_rate),
        ]

    return _add_csv(
        writer, "contrats.csv", csv_lines(CONTRACT_HEADER, (line(c, t) for c, t in rows)), len(rows)
    )


def _add_payments(writer: _Writer, client: Client) -> int:
    payments = db.session.scalars(
        select(Payment)
        .where(Payment.client_id == client.id)
        .options(joinedload(Payment.invoice))
        .order_by(Payment.received_on, Payment.id)
    ).all()
    return _add_csv(writer, "paiements.csv", payments_csv(payments), len(payments))
