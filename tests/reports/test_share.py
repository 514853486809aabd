"""Share links: a secret link to a published report for someone without an
account; it expires, can be revoked, and anything but a live link is the
ordinary 404. Only the secret's hash is stored."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from app.agency.services import get_settings
from app.extensions import db as _db
from app.reports.models import ShareLink
from app.timesheets.calendar import add_months, month_start
from app.timeutil import today, utcnow
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
SHARE_URL = re.compile(r"https?://[^\s\"<]+/share/([A-Za-z0-9_\-]+)")


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def world(db):
    make_agency_settings()
    dupont = make_client("Boulangerie Dupont")
    contract = make_contract(dupont, title="Animation des réseaux")
    lead, cm = make_lead(name="Marc Lead"), make_cm(name="Léa Martin")
    assign(cm, dupont)
    sophie = make_client_user(dupont, name="Sophie Dupont")
    report = make_report(contract, LAST_MONTH)
    version = make_version(report, content=b"%PDF-1.7 version une", by=lead)
    return {"dupont": dupont, "lead": lead, "cm": cm, "sophie": sophie, "report": report, "version": version}


def show_page(report) -> str:
    return f"/clients/{report.client_id}/reports/{report.id}"


def create_link(client, report, **data) -> str:
    """Create a link as the logged-in lead; the token read from the page."""
    response = client.post(show_page(report) + "/links", data={"label": "", **data})
    assert response.status_code == 302
    page = text(client.get(show_page(report)))
    match = SHARE_URL.search(page)
    assert match, "the new link is shown once on the report's page"
    return match.group(1)


def test_a_live_link_serves_the_latest_pdf_to_anyone(client, login_as, world):
    login_as(world["lead"])
    token = create_link(client, world["report"], label="Direction", days="30")
    with client.session_transaction() as session:
        session.clear()  # an anonymous visitor
    response = client.get(f"/share/{token}")
    assert response.status_code == 200
    assert response.data == b"%PDF-1.7 version une"
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert f"rapport-boulangerie-dupont-{LAST_MONTH:%Y-%m}-v1.pdf" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["Referrer-Policy"] == "no-referrer"

    make_version(world["report"], content=b"%PDF-1.7 version deux")
    assert client.get(f"/share/{token}").data == b"%PDF-1.7 version deux"


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(client, login_as, world):
    login_as(world["lead"])
    token = create_link(client, world["report"], label="Direction", days="30")
    assert token not in text(client.get(show_page(world["report"])))  # the second time: gone
    [link] = _db.session.scalars(select(ShareLink)).all()
    assert link.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    columns = [getattr(link, c.key) for c in ShareLink.__table__.columns]
    assert not any(token in str(value) for value in columns)
    assert link.label == "Direction"


def test_the_default_duration_is_the_agencys_setting(client, login_as, world):
    get_settings().share_link_days = 45
    _db.session.flush()
    login_as(world["lead"])
    page = text(client.get(show_page(world["report"])))
    assert 'name="days"' in page and 'value="45"' in page
    create_link(client, world["report"], days="45")
    link = _db.session.scalar(select(ShareLink))
    expires = link.expires_at.replace(tzinfo=link.expires_at.tzinfo or UTC)  # SQLite keeps no offset
    assert abs(expires - (utcnow() + timedelta(days=45))) < timedelta(minutes=5)


def test_an_expired_link_is_404(client, login_as, world):
    login_as(world["lead"])
    token = create_link(client, world["report"], days="1")
    link = _db.session.scalar(select(ShareLink))
    link.expires_at = utcnow() - timedelta(seconds=1)
    _db.session.flush()
    response = client.get(f"/share/{token}")
    assert response.status_code == 404
    assert "Page introuvable" in text(response) and "Boulangerie Dupont" not in text(response)
    assert "expiré" in text(client.get(show_page(world["report"])))


def test_a_revoked_link_is_404(client, login_as, world):
    login_as(world["lead"])
    token = create_link(client, world["report"], days="30")
    link = _db.session.scalar(select(ShareLink))
    page = text(client.get(show_page(world["report"])))
    assert "Révoquer ce lien ?" in page  # a confirmation first
    response = client.post(f"{show_page(world['report'])}/links/{link.id}/revoke")
    assert "Lien révoqué" in text(client.get(response.headers["Location"]))
    assert _db.session.get(ShareLink, link.id).revoked_at is not None
    assert client.get(f"/share/{token}").status_code == 404


@pytest.mark.parametrize("token", ["inconnu", "x" * 43, "x" * 500])
def test_an_unknown_token_is_404(client, db, token):
    response = client.get(f"/share/{token}")
    assert response.status_code == 404 and "Page introuvable" in text(response)


def test_a_draft_cannot_be_shared(client, login_as, world):
    draft = make_report(world["report"].contract, add_months(LAST_MONTH, -1))
    login_as(world["lead"])
    page = text(client.post(show_page(draft) + "/links", data={"days": "30"}, follow_redirects=True))
    assert "Publiez le rapport avant de le partager." in page
    assert _db.session.scalar(select(ShareLink)) is None


@pytest.mark.parametrize(
    "days, message", [("0", "Une durée de 1 à 365 jours."), ("400", "Une durée de 1 à 365 jours.")]
)
def test_a_duration_out_of_range_is_refused(client, login_as, world, days, message):
    login_as(world["lead"])
    page = text(
        client.post(show_page(world["report"]) + "/links", data={"days": days}, follow_redirects=True)
    )
    assert message in page
    assert _db.session.scalar(select(ShareLink)) is None


def test_only_the_lead_shares_and_revokes(client, login_as, world):
    login_as(world["lead"])
    create_link(client, world["report"], days="30")
    link = _db.session.scalar(select(ShareLink))
    login_as(world["cm"])
    assert "Liens de partage" not in text(client.get(show_page(world["report"])))
    assert client.post(show_page(world["report"]) + "/links", data={"days": "30"}).status_code == 403
    assert client.post(f"{show_page(world['report'])}/links/{link.id}/revoke").status_code == 403
    login_as(world["sophie"])
    assert client.post(show_page(world["report"]) + "/links", data={"days": "30"}).status_code == 404
    assert client.post(f"{show_page(world['report'])}/links/{link.id}/revoke").status_code == 404
    assert _db.session.get(ShareLink, link.id).revoked_at is None
    assert len(_db.session.scalars(select(ShareLink)).all()) == 1


def test_a_link_is_revoked_only_through_its_own_report(client, login_as, world):
    other = make_report(make_contract(make_client("Autre SARL")), LAST_MONTH)
    make_version(other)
    login_as(world["lead"])
    create_link(client, world["report"], days="30")
    link = _db.session.scalar(select(ShareLink))
    assert client.post(f"{show_page(other)}/links/{link.id}/revoke").status_code == 404
    assert _db.session.get(ShareLink, link.id).revoked_at is None
