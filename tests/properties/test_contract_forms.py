"""Contracts, their terms and month locks, fed hostile amounts, hours and
dates: refused with a message, or saved with values the pages can show."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from app.contracts.models import Contract, ContractTerms
from app.extensions import db as _db
from app.fields import FIRST_DAY, LAST_DAY
from tests.properties.support import DATES, FORMS, NUMBERS, attempt, hostile_text, maybe, posted

TERMS = {
    "billing_model": "retainer_overage",
    "monthly_fee": "708,00",
    "included_hours": "30",
    "hourly_rate": "45",
    "budget_ceiling": "900",
    "vat_rate": "20",
}
MODELS = ["retainer", "retainer_overage", "hourly"]


def _terms_fields() -> dict:
    numbers = st.sampled_from(NUMBERS) | hostile_text()
    return {
        "billing_model": maybe(MODELS),
        "monthly_fee": numbers,
        "included_hours": numbers | st.sampled_from(["744", "744,01", "0,004"]),
        "hourly_rate": numbers,
        "budget_ceiling": numbers,
        "vat_rate": numbers | st.sampled_from(["100", "100,01", "5,5"]),
    }


def _sane(terms: ContractTerms) -> None:
    for amount in (terms.monthly_fee, terms.hourly_rate, terms.budget_ceiling):
        assert amount is None or Decimal(0) <= amount <= Decimal("9999999999.99")
    assert Decimal(0) <= terms.vat_rate <= Decimal(100)
    assert terms.included_minutes is None or 0 <= terms.included_minutes <= 744 * 60


def _dates() -> st.SearchStrategy[str]:
    return st.sampled_from(DATES) | hostile_text()


@FORMS
@given(data=st.data())
def test_creating_a_contract_refuses_hostile_input(client, login_as, world, data):
    login_as(world.lead)
    valid = {**TERMS, "title": "Community management", "start_date": "2026-01-01", "end_date": ""}
    form = data.draw(
        posted(
            valid,
            {
                **_terms_fields(),
                "start_date": _dates(),
                "end_date": _dates(),
                "channels": maybe(["x", "tiktok"]),
            },
        )
    )
    answer, changed = attempt(client, f"/clients/{world.own.id}/contracts/new", form)
    if not answer.refused:
        contract = _db.session.scalar(select(Contract).order_by(Contract.id.desc()).limit(1))
        assert contract.client_id == world.own.id
        assert 0 < len(contract.title) <= 160
        assert FIRST_DAY <= contract.start_date <= LAST_DAY
        assert contract.end_date is None or contract.start_date <= contract.end_date <= LAST_DAY
        _sane(contract.terms[0])


@FORMS
@given(data=st.data())
def test_editing_a_contract_refuses_hostile_input(client, login_as, world, data):
    login_as(world.lead)
    form = data.draw(
        posted(
            {"title": "Animation Fournil", "end_date": "", "channels": "facebook"},
            {"end_date": _dates(), "channels": maybe(["instagram", "myspace"])},
        )
    )
    answer, changed = attempt(client, f"/clients/{world.own.id}/contracts/{world.contract.id}/edit", form)
    if not answer.refused:
        _db.session.refresh(world.contract)
        assert world.contract.end_date is None or world.contract.end_date >= world.contract.start_date


@FORMS
@given(data=st.data())
def test_new_terms_refuse_hostile_input(client, login_as, world, data):
    login_as(world.lead)
    form = data.draw(
        posted(
            {**TERMS, "effective_month": "2027-03"},
            {
                **_terms_fields(),
                "effective_month": _dates() | st.sampled_from(["2026-12", "2100-12", "2101-01"]),
            },
        )
    )
    answer, changed = attempt(
        client, f"/clients/{world.own.id}/contracts/{world.contract.id}/terms/new", form
    )
    if not answer.refused:
        _db.session.refresh(world.contract)
        for terms in world.contract.terms:
            _sane(terms)


@FORMS
@given(
    month=_dates() | st.sampled_from(["2025-06", "2026-02"]),
    action=st.sampled_from(["lock", "reopen"]),
    reason=maybe(["Erreur de saisie"]),
)
def test_month_locks_refuse_hostile_months_and_reasons(client, login_as, world, month, action, reason):
    login_as(world.lead)
    path = month.replace("/", "%2F").replace("?", "%3F").replace("#", "%23")
    url = f"/clients/{world.own.id}/contracts/{world.contract.id}/months/{path}/{action}"
    answer, changed = attempt(client, url, {"reason": reason})
    if not answer.refused and action == "lock":
        assert changed == [] or set(changed) <= {"month_lock", "audit_entry"}


@FORMS
@given(
    contract_id=st.sampled_from(["other", "2147483648", "0"]), action=st.sampled_from(["edit", "terms/new"])
)
def test_another_clients_contract_is_not_found(client, login_as, world, contract_id, action):
    login_as(world.lead)
    if contract_id == "other":
        contract_id = str(world.other_contract.id)
    answer, changed = attempt(
        client, f"/clients/{world.own.id}/contracts/{contract_id}/{action}", {**TERMS, "title": "Volé"}
    )
    assert answer.status == 404 and changed == []
