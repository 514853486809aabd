"""The invoice job: render the issued invoice's PDF once, store it with its
render state, and tell the client's users once, all in one commit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.documents.models import Document
from app.extensions import db as _db
from app.invoices import jobs
from app.invoices.models import Invoice, RenderState
from app.invoices.services import create_credit_note, issue_invoice, request_render
from tests.factories import (
    make_agency_settings,
    make_client,
    make_client_user,
    make_invoice,
    make_issued_invoice,
    make_lead,
)


class Killed(BaseException):
    """A worker killed mid-job (nothing after it runs, nothing is committed)."""


@pytest.fixture
def world(db):
    make_agency_settings()
    client = make_client(
        "Boulangerie Dupont",
        address_line="3 rue Sommeiller",
        postal_code="74000",
        city="Annecy",
        siren="552100554",
    )
    sophie = make_client_user(client, email="sophie@dupont.example", name="Sophie")
    jules = make_client_user(client, email="jules@dupont.example", name="Jules")
    make_client_user(client, email="pending@dupont.example", pending=True)  # no password yet
    make_client_user(client, email="gone@dupont.example", active=False)
    other = make_client("Fromagerie Martin")
    make_client_user(other, email="martin@fromagerie.example")
    return {"client": client, "recipients": sorted([sophie.email, jules.email]), "lead": make_lead()}


def documents() -> int:
    return _db.session.scalar(select(func.count()).select_from(Document))


def reload(invoice: Invoice) -> Invoice:
    _db.session.expire_all()
    return _db.session.get(Invoice, invoice.id)


def test_the_job_renders_stores_and_tells_the_client_once(world, outbox):
    invoice = make_issued_invoice(world["client"], pdf=None, lead=world["lead"])
    assert invoice.render_state == RenderState.QUEUED and invoice.pdf_sha256 is None
    before = documents()

    sha256 = jobs.render_invoice(invoice.id)

    invoice = reload(invoice)
    assert invoice.pdf_sha256 == sha256 and invoice.render_state == RenderState.DONE
    assert invoice.render_error is None and invoice.sent_at is not None
    assert invoice.available
    document = _db.session.get(Document, sha256)
    assert document.media_type == "application/pdf" and document.content.startswith(b"%PDF-")
    assert documents() == before + 1

    mails = outbox.messages
    assert sorted(mail["To"] for mail in mails) == world["recipients"]
    for mail in mails:
        assert mail["Subject"] == f"Votre facture {invoice.number} est disponible"
        body = outbox.body(mail)
        assert f"/clients/{invoice.client_id}/portal" in body
        assert "849,60" in body
        assert not any(part.get_filename() for part in mail.walk())
        assert not any(part.get_content_type() == "application/pdf" for part in mail.walk())
    assert _db.session.scalar(select(func.count()).where(AuditEntry.action == "invoice.sent")) == 1

    # run again: nothing rendered, nothing stored, nobody mailed twice
    sent_at = invoice.sent_at
    assert jobs.render_invoice(invoice.id) == sha256
    invoice = reload(invoice)
    assert invoice.pdf_sha256 == sha256 and invoice.sent_at == sent_at
    assert documents() == before + 1
    assert len(outbox.messages) == 2


def test_a_pdf_already_there_is_not_rendered_again_but_the_client_is_told(world, outbox, monkeypatch):
    invoice = make_issued_invoice(world["client"], pdf=b"%PDF-1.7 rendered before", lead=world["lead"])
    sha256 = invoice.pdf_sha256

    def no_rendering(invoice):
        raise AssertionError("rendered again")

    monkeypatch.setattr("app.invoices.document.render_invoice_pdf", no_rendering)
    assert jobs.render_invoice(invoice.id) == sha256

    invoice = reload(invoice)
    assert invoice.pdf_sha256 == sha256 and invoice.render_state == RenderState.DONE
    assert invoice.sent_at is not None
    assert sorted(mail["To"] for mail in outbox.messages) == world["recipients"]


def test_a_failing_render_says_why_and_leaves_no_pdf_then_a_retry_finishes(world, outbox, monkeypatch):
    invoice = make_issued_invoice(world["client"], pdf=None, lead=world["lead"])
    before = documents()

    def broken(invoice):
        raise RuntimeError("la police a disparu")

    with monkeypatch.context() as patch:
        patch.setattr("app.invoices.document.render_invoice_pdf", broken)
        with pytest.raises(RuntimeError):
            jobs.render_invoice(invoice.id)

    invoice = reload(invoice)
    assert invoice.render_state == RenderState.FAILED
    assert invoice.render_error == "RuntimeError: la police a disparu"
    assert invoice.pdf_sha256 is None and invoice.sent_at is None and not invoice.available
    assert documents() == before
    assert outbox.messages == []

    request_render(invoice)  # the lead's retry
    assert invoice.render_state == RenderState.QUEUED and invoice.render_error is None
    _db.session.info.pop("relais_pending_jobs", None)  # run it by hand below
    jobs.render_invoice(invoice.id)
    invoice = reload(invoice)
    assert invoice.render_state == RenderState.DONE and invoice.render_error is None
    assert invoice.pdf_sha256 is not None and invoice.sent_at is not None
    assert len(outbox.messages) == 2


def test_a_worker_killed_before_the_commit_leaves_no_half_state(world, outbox, monkeypatch):
    invoice = make_issued_invoice(world["client"], pdf=None, lead=world["lead"])
    before = documents()

    def killed():
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(jobs, "utcnow", killed)  # after the PDF is stored, before the commit
        with pytest.raises(Killed):
            jobs.render_invoice(invoice.id)
    _db.session.rollback()  # what the database does with a dead worker's transaction

    invoice = reload(invoice)
    assert invoice.render_state == RenderState.RENDERING  # what was committed: the lead sees it
    assert invoice.pdf_sha256 is None and invoice.sent_at is None
    assert documents() == before
    assert outbox.messages == []

    jobs.render_invoice(invoice.id)
    jobs.render_invoice(invoice.id)
    invoice = reload(invoice)
    assert invoice.render_state == RenderState.DONE and invoice.pdf_sha256 is not None
    assert documents() == before + 1
    assert len(outbox.messages) == 2


def test_a_credit_note_is_rendered_and_announced_as_such(world, outbox):
    lead = world["lead"]
    invoice = make_issued_invoice(world["client"], pdf=b"%PDF-1.7 facture", lead=lead)
    credit_note = issue_invoice(lead, create_credit_note(lead, invoice, reason="Forfait facturé deux fois"))
    _db.session.info.pop("relais_pending_jobs", None)

    jobs.render_invoice(credit_note.id)

    credit_note = reload(credit_note)
    assert credit_note.render_state == RenderState.DONE and credit_note.sent_at is not None
    mails = outbox.messages
    assert sorted(mail["To"] for mail in mails) == world["recipients"]
    assert {mail["Subject"] for mail in mails} == {f"Votre avoir {credit_note.number} est disponible"}
    assert f"sur la facture {invoice.number}" in outbox.body(mails[0])


def test_a_client_without_users_is_told_later(world, outbox):
    lonely = make_client("Garage Leroy")
    invoice = make_issued_invoice(lonely, pdf=b"%PDF-1.7 leroy", lead=world["lead"])

    jobs.render_invoice(invoice.id)
    assert reload(invoice).sent_at is None and outbox.messages == []

    make_client_user(lonely, email="leroy@garage.example")
    jobs.render_invoice(invoice.id)
    assert reload(invoice).sent_at is not None
    assert [mail["To"] for mail in outbox.messages] == ["leroy@garage.example"]


def test_no_job_for_a_draft_or_a_missing_invoice(world, outbox):
    draft = make_invoice(world["client"], lead=world["lead"])
    assert jobs.render_invoice(draft.id) is None
    assert jobs.render_invoice(10**9) is None
    assert reload(draft).pdf_sha256 is None and outbox.messages == []


def test_issuing_then_committing_runs_the_job(world, outbox):
    """Without Redis the job runs in-process once the issuing commits."""
    invoice = issue_invoice(world["lead"], make_invoice(world["client"], lead=world["lead"]))
    _db.session.commit()

    invoice = reload(invoice)
    assert invoice.render_state == RenderState.DONE and invoice.pdf_sha256 is not None
    assert sorted(mail["To"] for mail in outbox.messages) == world["recipients"]
