"""The world the property tests post into: our client (Fournil Abadie) with
its CM, its contact, a contract, time, reports and invoices; and another
client (Boulangerie Vautrin) whose ids are posted against our pages and
whose data must never appear in an answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from app.auth.models import User
from app.extensions import db as _db
from app.extensions import limiter
from app.timesheets.calendar import add_months, month_start
from app.timeutil import today
from tests.factories import (
    activity,
    assign,
    make_agency_settings,
    make_client,
    make_client_user,
    make_cm,
    make_contract,
    make_entry,
    make_invoice,
    make_issued_invoice,
    make_lead,
    make_report,
    make_version,
)


@dataclass
class World:
    lead: User
    cm: User  # serves `own`
    member: User  # a contact of `own`
    other_member: User  # a contact of `other`
    own: Any
    other: Any
    contract: Any  # own's retainer
    other_contract: Any
    entry: Any  # the CM's time on own, last month
    other_entry: Any
    draft: Any  # a manual draft invoice of own
    issued: Any  # an issued invoice of own, its PDF stored
    other_invoice: Any
    report: Any  # own's report of this month (draft)
    published: Any  # own's report of last month, published
    other_report: Any
    secrets: list[str] = field(default_factory=list)  # what of `other` must never show


@pytest.fixture
def world(app, db) -> World:
    limiter.reset()
    make_agency_settings()
    lead = make_lead(name="Marc Lead")
    cm = make_cm(name="Léa Martin")
    first = month_start(today())
    last_month = add_months(first, -1)
    own = make_client(
        "Fournil Abadie",
        siren="732829320",
        address_line="3 rue du Lac",
        postal_code="74000",
        city="Annecy",
        billing_email="compta@fournil-abadie.example",
    )
    other = make_client(
        "Boulangerie Vautrin",
        siren="552100554",
        address_line="9 rue du Pâquier",
        postal_code="73000",
        city="Chambéry",
        billing_email="factures@vautrin.example",
        internal_notes="Note interne Vautrin : marge serrée",
    )
    assign(cm, own, since=date(2020, 1, 1))
    member = make_client_user(own, name="Lucie Abadie", email="lucie@fournil-abadie.example")
    other_member = make_client_user(other, name="Sophie Vautrin", email="sophie@vautrin.example")
    contract = make_contract(own, title="Animation Fournil", start=date(2025, 1, 1))
    other_contract = make_contract(other, title="Contrat Vautrin Premium", start=date(2025, 1, 1))
    activity()  # the default activities
    entry = make_entry(contract, cm, last_month + timedelta(days=2), 60)
    entry.note = "Posts de la semaine"
    other_cm = make_cm(name="Paul Vautrin-Ami")
    assign(other_cm, other, since=date(2020, 1, 1))
    other_entry = make_entry(other_contract, other_cm, last_month + timedelta(days=2), 90)
    other_entry.note = "Galette des rois Vautrin-42"
    report = make_report(contract, first, highlights="Bon mois")
    published = make_report(contract, last_month, highlights="Mois publié")
    make_version(published, by=lead)
    other_report = make_report(other_contract, last_month, highlights="Faits marquants Vautrin-77")
    make_version(other_report, by=lead)
    draft = make_invoice(own, lead=lead, title="Shooting photo")
    issued = make_issued_invoice(own, lead=lead, title="Forfait Abadie")
    other_invoice = make_issued_invoice(
        other,
        lead=lead,
        title="Forfait Vautrin-Premium",
        lines=(("Forfait Vautrin-Premium", "1", "708.00", "20.00"),),
    )
    _db.session.commit()
    return World(
        lead=lead,
        cm=cm,
        member=member,
        other_member=other_member,
        own=own,
        other=other,
        contract=contract,
        other_contract=other_contract,
        entry=entry,
        other_entry=other_entry,
        draft=draft,
        issued=issued,
        other_invoice=other_invoice,
        report=report,
        published=published,
        other_report=other_report,
        secrets=[
            "Boulangerie Vautrin",
            "552100554",
            "vautrin.example",
            "Sophie Vautrin",
            "Note interne Vautrin",
            "Contrat Vautrin Premium",
            "Galette des rois Vautrin-42",
            "Faits marquants Vautrin-77",
            "Forfait Vautrin-Premium",
        ],
    )
