"""The archive a lead hands over when a client leaves: every published report
version and issued invoice as the PDFs the store holds, French CSV files
whose rows match the database, a manifest whose sums match the files, and
nothing of any other client."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.contracts.models import Contract, ContractTerms
from app.documents.models import Document
from app.extensions import db as _db
from app.invoices.models import Invoice, InvoiceStatus, Payment
from app.lifecycle.export import export_client
from app.timesheets.models import TimeEntry
from app.timeutil import today
from tests.factories import assign, make_client_user, make_cm


def export(client, former):
    response = client.post(f"/clients/{former.client.id}/data/export")
    assert response.status_code == 200, response.status_code
    return response


def read_csv(archive: zipfile.ZipFile, name: str) -> list[list[str]]:
    raw = archive.read(name)
    assert raw.startswith("\ufeff".encode()), f"{name}: no BOM for Excel"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def count(column, *where) -> int:
    return _db.session.scalar(select(func.count(column)).where(*where))


def test_the_archive_holds_every_document_as_stored(former, login_as):
    response = export(login_as(former.lead), former)
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    invoice, credit = former.invoice, former.credit_note

    assert sorted(archive.namelist()) == sorted(
        [
            "rapports/2021-05 v1.pdf",
            "rapports/2021-05 v2.pdf",
            f"factures/{invoice.number}.pdf",
            f"factures/{credit.number}.pdf",
            "temps.csv",
            "contrats.csv",
            "paiements.csv",
            "factures.csv",
            "manifest.json",
        ]
    )
    expected = {
        "rapports/2021-05 v1.pdf": former.versions[0].document_sha256,
        "rapports/2021-05 v2.pdf": former.versions[1].document_sha256,
        f"factures/{invoice.number}.pdf": invoice.pdf_sha256,
        f"factures/{credit.number}.pdf": credit.pdf_sha256,
    }
    for path, sha256 in expected.items():
        content = archive.read(path)
        assert hashlib.sha256(content).hexdigest() == sha256, path
        assert content == _db.session.get(Document, sha256).content


def test_the_manifest_lists_every_file_with_its_sum_and_the_client(former, login_as):
    archive = zipfile.ZipFile(io.BytesIO(export(login_as(former.lead), former).data))
    manifest = json.loads(archive.read("manifest.json"))

    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(archive.namelist()) - {"manifest.json"}
    for path, entry in listed.items():
        content = archive.read(path)
        assert entry["sha256"] == hashlib.sha256(content).hexdigest(), path
        assert entry["size"] == len(content), path
    assert manifest["client"]["name"] == "Fromagerie Martin"
    assert manifest["client"]["siren"] == "552100554"
    assert manifest["exported_at"].startswith(today().isoformat())
    assert manifest["exported_by"] == "Marc Lead"


def test_the_csv_files_have_a_row_per_database_row(former, login_as):
    archive = zipfile.ZipFile(io.BytesIO(export(login_as(former.lead), former).data))
    cid = former.client.id

    entries = read_csv(archive, "temps.csv")
    assert (
        entries[0][0] == "Date" and len(entries) - 1 == count(TimeEntry.id, TimeEntry.client_id == cid) == 2
    )
    assert entries[1][:3] == ["03/05/2021", "Fromagerie Martin", "Contrat Martin"]
    assert entries[2][-1] == "'=Appel avec Sophie Martin-22"  # never a formula in Excel

    terms = count(
        ContractTerms.id, ContractTerms.contract_id.in_(select(Contract.id).where(Contract.client_id == cid))
    )
    contracts = read_csv(archive, "contrats.csv")
    assert len(contracts) - 1 == terms == 2
    assert [row[6] for row in contracts[1:]] == ["708,00", "800,00"]

    payments = read_csv(archive, "paiements.csv")
    assert len(payments) - 1 == count(Payment.id, Payment.client_id == cid) == 1
    assert payments[1][-1] == "900,00"

    invoices = read_csv(archive, "factures.csv")
    issued = count(Invoice.id, Invoice.client_id == cid, Invoice.status != InvoiceStatus.DRAFT)
    assert len(invoices) - 1 == issued == 2
    assert {row[0] for row in invoices[1:]} == {former.invoice.number, former.credit_note.number}


def test_nothing_of_another_client_is_in_the_archive(former, login_as):
    archive = zipfile.ZipFile(io.BytesIO(export(login_as(former.lead), former).data))
    for name in archive.namelist():
        content = archive.read(name)
        text = content.decode("utf-8", errors="replace")
        for secret in former.foreign:
            assert secret not in text, f"{name} shows {secret!r}"
        for blob in former.foreign_files:
            assert blob not in content, f"{name} holds another client's file"
        assert former.other_invoice.number not in text


def test_the_download_is_an_attachment_never_cached_and_audited(former, login_as):
    response = export(login_as(former.lead), former)
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert f"export-fromagerie-martin-{today():%Y-%m-%d}.zip" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.exported"))
    assert entry.client_id == former.client.id and entry.actor_id == former.lead.id
    assert entry.data["sha256"] == hashlib.sha256(response.data).hexdigest()
    assert entry.data["report_versions"] == 2 and entry.data["time_entries"] == 2


def test_a_report_month_of_two_contracts_names_each_contract(former):
    from datetime import date

    from tests.factories import make_contract, make_report
    from tests.lifecycle.conftest import published

    second = make_contract(former.client, title="Contrat Martin Ads", start=date(2021, 1, 1))
    report = make_report(second, date(2021, 5, 1))
    published(report, b"%PDF-1.7 ads", former.lead, former.versions[0].published_at)
    names = {f.path for f in export_client(former.lead, former.client).files}
    assert {"rapports/2021-05 Contrat Martin v1.pdf", "rapports/2021-05 Contrat Martin Ads v1.pdf"} <= names


def test_only_a_lead_exports(former, login_as):
    cm = make_cm()
    assign(cm, former.other)
    member = make_client_user(former.other)
    url = f"/clients/{former.client.id}/data/export"
    # The client's own contact and a CM that serves it: seen but not allowed.
    assert login_as(former.contacts[0]).post(url).status_code == 403
    active_cm = make_cm()
    former.client.archived_at = None
    assign(active_cm, former.client)
    assert login_as(active_cm).post(url).status_code == 403
    # Another company's user and a CM of another client: the client does not exist for them.
    assert login_as(member).post(url).status_code == 404
    assert login_as(cm).post(url).status_code == 404
    assert not _db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "client.exported"))


def test_the_data_page_offers_the_export(former, login_as):
    page = login_as(former.lead).get(f"/clients/{former.client.id}/data")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'action="/clients/{former.client.id}/data/export"' in text
    assert "2 versions de rapports publiées" in text
    show = login_as(former.lead).get(f"/clients/{former.client.id}").get_data(as_text=True)
    assert f'href="/clients/{former.client.id}/data"' in show
