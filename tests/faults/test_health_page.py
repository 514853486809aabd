"""The lead's health page without Redis (jobs in-process): what it says,
the last month close, the last Stripe webhook, who may see it."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime

from app.payments.models import StripeEvent
from app.reports.models import MonthClose, RenderState
from tests.factories import make_client, make_client_user, make_cm, make_contract, make_lead, make_report

OCTOBER = date(2026, 10, 1)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_without_redis_the_page_says_jobs_run_in_the_web_process_and_shows_the_rest(db, login_as):
    lead = make_lead(name="Marc Lead")
    client = make_client("Boulangerie Dupont")
    contract = make_contract(client)
    other = make_contract(make_client("Fromagerie Martin"))
    make_report(contract, OCTOBER).render_state = RenderState.FAILED
    make_report(other, OCTOBER).render_state = RenderState.QUEUED
    db.session.add(MonthClose(month=date(2026, 9, 1), started_by_id=lead.id, contracts=1))
    db.session.add(MonthClose(month=OCTOBER, started_by_id=lead.id, contracts=2))
    db.session.add_all(
        [
            StripeEvent(
                id="evt_old",
                type="checkout.session.completed",
                payload={},
                received_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
                processed_at=datetime(2026, 11, 2, 9, 0, 1, tzinfo=UTC),
            ),
            StripeEvent(
                id="evt_new",
                type="payment_intent.succeeded",
                payload={},
                received_at=datetime(2026, 11, 3, 10, 30, tzinfo=UTC),
                error="InvoiceError: facture introuvable",
            ),
        ]
    )
    db.session.commit()

    page = login_as(lead).get("/health")
    assert page.status_code == 200
    text = text_of(page)
    assert "les tâches s'exécutent dans le processus web" in text
    assert "Redis injoignable" not in text and "Tâches en échec" not in text
    # the last close, with where its reports are
    assert "octobre 2026" in text and "septembre 2026" not in text
    assert "0 prêts sur 2" in text and "1 en échec" in text and "1 en attente" in text
    assert "Marc Lead" in text and "/time/close/2026-10" in text
    # the last webhook, with its failure
    assert "payment_intent.succeeded" in text and "checkout.session.completed" not in text
    assert "en échec" in text and "InvoiceError: facture introuvable" in text


def test_empty_states_and_the_nav_link(db, login_as):
    lead = make_lead()
    db.session.commit()
    page = login_as(lead).get("/health")
    text = text_of(page)
    assert "Aucun mois clôturé pour l'instant." in text
    assert "Aucun webhook reçu." in text
    assert 'href="/health"' in login_as(lead).get("/dashboard").get_data(as_text=True)


def test_only_the_lead_sees_it_or_retries(db, login_as, client):
    cm = make_cm()
    member = make_client_user(make_client())
    db.session.commit()
    for user in (cm, member):
        assert login_as(user).get("/health").status_code == 403
        assert login_as(user).post("/health/jobs/invoice-1/retry").status_code == 403
    assert 'href="/health"' not in text_of(login_as(cm).get("/time/day"))
    with client.session_transaction() as session:
        session.clear()
    assert client.get("/health").status_code == 302  # to the login page


def test_without_redis_there_is_nothing_to_retry(db, login_as):
    lead = make_lead()
    db.session.commit()
    answer = login_as(lead).post("/health/jobs/invoice-1/retry", follow_redirects=True)
    assert answer.status_code == 200
    assert "il n'y a rien à relancer" in text_of(answer)
