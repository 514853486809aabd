"""The retention period is an agency setting: 3 years unless the lead says
otherwise, from 1 to 10; changing it moves the day erasure becomes possible."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlalchemy import select

from app.agency.services import get_settings
from app.audit.models import AuditEntry
from app.extensions import db as _db
from app.lifecycle.services import retention
from tests.agency.conftest import VALID_FORM


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_lead_sets_the_retention_period(former, login_as):
    client = login_as(former.lead)
    page = text(client.get("/agency/settings"))
    assert "Conservation des données personnelles (années)" in page
    assert 'name="retention_personal_years"' in page and 'value="3"' in page
    assert "conservés 10 ans" in page

    response = client.post("/agency/settings", data={**VALID_FORM, "retention_personal_years": "5"})
    assert response.status_code == 302
    settings = get_settings()
    _db.session.refresh(settings)
    assert settings.retention_personal_years == 5
    assert retention(former.client).erasable_from == date(2026, 7, 16)
    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == "settings.updated"))
    assert "retention_personal_years" in entry.data["fields"]


@pytest.mark.parametrize(
    "value, message",
    [
        ("0", "Entre 1 et 10 ans."),
        ("11", "Entre 1 et 10 ans."),
        ("", "Indiquez la durée de conservation, en années."),
    ],
)
def test_a_retention_out_of_range_is_refused(former, login_as, value, message):
    response = login_as(former.lead).post(
        "/agency/settings", data={**VALID_FORM, "retention_personal_years": value}
    )
    assert response.status_code == 200 and message in text(response)
    settings = get_settings()
    _db.session.refresh(settings)
    assert settings.retention_personal_years == 3
