"""Invoice pages: the lead's invoices, drafts, issuing, credit notes and
payments; the PDF download shared by the lead and the client's users."""

from __future__ import annotations

from flask import abort, g
from flask_login import current_user

from app.access import install_client_scope, roles_required
from app.documents.services import get_document
from app.documents.views import document_response
from app.invoices import bp
from app.invoices.services import get_invoice_or_404

install_client_scope(bp)


def download_name(invoice) -> str:
    """ "Facture F2026-0001 - Boulangerie Dupont.pdf", built by the server."""
    what = "Avoir" if invoice.is_credit_note else "Facture"
    return f"{what} {invoice.number} - {invoice.client.name}.pdf"


@bp.route("/clients/<int:client_id>/invoices/<int:invoice_id>/pdf")
@roles_required("lead", "client")
def download(invoice_id: int):
    """An issued invoice's PDF (PDF/A-3 with its Factur-X XML), as an
    attachment never kept in any cache."""
    invoice = get_invoice_or_404(g.client, invoice_id, current_user)
    document = get_document(invoice.pdf_sha256) if invoice.pdf_sha256 else None
    if document is None:
        abort(404)
    return document_response(document, download_name=download_name(invoice))
