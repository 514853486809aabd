"""Invoices: manual drafts and their lines, credit notes, cancelling, the
budget ceiling, payments typed by the lead, reminders and the month's
drafts, fed hostile text, amounts, quantities, VAT rates, dates and the ids
of another client's invoices and contracts."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db as _db
from app.fields import FIRST_DAY, LAST_DAY
from app.invoices.models import Invoice, InvoiceLine, InvoiceStatus, Payment
from app.timeutil import today
from tests.factories import make_issued_invoice
from tests.properties.support import DATES, FORMS, NUMBERS, attempt, hostile_text, maybe, other_ids, posted

MAX = Decimal("9999999.99")


def _numbers() -> st.SearchStrategy[str]:
    return st.sampled_from(NUMBERS) | hostile_text()


def _index() -> st.SearchStrategy[str]:
    return st.sampled_from(["0", "1", "2", "119", "120", "99999999999999999999", "-1", "a", "١", ""])


def _row(index: int | str, description: str = "Shooting photo") -> dict[str, str]:
    return {
        f"lines-{index}-description": description,
        f"lines-{index}-quantity": "2",
        f"lines-{index}-unit": "unit",
        f"lines-{index}-unit_price": "45,50",
        f"lines-{index}-vat_rate": "20",
        f"lines-{index}-kind": "manual",
    }


def _row_special(index: int | str) -> dict[str, st.SearchStrategy[str]]:
    return {
        f"lines-{index}-quantity": _numbers(),
        f"lines-{index}-unit": maybe(["unit", "hour"]),
        f"lines-{index}-unit_price": _numbers(),
        f"lines-{index}-vat_rate": _numbers() | st.sampled_from(["", "100", "100,01", "5,55"]),
        f"lines-{index}-kind": maybe(["manual", "overage", "retainer"]),
    }


def with_lines(valid: dict[str, str], special: dict | None = None) -> st.SearchStrategy[dict[str, str]]:
    """`valid` with one or two lines, a few fields made hostile; sometimes a
    row at an odd index, or more rows than an invoice may hold."""

    def build(shape: tuple[int, str | None, bool]) -> st.SearchStrategy[dict[str, str]]:
        count, odd, flood = shape
        rows, rows_special = {}, {}
        for i in range(count):
            rows |= _row(i)
            rows_special |= _row_special(i)
        if odd is not None:
            rows |= _row(odd, "Ligne à un drôle d'index")
        if flood:
            for i in range(130):
                rows |= _row(i, f"Ligne {i}")
        return posted({**valid, **rows}, {**(special or {}), **rows_special})

    odd = st.none() | st.sampled_from(["119", "120", "99999999999999999999", "-1", "a", "١", ""])
    flood = st.integers(0, 19).map(lambda n: n == 0)
    return st.tuples(st.integers(0, 2), odd, flood).flatmap(build)


def _dates() -> st.SearchStrategy[str]:
    return st.sampled_from(DATES + ["2026-10-01", ""]) | hostile_text()


def _sane_invoice(invoice: Invoice, world) -> None:
    assert invoice.client_id == world.own.id
    assert Decimal(0) <= invoice.total_ht <= MAX and Decimal(0) <= invoice.total_ttc <= MAX
    assert 0 < len(invoice.lines) <= 50
    for line in invoice.lines:
        assert line.description and line.description == line.description.strip()
        assert Decimal(0) <= line.quantity <= Decimal(99999)
        assert Decimal(0) <= line.vat_rate <= Decimal(100)
    if invoice.period_start and invoice.period_end:
        assert FIRST_DAY <= invoice.period_start <= invoice.period_end <= LAST_DAY
    assert invoice.contract_id in (None, world.contract.id)


@FORMS
@given(data=st.data())
def test_a_manual_invoice_refuses_hostile_lines(client, login_as, world, data):
    login_as(world.lead)
    contracts = {"own": str(world.contract.id), "other": str(world.other_contract.id)}
    form = data.draw(
        with_lines(
            {"title": "Shooting photo de printemps", "contract": "", "period_start": "", "period_end": ""},
            {
                "contract": st.sampled_from(["own", "other"]).map(contracts.get) | other_ids(),
                "period_start": _dates(),
                "period_end": _dates(),
            },
        )
    )
    answer, changed = attempt(client, f"/clients/{world.own.id}/invoices/new", form, secrets=world.secrets)
    if not answer.refused:
        invoice = _db.session.scalar(select(Invoice).order_by(Invoice.id.desc()).limit(1))
        _sane_invoice(invoice, world)
        assert invoice.status == InvoiceStatus.DRAFT


@FORMS
@given(data=st.data(), theirs=st.booleans())
def test_editing_a_draft_refuses_hostile_lines_and_keeps_it_whole(client, login_as, world, data, theirs):
    login_as(world.lead)
    invoice = world.other_invoice if theirs else world.draft
    before = [(line.description, line.quantity, line.unit_price) for line in world.draft.lines]
    form = data.draw(
        with_lines(
            {"title": "Shooting photo", "period_start": "", "period_end": ""}, {"period_start": _dates()}
        )
    )
    answer, changed = attempt(
        client, f"/clients/{world.own.id}/invoices/{invoice.id}/edit", form, secrets=world.secrets
    )
    _db.session.refresh(world.draft)
    if theirs:
        assert answer.status in (400, 404) and changed == []
    elif answer.refused:
        assert [(line.description, line.quantity, line.unit_price) for line in world.draft.lines] == before
    else:
        _sane_invoice(world.draft, world)


@FORMS
@given(data=st.data())
def test_a_credit_note_refuses_hostile_input(client, login_as, world, data):
    login_as(world.lead)
    form = data.draw(
        with_lines(
            {"reason": "Remise commerciale accordée", "scope": "lines"}, {"scope": maybe(["full", "lines"])}
        )
    )
    answer, changed = attempt(
        client, f"/clients/{world.own.id}/invoices/{world.issued.id}/credit-note", form, secrets=world.secrets
    )
    if not answer.refused:
        credit = _db.session.scalar(select(Invoice).order_by(Invoice.id.desc()).limit(1))
        assert credit.is_credit_note and credit.credited_invoice_id == world.issued.id
        assert Decimal(0) <= credit.total_ttc <= world.issued.total_ttc
        _db.session.delete(credit)  # one draft credit note at a time: the next example starts again
        _db.session.commit()


@FORMS
@given(reason=hostile_text(), theirs=st.booleans())
def test_cancelling_refuses_hostile_reasons_and_renders_what_it_accepts(
    client, login_as, world, reason, theirs
):
    login_as(world.lead)
    invoice = world.other_invoice if theirs else world.issued
    answer, changed = attempt(
        client,
        f"/clients/{world.own.id}/invoices/{invoice.id}/cancel",
        {"reason": reason},
        secrets=world.secrets,
    )
    if theirs:
        assert answer.status in (400, 404) and changed == []
    elif not answer.refused:
        _db.session.refresh(world.issued)
        assert world.issued.status == InvoiceStatus.CANCELLED
        credit = _db.session.scalar(select(Invoice).where(Invoice.credited_invoice_id == world.issued.id))
        assert credit.pdf_sha256 is not None, credit.render_error  # the PDF and its Factur-X XML


@FORMS
@given(decision=maybe(["confirm", "cap"]), theirs=st.booleans())
def test_the_ceiling_choice_refuses_anything_else(client, login_as, world, decision, theirs):
    login_as(world.lead)
    invoice = world.other_invoice if theirs else world.draft
    answer, changed = attempt(
        client, f"/clients/{world.own.id}/invoices/{invoice.id}/ceiling", {"decision": decision}
    )
    assert answer.refused  # a manual draft is never past a ceiling
    if theirs:
        assert answer.status in (400, 404)


@FORMS
@given(data=st.data(), theirs=st.booleans())
def test_a_payment_typed_by_the_lead_refuses_hostile_input(client, login_as, world, data, theirs):
    form = data.draw(
        posted(
            {
                "amount": "100,00",
                "received_on": today().isoformat(),
                "method": "transfer",
                "reference": "VIR 42",
            },
            {
                "amount": _numbers() | st.sampled_from(["849,60", "849,61", "0,01", "0"]),
                "received_on": _dates(),
                "method": maybe(["transfer", "card", "cheque", "other"]),
            },
        )
    )
    login_as(world.lead)
    # A new invoice each time: payments are never deleted.
    invoice = world.other_invoice if theirs else make_issued_invoice(world.own, lead=world.lead)
    _db.session.commit()
    answer, changed = attempt(
        client, f"/clients/{world.own.id}/invoices/{invoice.id}/payments", form, secrets=world.secrets
    )
    if theirs:
        assert answer.status in (400, 404) and changed == []
    elif not answer.refused:
        (payment,) = _db.session.scalars(select(Payment).where(Payment.invoice_id == invoice.id))
        assert Decimal("0.01") <= payment.amount <= invoice.total_ttc
        assert FIRST_DAY <= payment.received_on <= today()
        assert len(payment.reference) <= 120 and payment.reference == payment.reference.strip()


@FORMS
@given(
    back=maybe(["invoice", ""]),
    client_id=other_ids(),
    page=other_ids(),
    sort=maybe(["due", "amount"]),
)
def test_a_reminder_refuses_and_keeps_the_list_filters_safe(
    client, login_as, world, back, client_id, page, sort
):
    login_as(world.lead)
    form = {"back": back, "client": client_id, "page": page, "sort": sort, "overdue": "1"}
    answer, changed = attempt(client, f"/clients/{world.own.id}/invoices/{world.issued.id}/remind", form)
    assert answer.refused  # not overdue: nothing to remind


@FORMS
@given(month=st.sampled_from(DATES + ["2019-03", "2099-01"]) | hostile_text())
def test_drafting_a_month_refuses_hostile_months(client, login_as, world, month):
    login_as(world.lead)
    answer, changed = attempt(client, "/invoices/draft-month", {"month": month})
    if not answer.refused:
        assert month.strip() == "2019-03"


@FORMS
@given(ids=st.lists(st.just("other") | other_ids() | hostile_text(), max_size=4), filters=hostile_text())
def test_issuing_chosen_drafts_refuses_hostile_ids(client, login_as, world, ids, filters):
    login_as(world.lead)
    ids = [str(world.other_invoice.id) if value == "other" else value for value in ids]
    answer, changed = attempt(client, "/invoices/issue", {"ids": ids, "f_q": filters, "f_month": filters})
    lines_of_own_draft = _db.session.scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id == world.draft.id)
    )
    assert list(lines_of_own_draft)  # never touched: its id was not posted
    _db.session.refresh(world.draft)
    assert world.draft.status == InvoiceStatus.DRAFT
