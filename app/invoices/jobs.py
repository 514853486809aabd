"""Invoice jobs (queue "invoices"): they take ids, keep their outcome in the
database and can run twice without doing anything twice.

`render_invoice` renders an issued invoice's PDF (PDF/A-3 with its Factur-X
XML), stores it and tells the client, all in one commit: the PDF, its
render state and `sent_at` move together, so a worker killed mid-job leaves
the invoice as it was (no PDF, no mail) and running the job again finishes
the work once. A PDF already there is never rendered again: the job only
makes sure the client was told.
"""

from __future__ import annotations

import logging

from flask import render_template
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from app.audit.services import record
from app.clients.queries import client_contacts
from app.documents.services import store_document
from app.extensions import db
from app.invoices.models import Invoice, InvoiceStatus, RenderState
from app.mail import in_language_of, send_mail
from app.mail_links import external_url
from app.timeutil import utcnow

log = logging.getLogger(__name__)

PDF = "application/pdf"


def _locked(invoice_id: int) -> Invoice | None:
    """The invoice, read again under a row lock (two runs at once: the
    second waits, then sees what the first committed)."""
    return db.session.scalar(
        select(Invoice)
        .where(Invoice.id == invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _failed(invoice_id: int, error: Exception) -> None:
    db.session.rollback()
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is not None and invoice.pdf_sha256 is None:
        invoice.render_state = RenderState.FAILED
        invoice.render_error = f"{type(error).__name__}: {error}"[:1000]
        db.session.commit()


def render_invoice(invoice_id: int) -> str | None:
    """Render, store and announce the PDF of an issued invoice or credit
    note; returns its SHA-256 (None: no such issued invoice)."""
    from app.invoices.document import render_invoice_pdf

    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.is_draft:
        return None
    pdf = None
    if invoice.pdf_sha256 is None:
        invoice.render_state = RenderState.RENDERING
        invoice.render_error = None
        db.session.commit()  # shown to the lead while the PDF renders
        try:
            pdf = render_invoice_pdf(invoice)
        except Exception as error:
            log.exception("invoice %s: rendering failed", invoice_id)
            _failed(invoice_id, error)
            raise
    invoice = _locked(invoice_id)
    if invoice.pdf_sha256 is None and pdf is not None:  # nobody stored it meanwhile
        invoice.pdf_sha256 = store_document(pdf, PDF).sha256
    invoice.render_state = RenderState.DONE
    invoice.render_error = None
    if invoice.sent_at is None and _tell_the_client(invoice):
        invoice.sent_at = utcnow()
    db.session.commit()
    return invoice.pdf_sha256


def _tell_the_client(invoice: Invoice) -> int:
    """Mail the client's active users that the invoice (or credit note) is in
    their space: a link to the portal, never the document itself. Returns
    how many were mailed (none for a cancelled invoice: its credit note
    tells them)."""
    if invoice.status == InvoiceStatus.CANCELLED:
        return 0
    members = client_contacts(invoice.client_id)
    if not members:
        return 0
    link = external_url("portal.home", client_id=invoice.client_id)
    for user in members:
        with in_language_of(user):
            if invoice.is_credit_note:
                subject = _("Votre avoir %(number)s est disponible", number=invoice.number)
            else:
                subject = _("Votre facture %(number)s est disponible", number=invoice.number)
            send_mail(
                user.email,
                subject,
                render_template("invoices/mail/available.txt", user=user, invoice=invoice, link=link),
            )
    what = _("Avoir") if invoice.is_credit_note else _("Facture")
    record(
        None,
        "invoice.sent",
        invoice,
        client_id=invoice.client_id,
        summary=ngettext(
            "%(what)s %(number)s annoncée au client (%(num)d destinataire)",
            "%(what)s %(number)s annoncée au client (%(num)d destinataires)",
            len(members),
            what=what,
            number=invoice.number,
        ),
    )
    return len(members)
