from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.contracts.models import Contract, ContractTerms
from app.timesheets.models import MonthLock
from tests.factories import assign, make_client, make_cm, make_contract, make_entry, make_lead

RETAINER = {
    "title": "Community management",
    "start_date": "2026-10-01",
    "channels": ["facebook", "instagram"],
    "billing_model": "retainer_overage",
    "monthly_fee": "708,00",
    "included_hours": "30",
    "hourly_rate": "45",
    "budget_ceiling": "1 000,00 €",
    "vat_rate": "20",
}


def test_lead_creates_the_typical_retainer(client, login_as, db):
    customer = make_client("Fromagerie Martin")
    login_as(make_lead())
    response = client.post(f"/clients/{customer.id}/contracts/new", data=RETAINER)
    assert response.status_code == 302
    contract = db.session.scalar(select(Contract).where(Contract.client_id == customer.id))
    terms = contract.terms[0]
    assert (terms.monthly_fee, terms.included_minutes, terms.hourly_rate, terms.budget_ceiling) == (
        Decimal("708.00"),
        1800,
        Decimal("45.00"),
        Decimal("1000.00"),
    )
    assert contract.channels == ["facebook", "instagram"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "708,00" in page and "Fromagerie Martin" in page
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contract.created"))


def test_bad_contract_input_gets_french_messages_and_saves_nothing(client, login_as, db):
    customer = make_client()
    login_as(make_lead())
    data = dict(RETAINER, monthly_fee="-5", hourly_rate="", budget_ceiling="beaucoup", end_date="2026-09-01")
    body = client.post(f"/clients/{customer.id}/contracts/new", data=data).get_data(as_text=True)
    assert "ne peut pas être négatif" in body
    assert "Indiquez le taux horaire" in body
    assert "Saisissez un nombre" in body
    assert "précède la date de début" in body
    assert db.session.scalar(select(Contract.id)) is None


def test_new_terms_from_a_month_leave_past_months_alone(client, login_as, db):
    contract = make_contract(make_client(), start=date(2026, 1, 1))
    login_as(make_lead())
    url = f"/clients/{contract.client_id}/contracts/{contract.id}/terms/new"
    data = dict(RETAINER, effective_month="2026-12", billing_model="retainer", monthly_fee="800")
    assert client.post(url, data=data).status_code == 302
    months = [
        t.effective_from
        for t in db.session.scalars(select(ContractTerms).order_by(ContractTerms.effective_from))
    ]
    assert months == [date(2026, 1, 1), date(2026, 12, 1)]


def test_terms_cannot_start_in_a_closed_month(client, login_as, db):
    contract = make_contract(make_client(), start=date(2026, 1, 1))
    lead = make_lead()
    login_as(lead)
    client.post(f"/clients/{contract.client_id}/contracts/{contract.id}/months/2026-10/lock")
    data = dict(RETAINER, effective_month="2026-10", billing_model="retainer")
    body = client.post(
        f"/clients/{contract.client_id}/contracts/{contract.id}/terms/new", data=data
    ).get_data(as_text=True)
    assert "clôturé" in body
    assert len(db.session.scalars(select(ContractTerms)).all()) == 1


def test_lock_and_reopen_a_month_from_the_contract_page(client, login_as, db):
    contract = make_contract(make_client(), start=date(2026, 1, 1))
    login_as(make_lead())
    base = f"/clients/{contract.client_id}/contracts/{contract.id}/months/2026-10"
    client.post(f"{base}/lock")
    assert db.session.scalar(select(MonthLock.month)) == date(2026, 10, 1)
    response = client.post(f"{base}/reopen", data={"reason": ""}, follow_redirects=True)
    assert "motif" in response.get_data(as_text=True)
    assert db.session.scalar(select(MonthLock.id)) is not None
    client.post(f"{base}/reopen", data={"reason": "Erreur de saisie à corriger"})
    assert db.session.scalar(select(MonthLock.id)) is None
    assert (
        client.post(f"/clients/{contract.client_id}/contracts/{contract.id}/months/2026-13/lock").status_code
        == 404
    )


def test_contract_page_shows_budget_and_margin_to_the_lead_only(client, login_as, db):
    cm = make_cm()
    cm.cost_rate = Decimal("20")
    customer = make_client()
    assign(cm, customer)
    contract = make_contract(customer, start=date(2026, 1, 1))
    make_entry(contract, cm, date(2026, 10, 5), 600)
    login_as(make_lead())
    page = client.get(f"/clients/{customer.id}/contracts/{contract.id}?month=2026-10").get_data(as_text=True)
    assert "10 h" in page and "marge" in page
    login_as(cm)
    assert client.get(f"/clients/{customer.id}/contracts/{contract.id}").status_code == 403


def test_a_contract_of_another_client_is_not_found(client, login_as, db):
    contract = make_contract(make_client())
    other = make_client()
    login_as(make_lead())
    assert client.get(f"/clients/{other.id}/contracts/{contract.id}").status_code == 404


def test_budget_overview_lists_the_most_at_risk_first(client, login_as, db):
    from app.timeutil import today

    cm = make_cm()
    hot = make_contract(make_client("Chaud"), included_hours=2, start=date(2026, 1, 1))
    calm = make_contract(make_client("Calme"), included_hours=2000, start=date(2026, 1, 1))
    day = today().replace(day=1)
    make_entry(hot, cm, day, 150)  # past 100 % of 2 h
    make_entry(calm, cm, day, 60)
    login_as(make_lead())
    page = client.get("/budgets").get_data(as_text=True)
    assert page.index("Chaud") < page.index("Calme")
    assert "Dépassé" in page


def test_budget_overview_query_count_does_not_grow_with_contracts(client, login_as, db, count_queries):
    from app.timeutil import today

    cm = make_cm()
    login_as(make_lead())
    counts = []
    for batch in (3, 30):
        for i in range(batch):
            contract = make_contract(make_client(f"Client {batch}-{i}"), start=date(2026, 1, 1))
            make_entry(contract, cm, today().replace(day=1), 60)
        with count_queries() as counter:
            assert client.get("/budgets").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]
    assert counts[1] <= 15
