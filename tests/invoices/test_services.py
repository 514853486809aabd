"""Invoice services: drafts from a contract's month, exact amounts, issuing
with gapless numbers, the freeze, credit notes and payments."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from app.extensions import db as _db
from app.invoices.guards import FrozenInvoiceError
from app.invoices.models import CeilingDecision, Invoice, InvoiceStatus, Payment
from app.invoices.receipts import record_payment
from app.invoices.services import (
    InvoiceError,
    LineInput,
    cancel_invoice,
    create_credit_note,
    create_manual_draft,
    decide_ceiling,
    draft_for_month,
    draft_month_invoices,
    issue_invoice,
    update_draft,
    vat_groups,
)
from app.timesheets.calendar import add_months, month_start
from app.timesheets.locks import is_locked
from app.timesheets.services import EntryError, unlock_month
from app.timeutil import today
from tests.factories import make_agency_settings, make_client, make_cm, make_contract, make_entry, make_lead

LAST_MONTH = add_months(month_start(today()), -1)
D = Decimal


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
    contract = make_contract(client, start=date(2025, 1, 1))
    return {"client": client, "contract": contract, "lead": make_lead(), "cm": make_cm()}


def test_the_worked_example_708_at_20_percent(world):
    invoice = draft_for_month(world["lead"], world["contract"], LAST_MONTH)
    assert [(line.quantity, line.unit_price, line.total_ht) for line in invoice.lines] == [
        (D(1), D("708.00"), D("708.00"))
    ]
    assert "forfait mensuel" in invoice.lines[0].description
    assert (invoice.total_ht, invoice.total_vat, invoice.total_ttc) == (D("708.00"), D("141.60"), D("849.60"))
    assert invoice.number is None and invoice.status == InvoiceStatus.DRAFT


def test_mixed_rates_round_per_line_and_per_rate(world):
    lines = [
        LineInput("Conseil", D("1.5"), D("33.33"), D("20")),  # 49.995 -> 50.00
        LineInput("Livre", D("3"), D("12.99"), D("5.5")),  # 38.97, TVA 2.14335 -> 2.14
        LineInput("Débours", D("1"), D("10.00"), D("0")),
    ]
    invoice = create_manual_draft(world["lead"], world["client"], title="Divers", lines=lines)
    assert [line.total_ht for line in invoice.lines] == [D("50.00"), D("38.97"), D("10.00")]
    groups = {g.rate: (g.base, g.vat) for g in vat_groups(invoice.lines, False)}
    assert groups == {
        D("20"): (D("50.00"), D("10.00")),
        D("5.5"): (D("38.97"), D("2.14")),
        D("0"): (D("10.00"), D("0.00")),
    }
    assert (invoice.total_ht, invoice.total_vat, invoice.total_ttc) == (D("98.97"), D("12.14"), D("111.11"))


def test_franchise_has_no_vat(world):
    make_agency_settings(vat_regime="franchise", vat_number="")
    invoice = draft_for_month(world["lead"], world["contract"], LAST_MONTH)
    issue_invoice(world["lead"], invoice)
    assert (
        invoice.vat_franchise
        and invoice.total_vat == 0
        and invoice.total_ttc == invoice.total_ht == D("708.00")
    )


def test_overage_and_ceiling_need_the_leads_decision(world):
    contract = make_contract(
        world["client"],
        start=date(2025, 1, 1),
        model="retainer_overage",
        included_hours=2,
        rate="60.00",
        ceiling="800.00",
    )
    for day in range(1, 5):  # 4 x 1 h 30 = 6 h: 4 h past the 2 included
        make_entry(contract, world["cm"], LAST_MONTH + timedelta(days=day), 90)
    invoice = draft_for_month(world["lead"], contract, LAST_MONTH)
    assert [line.total_ht for line in invoice.lines] == [D("708.00"), D("240.00")]
    assert invoice.ceiling_decision == CeilingDecision.PENDING and invoice.excess_amount == D("148.00")
    with pytest.raises(InvoiceError, match="plafond"):
        issue_invoice(world["lead"], invoice)
    decide_ceiling(world["lead"], invoice, confirm=False)
    assert invoice.lines[1].quantity == D("1.53") and invoice.total_ht == D("799.80")  # 708 + 91.80
    assert invoice.ceiling_decision == CeilingDecision.CAPPED
    issue_invoice(world["lead"], invoice)
    assert invoice.number is not None


def test_draft_for_month_is_idempotent(world):
    first = draft_month_invoices(world["lead"], LAST_MONTH)
    again = draft_month_invoices(world["lead"], LAST_MONTH)
    assert [i.id for i in first] == [i.id for i in again]
    assert _db.session.scalar(select(Invoice.id).where(Invoice.month == LAST_MONTH).limit(2)) == first[0].id


def test_issue_numbers_freezes_and_locks_the_month(world):
    lead = world["lead"]
    a = draft_for_month(lead, world["contract"], LAST_MONTH)
    b = create_manual_draft(
        lead, world["client"], title="Shooting photo", lines=[LineInput("Photos", D(1), D(300), D(20))]
    )
    issue_invoice(lead, a)
    issue_invoice(lead, b)
    year = today().year
    assert (a.number, b.number) == (f"F{year}-0001", f"F{year}-0002")
    assert a.issue_date == today() and a.due_date == today() + timedelta(days=30)
    assert a.seller["siren"] == "443061841" and a.buyer["siren"] == "552100554"
    assert is_locked(_db.session, world["contract"].id, LAST_MONTH)
    with pytest.raises(EntryError, match="facturé"):
        unlock_month(lead, world["contract"], LAST_MONTH, "une correction")
    with pytest.raises(InvoiceError):
        update_draft(lead, a, title="x", lines=[LineInput("x", D(1), D(1), D(20))])
    a.total_ht = D("1.00")
    with pytest.raises(FrozenInvoiceError):
        _db.session.flush()
    _db.session.rollback()


def test_the_database_refuses_changes_to_an_issued_invoice(world, app):
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL guard")
    invoice = draft_for_month(world["lead"], world["contract"], LAST_MONTH)
    issue_invoice(world["lead"], invoice)
    for sql in (
        "UPDATE invoice SET total_ttc = 1 WHERE id = :id",
        "UPDATE invoice SET status = 'draft' WHERE id = :id",
        "DELETE FROM invoice WHERE id = :id",
        "UPDATE invoice_line SET unit_price = 1 WHERE invoice_id = :id",
        "DELETE FROM invoice_line WHERE invoice_id = :id",
    ):
        with pytest.raises(Exception, match="issued|never"), _db.session.begin_nested():
            _db.session.execute(text(sql), {"id": invoice.id})
    with _db.session.begin_nested():  # payment state may move
        _db.session.execute(text("UPDATE invoice SET status = 'paid' WHERE id = :id"), {"id": invoice.id})


def test_credit_note_cancels_and_lets_the_month_reopen(world):
    lead = world["lead"]
    invoice = draft_for_month(lead, world["contract"], LAST_MONTH)
    issue_invoice(lead, invoice)
    credit = cancel_invoice(lead, invoice, "Erreur de forfait")
    assert credit.number == f"A{today().year}-0001" and credit.credited_invoice_id == invoice.id
    assert credit.total_ttc == invoice.total_ttc and invoice.status == InvoiceStatus.CANCELLED
    unlock_month(lead, world["contract"], LAST_MONTH, "correction des heures")
    # The month can be invoiced again: a new draft, next number.
    again = draft_for_month(lead, world["contract"], LAST_MONTH)
    assert again.id != invoice.id and again.is_draft


def test_partial_credit_note(world):
    lead = world["lead"]
    invoice = draft_for_month(lead, world["contract"], LAST_MONTH)
    issue_invoice(lead, invoice)
    credit = create_credit_note(
        lead, invoice, reason="Geste commercial", lines=[LineInput("Remise", D(1), D(100), D(20))]
    )
    issue_invoice(lead, credit)
    assert invoice.amount_credited == D("120.00") and invoice.amount_due == D("729.60")
    assert invoice.status == InvoiceStatus.ISSUED
    with pytest.raises(InvoiceError, match="créditer"):
        create_credit_note(lead, invoice, reason="Beaucoup trop", lines=[LineInput("x", D(1), D(700), D(20))])


def test_payments_partial_full_refund(world):
    lead = world["lead"]
    invoice = draft_for_month(lead, world["contract"], LAST_MONTH)
    with pytest.raises(InvoiceError):
        record_payment(lead, invoice, amount=D(10), received_on=today())
    issue_invoice(lead, invoice)
    record_payment(lead, invoice, amount=D("400.00"), received_on=today())
    assert invoice.status == InvoiceStatus.PARTLY_PAID and invoice.amount_due == D("449.60")
    with pytest.raises(InvoiceError, match="reste à payer"):
        record_payment(lead, invoice, amount=D("500.00"), received_on=today())
    with pytest.raises(InvoiceError, match="futur"):
        record_payment(lead, invoice, amount=D("1.00"), received_on=today() + timedelta(days=1))
    record_payment(lead, invoice, amount=D("449.60"), received_on=today(), method="card", external_id="pi_1")
    assert invoice.status == InvoiceStatus.PAID
    assert (
        record_payment(
            None, invoice, amount=D("449.60"), received_on=today(), external_id="pi_1", strict=False
        )
        is None
    )
    record_payment(
        None,
        invoice,
        amount=D("-49.60"),
        received_on=today(),
        method="card",
        external_id="re_1",
        strict=False,
    )
    assert invoice.amount_paid == D("800.00") and invoice.status == InvoiceStatus.PARTLY_PAID
    assert len(_db.session.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).all()) == 3


def test_overdue_is_derived(world):
    lead = world["lead"]
    invoice = draft_for_month(lead, world["contract"], LAST_MONTH)
    issue_invoice(lead, invoice)
    later = invoice.due_date + timedelta(days=3)
    assert invoice.display_status(later) == "overdue" and invoice.days_overdue(later) == 3
    assert invoice.display_status(invoice.due_date) == "issued"


def test_issue_refuses_an_unfinished_month_and_missing_details(world):
    lead = world["lead"]
    current = draft_for_month(lead, world["contract"], month_start(today()))
    with pytest.raises(InvoiceError, match="pas terminé"):
        issue_invoice(lead, current)
    bare = make_client("Sans adresse")
    manual = create_manual_draft(lead, bare, title="Divers", lines=[LineInput("x", D(1), D(10), D(20))])
    with pytest.raises(InvoiceError, match="adresse"):
        issue_invoice(lead, manual)


def test_a_partial_month_is_prorated_and_says_so(world):
    start = LAST_MONTH + timedelta(days=14)
    contract = make_contract(world["client"], start=start)
    invoice = draft_for_month(world["lead"], contract, LAST_MONTH)
    days = (add_months(LAST_MONTH, 1) - LAST_MONTH).days
    active = days - 14
    assert invoice.lines[0].unit_price == (D("708.00") * active / days).quantize(
        D("0.01"), rounding="ROUND_HALF_UP"
    )
    assert "(prorata du 15 " in invoice.lines[0].description
    assert invoice.period_start == start


def test_french_writes_the_first_of_the_month_1er(app):
    from flask_babel import force_locale

    from app.formatting import long_day

    with app.test_request_context():
        with force_locale("fr"):
            assert long_day(date(2026, 8, 1)) == "1er août 2026"
            assert long_day(date(2026, 8, 31), year=False) == "31 août"
        with force_locale("en"):
            assert long_day(date(2026, 8, 1)) == "1 August 2026"
