from datetime import date
from decimal import Decimal

from app.contracts.budget import billable_for, month_budget
from app.contracts.models import ContractTerms
from app.contracts.services import TermsInput, add_terms, terms_for_month
from app.money import minutes_amount, prorate, prorate_minutes
from tests.factories import make_client, make_cm, make_contract, make_entry, make_lead

OCT = date(2026, 10, 1)


def test_minutes_are_billed_to_the_cent_half_up():
    assert minutes_amount(90, Decimal("45.00")) == Decimal("67.50")
    assert minutes_amount(1, Decimal("45.00")) == Decimal("0.75")
    assert minutes_amount(7, Decimal("33.33")) == Decimal("3.89")  # 3.8885 -> 3.89


def test_partial_months_are_prorated_by_calendar_days():
    # Contract starting on 16 October: 16 of 31 days.
    assert prorate(Decimal("708.00"), 16, 31) == Decimal("365.42")
    assert prorate_minutes(30 * 60, 16, 31) == 929
    assert prorate(Decimal("708.00"), 31, 31) == Decimal("708.00")


def test_retainer_reports_overage_without_billing_it():
    terms = ContractTerms(
        billing_model="retainer",
        monthly_fee=Decimal("708.00"),
        included_minutes=1800,
        budget_ceiling=Decimal("708.00"),
    )
    assert billable_for(terms, 2000, Decimal("708.00"), 1800) == (Decimal("708.00"), 200, Decimal("0.00"))


def test_retainer_with_overage_bills_hours_past_the_included_ones():
    terms = ContractTerms(
        billing_model="retainer_overage",
        monthly_fee=Decimal("708.00"),
        included_minutes=1800,
        hourly_rate=Decimal("45.00"),
        budget_ceiling=Decimal("900"),
    )
    assert billable_for(terms, 1800 + 150, Decimal("708.00"), 1800) == (
        Decimal("820.50"),
        150,
        Decimal("112.50"),
    )
    assert billable_for(terms, 600, Decimal("708.00"), 1800)[0] == Decimal("708.00")


def test_hourly_bills_hours_as_the_invoice_does():
    """Hours to the hundredth, then the amount to the cent: the budget and
    the invoice line (2,08 h x 50,00 EUR) agree."""
    terms = ContractTerms(
        billing_model="hourly", hourly_rate=Decimal("50.00"), budget_ceiling=Decimal("1000")
    )
    assert billable_for(terms, 125, Decimal("0"), None)[0] == Decimal("104.00")  # 2.08 h
    assert billable_for(terms, 90, Decimal("0"), None)[0] == Decimal("75.00")
    assert billable_for(terms, 10, Decimal("0"), None)[0] == Decimal("8.50")  # 0.17 h


def test_month_budget_sums_entries_of_that_month_only(db):
    client, cm = make_client(), make_cm()
    contract = make_contract(client, start=date(2026, 1, 1))
    make_entry(contract, cm, date(2026, 10, 1), 90)
    make_entry(contract, cm, date(2026, 10, 31), 30)
    make_entry(contract, cm, date(2026, 11, 1), 600)
    make_entry(contract, cm, date(2026, 9, 30), 600)
    budget = month_budget(contract, OCT, today=date(2026, 11, 5))
    assert budget.used_minutes == 120
    assert budget.included_minutes == 1800
    assert budget.fee == Decimal("708.00")
    assert budget.hours_pct == Decimal("6.7")
    assert budget.forecast_minutes == 120  # the month is over


def test_a_contract_starting_mid_month_is_prorated(db):
    contract = make_contract(make_client(), start=date(2026, 10, 16))
    budget = month_budget(contract, OCT, today=date(2026, 11, 5))
    assert budget.active_days == 16
    assert budget.fee == Decimal("365.42")
    assert budget.included_minutes == 929
    assert budget.ceiling == Decimal("365.42")


def test_forecast_follows_the_pace_of_working_days(db):
    cm = make_cm()
    contract = make_contract(make_client(), model="retainer", start=date(2026, 1, 1))
    # October 2026: 22 working days; by Friday 9 October, 7 have passed.
    for day in (1, 2, 5, 6, 7, 8, 9):
        make_entry(contract, cm, date(2026, 10, day), 60)
    budget = month_budget(contract, OCT, today=date(2026, 10, 9))
    assert budget.working_days_total == 22
    assert budget.working_days_elapsed == 7
    assert budget.forecast_minutes == 22 * 60
    assert budget.expected_pct == Decimal("31.8")


def test_over_and_under_delivery_are_flagged(db):
    cm = make_cm()
    hot = make_contract(make_client(), included_hours=10)
    for day in (1, 2, 5, 6, 7, 8, 9, 12):
        make_entry(hot, cm, date(2026, 10, day), 60)  # 8 h of 10: 80 %
    cold = make_contract(make_client(), included_hours=30)
    make_entry(cold, cm, date(2026, 10, 1), 60)
    day20 = date(2026, 10, 20)
    assert month_budget(hot, OCT, today=day20).status == "warn"
    assert month_budget(cold, OCT, today=day20).status == "under"
    make_entry(hot, cm, date(2026, 10, 13), 120)
    assert month_budget(hot, OCT, today=day20).status == "over"


def test_new_terms_apply_from_their_month_never_before(db):
    lead = make_lead()
    contract = make_contract(make_client(), start=date(2026, 1, 1))
    add_terms(
        lead,
        contract,
        effective_month=date(2026, 11, 1),
        terms=TermsInput("retainer", Decimal("800.00"), 1800, None, Decimal("800.00"), Decimal("20.00")),
    )
    assert terms_for_month(contract, OCT).monthly_fee == Decimal("708.00")
    assert terms_for_month(contract, date(2026, 11, 1)).monthly_fee == Decimal("800.00")
    assert terms_for_month(contract, date(2027, 3, 1)).monthly_fee == Decimal("800.00")


def test_margin_uses_the_cost_rate_stored_on_each_entry(db):
    cm = make_cm()
    cm.cost_rate = Decimal("20.00")
    contract = make_contract(make_client())
    make_entry(contract, cm, date(2026, 10, 1), 90)  # cost 30.00
    cm.cost_rate = Decimal("40.00")  # a later raise does not change past entries
    make_entry(contract, cm, date(2026, 10, 2), 30)  # cost 20.00
    budget = month_budget(contract, OCT, today=date(2026, 11, 1))
    assert budget.cost == Decimal("50.00")
    assert budget.margin == Decimal("658.00")
