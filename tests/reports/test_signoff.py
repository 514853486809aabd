"""The client's sign-off of a published report, from its portal: approval,
a question and its answer, and silence that counts as approval after the
agency's delay (setting `signoff_days`)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.agency.services import get_settings
from app.audit.models import AuditEntry
from app.extensions import db as _db
from app.reports.models import MessageKind, Report, ReportMessage, SignoffState
from app.timesheets.calendar import add_months, month_start
from app.timeutil import today, utcnow
from tests.agency.conftest import VALID_FORM
from tests.factories import (
    assign,
    make_agency_settings,
    make_client,
    make_client_user,
    make_cm,
    make_contract,
    make_lead,
    make_report,
    make_version,
)

LAST_MONTH = add_months(month_start(today()), -1)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def words(page: str) -> str:
    """The page's text without tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


@pytest.fixture
def world(db):
    make_agency_settings()
    dupont = make_client("Boulangerie Dupont")
    contract = make_contract(dupont, title="Animation des réseaux")
    lead, cm = make_lead(name="Marc Lead"), make_cm(name="Léa Martin")
    assign(cm, dupont)
    sophie = make_client_user(dupont, name="Sophie Dupont")
    report = make_report(contract, LAST_MONTH)
    make_version(report, by=lead)
    return {"dupont": dupont, "lead": lead, "cm": cm, "sophie": sophie, "report": report}


def portal_page(report: Report) -> str:
    return f"/clients/{report.client_id}/portal/reports/{report.id}"


def show_page(report: Report) -> str:
    return f"/clients/{report.client_id}/reports/{report.id}"


def action(report: Report, name: str) -> str:
    return f"/clients/{report.client_id}/reports/{report.id}/{name}"


def messages(report: Report) -> list[tuple[str, str]]:
    rows = _db.session.scalars(
        select(ReportMessage).where(ReportMessage.report_id == report.id).order_by(ReportMessage.id)
    )
    return [(m.kind, m.body) for m in rows]


def test_the_client_approves_its_report(client, login_as, world):
    report = world["report"]
    login_as(world["sophie"])
    response = client.post(action(report, "approve"))
    assert response.status_code == 302 and response.headers["Location"].endswith(portal_page(report))
    page = text(client.get(response.headers["Location"]))
    assert "Merci : vous avez validé ce rapport." in page
    assert "Rapport validé le" in page and "Valider le rapport" not in page
    assert "Sophie Dupont a validé le rapport" in words(page)

    report = _db.session.get(Report, report.id)
    assert report.signoff == SignoffState.APPROVED and report.signed_off_by_id == world["sophie"].id
    assert messages(report) == [(MessageKind.APPROVAL, "")]
    assert _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "report.approved")) is not None

    login_as(world["lead"])
    lead_page = text(client.get(show_page(report)))
    assert "Validé le" in lead_page


def test_a_question_is_answered_by_the_cm_then_the_client_approves(client, login_as, world):
    report = world["report"]
    login_as(world["sophie"])
    client.post(action(report, "question"), data={"body": "Pourquoi moins de posts sur Instagram ?"})
    assert _db.session.get(Report, report.id).signoff == SignoffState.QUESTION
    assert "Votre question a été transmise" in text(client.get(portal_page(report)))

    login_as(world["cm"])
    page = text(client.get(show_page(report)))
    assert "Pourquoi moins de posts sur Instagram ?" in page and "Question en cours" in page
    response = client.post(action(report, "answer"), data={"body": "La semaine du goût a pris le relais."})
    assert "Réponse envoyée au client." in text(client.get(response.headers["Location"]))
    assert _db.session.get(Report, report.id).signoff == SignoffState.PENDING

    login_as(world["sophie"])
    page = text(client.get(portal_page(report)))
    assert "La semaine du goût a pris le relais." in page and "Léa Martin a répondu" in words(page)
    client.post(action(report, "approve"))
    assert messages(report) == [
        (MessageKind.QUESTION, "Pourquoi moins de posts sur Instagram ?"),
        (MessageKind.ANSWER, "La semaine du goût a pris le relais."),
        (MessageKind.APPROVAL, ""),
    ]
    assert _db.session.get(Report, report.id).signoff == SignoffState.APPROVED


def test_an_empty_question_or_answer_is_refused_in_french(client, login_as, world):
    report = world["report"]
    login_as(world["sophie"])
    page = text(client.post(action(report, "question"), data={"body": "  "}, follow_redirects=True))
    assert "Écrivez votre question." in page
    login_as(world["lead"])
    page = text(client.post(action(report, "answer"), data={"body": ""}, follow_redirects=True))
    assert "Écrivez votre réponse." in page
    assert messages(report) == []


def test_only_the_clients_users_sign_off(client, login_as, world):
    report = world["report"]
    for user in (world["lead"], world["cm"]):
        login_as(user)
        assert client.post(action(report, "approve")).status_code == 403
        assert client.post(action(report, "question"), data={"body": "?"}).status_code == 403
    other = make_client_user(make_client("Autre SARL"))
    login_as(other)
    assert client.post(action(report, "approve")).status_code == 404
    assert _db.session.get(Report, report.id).signoff == SignoffState.PENDING


def test_a_draft_cannot_be_signed_off(client, login_as, world):
    draft = make_report(world["report"].contract, add_months(LAST_MONTH, -1))
    login_as(world["sophie"])
    assert client.post(action(draft, "approve")).status_code == 404
    assert client.post(action(draft, "question"), data={"body": "?"}).status_code == 404


def test_a_client_user_cannot_answer(client, login_as, world):
    login_as(world["sophie"])
    assert client.post(action(world["report"], "answer"), data={"body": "Moi"}).status_code == 404


def test_silence_counts_as_approval_after_the_delay(client, login_as, world):
    report = world["report"]
    report.published_at = utcnow() - timedelta(days=8)
    _db.session.flush()
    login_as(world["sophie"])
    page = text(client.get(portal_page(report)))
    assert "considéré comme validé" in page and "Valider le rapport" not in page
    assert "attend votre validation" not in text(client.get(f"/clients/{report.client_id}/portal"))
    login_as(world["lead"])
    page = text(client.get(f"/clients/{report.client_id}/reports"))
    assert "Validé" in page and "En attente de validation" not in page
    assert _db.session.get(Report, report.id).signoff == SignoffState.PENDING  # derived, not stored


def test_the_delay_is_the_agencys_setting(client, login_as, world):
    report = world["report"]
    report.published_at = utcnow() - timedelta(days=8)
    get_settings().signoff_days = 10
    _db.session.flush()
    login_as(world["sophie"])
    page = text(client.get(portal_page(report)))
    assert "Valider le rapport" in page and "En attente de validation" in page


def test_a_question_is_never_taken_for_approval(client, login_as, world):
    report = world["report"]
    login_as(world["sophie"])
    client.post(action(report, "question"), data={"body": "Une précision ?"})
    report = _db.session.get(Report, report.id)
    report.published_at = utcnow() - timedelta(days=30)
    _db.session.flush()
    assert "Question en cours" in text(client.get(portal_page(report)))


# -- the settings ---------------------------------------------------------------------------


def test_lead_sets_the_signoff_and_share_link_delays(client, login_as, world):
    login_as(world["lead"])
    page = text(client.get("/agency/settings"))
    assert "Délai de validation des rapports (jours)" in page and "Durée des liens de partage (jours)" in page
    response = client.post(
        "/agency/settings", data={**VALID_FORM, "signoff_days": "10", "share_link_days": "90"}
    )
    assert response.status_code == 302
    settings = get_settings()
    _db.session.refresh(settings)
    assert (settings.signoff_days, settings.share_link_days) == (10, 90)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("signoff_days", "0", "Entre 1 et 60 jours."),
        ("signoff_days", "61", "Entre 1 et 60 jours."),
        ("signoff_days", "", "Indiquez le délai de validation, en jours."),
        ("share_link_days", "366", "Entre 1 et 365 jours."),
        ("share_link_days", "0", "Entre 1 et 365 jours."),
    ],
)
def test_delays_out_of_range_are_refused(client, login_as, world, field, value, message):
    login_as(world["lead"])
    response = client.post("/agency/settings", data={**VALID_FORM, field: value})
    assert response.status_code == 200 and message in text(response)
    settings = get_settings()
    _db.session.refresh(settings)
    assert (settings.signoff_days, settings.share_link_days) == (7, 30)
