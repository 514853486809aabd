"""What the forms accept must work everywhere it goes next: a client's name
typed with odd characters still lets its contact's question be mailed, and
its invoice (PDF/A-3 with the Factur-X XML) be rendered."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db as _db
from app.invoices.models import Invoice
from tests.properties.support import CONTROLS, FORMS, FORMULAS, attempt, hostile_text

CLIENT = {
    "siren": "732829320",
    "address_line": "3 rue du Lac",
    "postal_code": "74000",
    "city": "Annecy",
    "country_code": "FR",
    "billing_email": "compta@fournil-abadie.example",
    "competitor_group": "",
}


def names() -> st.SearchStrategy[str]:
    odd = st.sampled_from(CONTROLS + FORMULAS + ["<b>&amp;</b>", "Café « Éclair »", "🍞", "\u202eedcba"])
    return st.tuples(st.just("Fournil"), odd, hostile_text().map(lambda s: s[:60])).map("".join)


@settings(FORMS, max_examples=8)
@given(name=names(), description=names())
def test_a_client_named_oddly_still_gets_its_mails_and_invoices(client, login_as, world, name, description):
    login_as(world.lead)
    answer, _changed = attempt(
        client, f"/clients/{world.own.id}/edit", {**CLIENT, "name": name}, content_type="multipart/form-data"
    )
    if answer.refused:
        return
    login_as(world.member)  # the contact's question is mailed to the leads, the client named in the subject
    attempt(client, f"/clients/{world.own.id}/reports/{world.published.id}/question", {"body": description})

    login_as(world.lead)
    form = {
        "title": description[:200],
        "contract": "",
        "lines-0-description": description[:300],
        "lines-0-quantity": "1",
        "lines-0-unit_price": "100",
        "lines-0-vat_rate": "20",
    }
    answer, _changed = attempt(client, f"/clients/{world.own.id}/invoices/new", form)
    if answer.refused:
        return
    invoice = _db.session.scalar(select(Invoice).order_by(Invoice.id.desc()).limit(1))
    attempt(client, f"/clients/{world.own.id}/invoices/{invoice.id}/issue", {})  # renders it, in-process
    _db.session.refresh(invoice)
    assert invoice.number and invoice.pdf_sha256 is not None, invoice.render_error
