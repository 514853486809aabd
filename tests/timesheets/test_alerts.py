from datetime import date

from sqlalchemy import select

from app.timesheets.alerts import check_inactivity
from app.timesheets.models import BudgetAlert
from app.timesheets.services import log_time
from tests.factories import activity, assign, make_client, make_cm, make_contract, make_entry, make_lead


def test_leads_get_one_mail_per_threshold_and_month(app, db, outbox):
    make_lead(email="marc@agence.test")
    cm = make_cm()
    customer = make_client("Fromagerie Martin")
    assign(cm, customer)
    contract = make_contract(customer, included_hours=10, start=date(2026, 1, 1))
    with app.test_request_context():
        log_time(cm, contract, day=date(2026, 10, 1), minutes=7 * 60, activity=activity())
        db.session.commit()
        assert outbox.messages == []
        log_time(cm, contract, day=date(2026, 10, 2), minutes=60, activity=activity())  # 80 %
        db.session.commit()
        log_time(cm, contract, day=date(2026, 10, 5), minutes=30, activity=activity())  # still 85 %
        db.session.commit()
        log_time(cm, contract, day=date(2026, 10, 6), minutes=120, activity=activity())  # 105 %
        db.session.commit()
    subjects = [m["Subject"] for m in outbox.messages]
    assert subjects == [
        "Fromagerie Martin : 80 % du budget de 10/2026 atteint",
        "Fromagerie Martin : 100 % du budget de 10/2026 atteint",
    ]
    assert outbox.messages[0]["To"] == "marc@agence.test"
    assert "8 h sur 10 h incluses" in outbox.body(outbox.messages[0])
    assert set(db.session.scalars(select(BudgetAlert.threshold))) == {80, 100}


def test_a_cm_is_reminded_of_a_client_silent_for_two_working_days(app, db, outbox):
    cm = make_cm(email="lea@agence.test")
    garage, bakery = make_client("Garage Leroy"), make_client("Boulangerie Dupont")
    assign(cm, garage)
    assign(cm, bakery)
    make_contract(garage, start=date(2026, 1, 1))
    bakery_contract = make_contract(bakery, start=date(2026, 1, 1))
    # Tuesday 13 October: the two working days before are Friday 9 and Monday 12.
    make_entry(bakery_contract, cm, date(2026, 10, 12), 60)
    assert check_inactivity(date(2026, 10, 13)) == 1
    db.session.commit()
    assert check_inactivity(date(2026, 10, 13)) == 0  # once a day
    db.session.commit()
    assert len(outbox.messages) == 1
    message = outbox.messages[0]
    assert message["To"] == "lea@agence.test"
    assert "Garage Leroy" in message["Subject"]
    assert "Boulangerie Dupont" not in outbox.body(message)


def test_no_reminder_on_weekends_and_public_holidays(db):
    cm = make_cm()
    customer = make_client()
    assign(cm, customer)
    make_contract(customer, start=date(2026, 1, 1))
    assert check_inactivity(date(2026, 10, 17)) == 0  # Saturday
    assert check_inactivity(date(2026, 11, 11)) == 0  # Armistice


def test_each_lead_gets_the_alert_in_its_own_language(app, db, outbox):
    make_lead(email="marc@agence.test")
    anna = make_lead(email="anna@agence.test")
    anna.locale = "en"
    cm = make_cm()
    customer = make_client("Fromagerie Martin")
    assign(cm, customer)
    contract = make_contract(customer, included_hours=10, start=date(2026, 1, 1))
    with app.test_request_context():
        log_time(cm, contract, day=date(2026, 10, 1), minutes=8 * 60, activity=activity())
        db.session.commit()
    by_recipient = {m["To"]: outbox.body(m) for m in outbox.messages}
    assert "a atteint 80 % de ses heures incluses pour octobre 2026" in by_recipient["marc@agence.test"]
    assert "has reached 80% of its included hours for October 2026" in by_recipient["anna@agence.test"]
