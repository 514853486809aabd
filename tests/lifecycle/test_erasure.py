"""Erasing a former client's personal data: only once archived and past the
retention period (a clear refusal with the date otherwise), only with the
client's name typed; contacts anonymised, notes, highlights, messages and
share links gone; issued invoices (and their PDFs), payments, contracts and
the audit log kept as they were; another client untouched."""

from __future__ import annotations

import hashlib
import html
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from app.agency.services import get_settings
from app.audit.models import AuditEntry
from app.auth.models import User
from app.auth.services import LoginRefused, authenticate, load_user
from app.clients.models import ClientMember
from app.contracts.models import ContractTerms
from app.documents.models import Document
from app.extensions import db as _db
from app.formatting import long_day
from app.invoices.models import Invoice, Payment
from app.lifecycle import views as lifecycle_views
from app.lifecycle.services import LifecycleError, erase_personal_data, erasure_refusal, retention
from app.reports.models import Report, ReportMessage, ShareLink
from app.timesheets.models import TimeEntry
from app.timeutil import today
from tests.factories import PASSWORD, make_entry

# Tables whose rows keep what the law asks for, as it was: the issued
# invoices' frozen buyer, and the audit log (which names who did what).
KEPT_AS_IS = {"invoice", "audit_entry", "document", "alembic_version"}


def invoice_facts(invoice: Invoice) -> dict:
    document = _db.session.get(Document, invoice.pdf_sha256)
    return {
        "number": invoice.number,
        "buyer": dict(invoice.buyer),
        "seller": dict(invoice.seller),
        "totals": (invoice.total_ht, invoice.total_vat, invoice.total_ttc),
        "status": invoice.status,
        "lines": [(line.description, line.quantity, line.unit_price) for line in invoice.lines],
        "pdf": invoice.pdf_sha256,
        "pdf_content_sha256": hashlib.sha256(document.content).hexdigest(),
    }


def all_rows_text() -> dict[str, str]:
    """Every row of every table but those kept as is, as text."""
    out = {}
    for table in _db.metadata.sorted_tables:
        if table.name in KEPT_AS_IS:
            continue
        rows = _db.session.execute(select(table)).all()
        out[table.name] = " ".join(repr(tuple(row)) for row in rows)
    return out


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def erase(client, former, name: str | None = None):
    return client.post(
        f"/clients/{former.client.id}/data/erase",
        data={"confirm_name": former.client.name if name is None else name},
    )


# -- when it is allowed ------------------------------------------------------------------


def test_the_retention_period_runs_from_the_last_activity(former):
    kept = retention(former.client)
    assert kept.last_activity == date(2021, 7, 15)  # the last payment
    assert kept.years == 3
    assert kept.erasable_from == date(2024, 7, 16)
    assert kept.invoices_kept_until == date(2031, 7, 2)  # the credit note's 10 years
    get_settings().retention_personal_years = 5
    assert retention(former.client).erasable_from == date(2026, 7, 16)


def test_an_active_client_is_never_erased(former, login_as):
    former.client.archived_at = None
    _db.session.flush()
    assert "archivez-le d'abord" in erasure_refusal(former.client)
    response = erase(login_as(former.lead), former)
    assert response.status_code == 400
    assert "archivez-le d'abord" in html.unescape(response.get_data(as_text=True))
    assert _db.session.get(User, former.contacts[0].id).name == "Sophie Martin"


def test_before_the_end_of_retention_the_refusal_says_from_when(former, login_as):
    recent = today() - timedelta(days=30)
    existing = _db.session.scalar(select(TimeEntry).where(TimeEntry.client_id == former.client.id).limit(1))
    make_entry(existing.contract, existing.cm, recent, 30)  # a correction logged last month
    expected = long_day(retention(former.client).erasable_from)
    assert retention(former.client).erasable_from == recent.replace(year=recent.year + 3) + timedelta(days=1)

    with pytest.raises(LifecycleError) as refused:
        erase_personal_data(former.lead, former.client, former.client.name)
    assert f"à partir du {expected}" in refused.value.message

    text_ = page(login_as(former.lead), f"/clients/{former.client.id}/data")
    assert f"pourront être effacées à partir du {expected}" in text_
    assert 'name="confirm_name"' not in text_
    assert erase(login_as(former.lead), former).status_code == 400
    assert _db.session.get(User, former.contacts[0].id).email == "sophie@fromagerie-martin.example"


def test_the_erasure_needs_the_client_name_typed(former, login_as):
    response = erase(login_as(former.lead), former, name="Fromagerie")
    assert response.status_code == 400
    assert "Recopiez le nom du client, « Fromagerie Martin »" in html.unescape(
        response.get_data(as_text=True)
    )
    assert _db.session.get(User, former.contacts[0].id).name == "Sophie Martin"
    assert _db.session.scalar(select(ShareLink.id)) is not None
    # Case and extra spaces do not matter.
    assert erase(login_as(former.lead), former, name="  fromagerie   MARTIN ").status_code == 302


def test_only_a_lead_erases(former, login_as):
    assert erase(login_as(former.contacts[0]), former).status_code == 403
    assert login_as(former.other_contact).post(f"/clients/{former.client.id}/data/erase").status_code == 404
    assert _db.session.get(User, former.contacts[1].id).name == "Jules Martin"


# -- what it does -----------------------------------------------------------------------------


def test_personal_data_is_gone_from_the_rows_and_the_pages(former, login_as):
    assert any("Sophie Martin" in rows for rows in all_rows_text().values())  # the control
    response = erase(login_as(former.lead), former)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/clients/{former.client.id}/data")

    for table, rows in all_rows_text().items():
        for secret in former.personal:
            assert secret not in rows, f"{table} still holds {secret!r}"
    lead = login_as(former.lead)
    for url in (
        f"/clients/{former.client.id}",
        f"/clients/{former.client.id}/data",
        f"/clients/{former.client.id}/reports",
        f"/clients/{former.client.id}/reports/{former.report.id}",
    ):
        shown = page(lead, url)
        for secret in former.personal:
            assert secret not in shown, f"{url} still shows {secret!r}"
    assert "Données personnelles effacées le" in page(lead, f"/clients/{former.client.id}/data")


def test_contacts_are_anonymised_and_cannot_log_in(former, login_as):
    ids = [u.id for u in former.contacts]
    sessions = [u.get_id() for u in former.contacts]
    assert load_user(sessions[0]) is not None
    erase(login_as(former.lead), former)
    assert [load_user(s) for s in sessions] == [None, None]
    with pytest.raises(LoginRefused):
        authenticate("sophie@fromagerie-martin.example", PASSWORD)
    for user in (_db.session.get(User, i) for i in ids):
        assert user.name == "Contact supprimé"
        assert user.email == f"contact-supprime-{user.id}@anonyme.invalid"
        assert user.password_hash is None and not user.active
    assert {m.user_id for m in _db.session.scalars(select(ClientMember))} >= set(ids)  # still its contacts
    assert all(
        m.job_title == ""
        for m in _db.session.scalars(select(ClientMember).where(ClientMember.user_id.in_(ids)))
    )


def test_what_was_written_is_blanked_and_share_links_deleted(former, login_as):
    erase(login_as(former.lead), former)
    cid = former.client.id
    assert set(_db.session.scalars(select(TimeEntry.note).where(TimeEntry.client_id == cid))) == {""}
    assert _db.session.scalar(select(Report.highlights).where(Report.id == former.report.id)) == ""
    assert _db.session.scalar(select(Report.draft_sha256).where(Report.id == former.report.id)) is None
    assert set(_db.session.scalars(select(ReportMessage.body).where(ReportMessage.client_id == cid))) == {""}
    assert _db.session.scalar(select(ShareLink.id).where(ShareLink.client_id == cid)) is None
    client = _db.session.get(type(former.client), cid)
    assert (client.internal_notes, client.billing_email, client.logo_sha256) == ("", None, None)
    # The time itself stays: minutes, days, even in the closed month.
    assert sorted(_db.session.scalars(select(TimeEntry.minutes).where(TimeEntry.client_id == cid))) == [
        45,
        90,
    ]


def test_invoices_their_pdfs_payments_and_contracts_survive_unchanged(former, login_as):
    invoices = [former.invoice, former.credit_note]
    before = [invoice_facts(i) for i in invoices]
    payments = [(p.amount, p.received_on, p.reference) for p in _db.session.scalars(select(Payment))]
    terms = [
        (t.effective_from, t.monthly_fee, t.included_minutes, t.budget_ceiling)
        for t in _db.session.scalars(select(ContractTerms).order_by(ContractTerms.id))
    ]
    versions = [v.document_sha256 for v in former.versions]

    erase(login_as(former.lead), former)

    _db.session.expire_all()
    assert [invoice_facts(_db.session.get(Invoice, i.id)) for i in invoices] == before
    assert before[0]["buyer"]["email"] == "compta@fromagerie-martin.example"  # the frozen buyer is legal data
    assert [(p.amount, p.received_on, p.reference) for p in _db.session.scalars(select(Payment))] == payments
    assert [
        (t.effective_from, t.monthly_fee, t.included_minutes, t.budget_ceiling)
        for t in _db.session.scalars(select(ContractTerms).order_by(ContractTerms.id))
    ] == terms
    assert [v.document_sha256 for v in former.report.versions] == versions
    download = login_as(former.lead).get(f"/clients/{former.client.id}/invoices/{former.invoice.id}/pdf")
    assert download.status_code == 200
    assert hashlib.sha256(download.data).hexdigest() == former.invoice.pdf_sha256


def test_the_erasure_is_in_the_audit_log_and_the_log_is_kept(former, login_as):
    earlier = _db.session.scalar(
        select(AuditEntry.id).where(AuditEntry.client_id == former.client.id).limit(1)
    )
    erase(login_as(former.lead), former)
    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "client.personal_data_erased"))
    assert entry.client_id == former.client.id and entry.actor_id == former.lead.id
    assert entry.data["contacts"] == 2 and entry.data["time_notes"] == 2 and entry.data["share_links"] == 1
    assert _db.session.get(AuditEntry, earlier) is not None


def test_another_client_is_untouched(former, login_as):
    erase(login_as(former.lead), former)
    other = _db.session.get(type(former.other), former.other.id)
    assert other.internal_notes == "Note Vautrin-77" and other.billing_email == "factures@vautrin.example"
    contact = _db.session.get(User, former.other_contact.id)
    assert (contact.name, contact.email, contact.active) == ("Ines Vautrin", "ines@vautrin.example", True)
    assert (
        _db.session.scalar(select(TimeEntry.note).where(TimeEntry.client_id == other.id))
        == "Galette Vautrin-42"
    )


def test_the_database_lets_only_a_note_be_blanked_in_a_closed_month(former):
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("the guard is a PostgreSQL trigger")
    entry_id = _db.session.scalar(select(TimeEntry.id).where(TimeEntry.day == date(2021, 5, 3)))
    for statement in (
        "UPDATE time_entry SET minutes = 60 WHERE id = :id",
        "UPDATE time_entry SET note = 'autre chose' WHERE id = :id",
        "UPDATE time_entry SET note = '', minutes = 60 WHERE id = :id",
        "DELETE FROM time_entry WHERE id = :id",
    ):
        with pytest.raises(Exception, match="locked"), _db.session.begin_nested():
            _db.session.execute(text(statement), {"id": entry_id})
    _db.session.execute(text("UPDATE time_entry SET note = '' WHERE id = :id"), {"id": entry_id})
    assert _db.session.scalar(select(TimeEntry.note).where(TimeEntry.id == entry_id)) == ""


def test_the_erase_form_is_shown_once_allowed(former, login_as, monkeypatch):
    text_ = page(login_as(former.lead), f"/clients/{former.client.id}/data")
    assert 'name="confirm_name"' in text_ and "Effacement possible à partir du" in text_
    # The view asks the agency's today: the day before the end of retention, no form.
    monkeypatch.setattr(lifecycle_views, "today", lambda: date(2024, 7, 15))
    assert erase(login_as(former.lead), former).status_code == 400
