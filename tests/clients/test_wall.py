"""Assigning CMs, the competitor wall and its overrides, ending assignments."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.clients.assignments import assign_cm, end_assignment
from app.clients.errors import ClientError, CompetitorConflict
from app.clients.models import CMAssignment, WallOverride
from app.timeutil import today
from tests.clients.conftest import page_text
from tests.factories import assign, make_client, make_client_user, make_cm, make_group, make_lead

REASON = "Clientèles distinctes, accord écrit des deux gérants."


@pytest.fixture
def bakeries(db):
    lead = make_lead(name="Marc Dubois")
    marie = make_cm(name="Marie Curie")
    group = make_group("Boulangeries d'Annecy")
    dupont = make_client("Boulangerie Dupont", group=group)
    rose = make_client("Pâtisserie Rose", group=group)
    other = make_client("Garage Leroy")
    assign(marie, dupont)
    return lead, marie, group, dupont, rose, other


def count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# -- service ------------------------------------------------------------------------------


def test_assign_refuses_a_user_who_is_not_a_cm(db):
    lead, target = make_lead(), make_client()
    with pytest.raises(ClientError, match="Seul un community manager"):
        assign_cm(lead, target, make_lead(), today())
    with pytest.raises(ClientError, match="Seul un community manager"):
        assign_cm(lead, target, make_client_user(target), today())


def test_assign_refuses_an_inactive_cm(db):
    with pytest.raises(ClientError, match="désactivé"):
        assign_cm(make_lead(), make_client(), make_cm(active=False), today())


def test_only_a_lead_assigns(db):
    cm = make_cm()
    with pytest.raises(ClientError, match="responsable"):
        assign_cm(make_cm(), make_client(), cm, today())


def test_assign_refuses_an_overlapping_duplicate_but_not_a_later_period(db):
    lead, cm, target = make_lead(), make_cm(name="Léa"), make_client()
    assign(cm, target, since=date(2024, 1, 1), until=date(2024, 6, 30))
    with pytest.raises(ClientError, match="déjà affecté"):
        assign_cm(lead, target, cm, date(2024, 6, 30))
    with pytest.raises(ClientError, match="déjà affecté"):
        assign_cm(lead, target, cm, date(2023, 1, 1), date(2024, 1, 1))
    later = assign_cm(lead, target, cm, date(2024, 7, 1))
    assert later.id is not None


def test_conflict_without_reason_is_refused_and_nothing_is_saved(bakeries, db):
    lead, marie, group, dupont, rose, other = bakeries
    before = count(db, AuditEntry)
    with pytest.raises(CompetitorConflict) as caught:
        assign_cm(lead, rose, marie, today())
    assert caught.value.competitors == [dupont]
    assert caught.value.message == "Marie Curie sert déjà Boulangerie Dupont, concurrente de ce client."
    with pytest.raises(CompetitorConflict):
        assign_cm(lead, rose, marie, today(), override_reason="   court  ")
    assert count(db, CMAssignment, CMAssignment.client_id == rose.id) == 0
    assert count(db, WallOverride) == 0
    assert count(db, AuditEntry) == before


def test_no_conflict_with_a_competitor_served_in_another_period(bakeries, db):
    lead, marie, group, dupont, rose, other = bakeries
    past = make_cm()
    assign(past, dupont, since=date(2020, 1, 1), until=date(2020, 12, 31))
    assignment = assign_cm(lead, rose, past, date(2021, 1, 1))
    assert assignment.overrides == []
    # Nor with a client outside the group.
    assign_cm(lead, other, marie, today())


def test_conflict_with_a_future_period_is_caught(bakeries, db):
    lead, marie, group, dupont, rose, other = bakeries
    cm = make_cm()
    assign(cm, dupont, since=today() + timedelta(days=30))
    with pytest.raises(CompetitorConflict):
        assign_cm(lead, rose, cm, today())
    # Ending before the other starts is fine.
    assign_cm(lead, rose, cm, today(), today() + timedelta(days=29))


def test_override_by_a_lead_records_rows_and_audit_on_both_clients(bakeries, db):
    lead, marie, group, dupont, rose, other = bakeries
    third = make_client("Boulangerie Tiers", group=group)
    assign(marie, third)
    assignment = assign_cm(lead, rose, marie, today(), override_reason=f"  {REASON}  ")
    overrides = db.session.scalars(select(WallOverride).order_by(WallOverride.competitor_client_id)).all()
    assert [o.competitor_client_id for o in overrides] == sorted([dupont.id, third.id])
    assert all(o.assignment_id == assignment.id and o.reason == REASON for o in overrides)
    assert all(o.created_by_id == lead.id for o in overrides)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "wall.override")).all()
    assert sorted(e.client_id for e in entries) == sorted([rose.id, dupont.id, rose.id, third.id])
    assert all(e.reason == REASON and e.actor_id == lead.id for e in entries)
    created = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "assignment.created")).one()
    assert created.client_id == rose.id


# -- views --------------------------------------------------------------------------------


def test_conflict_form_explains_in_french_and_asks_for_a_reason(bakeries, client, login_as, db):
    lead, marie, group, dupont, rose, other = bakeries
    login_as(lead)
    response = client.post(
        f"/clients/{rose.id}/assignments", data={"cm": marie.id, "since": today().isoformat()}
    )
    assert response.status_code == 200
    body = page_text(response)
    assert "Marie Curie sert déjà Boulangerie Dupont, concurrente de ce client." in body
    assert "Motif de la dérogation" in body
    assert 'name="override_reason"' in body
    assert count(db, CMAssignment, CMAssignment.client_id == rose.id) == 0
    assert count(db, WallOverride) == 0


def test_a_too_short_reason_is_refused_with_a_message(bakeries, client, login_as, db):
    lead, marie, group, dupont, rose, other = bakeries
    login_as(lead)
    data = {"cm": marie.id, "since": today().isoformat(), "override_reason": "parce que"}
    body = page_text(client.post(f"/clients/{rose.id}/assignments", data=data))
    assert "Expliquez le motif en au moins 10 caractères." in body
    assert count(db, CMAssignment, CMAssignment.client_id == rose.id) == 0


def test_lead_overrides_with_a_reason_through_the_form(bakeries, client, login_as, db):
    lead, marie, group, dupont, rose, other = bakeries
    login_as(lead)
    data = {"cm": marie.id, "since": today().isoformat(), "override_reason": REASON}
    response = client.post(f"/clients/{rose.id}/assignments", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert "Marie Curie est affecté(e) à ce client." in page_text(response)
    [override] = db.session.scalars(select(WallOverride)).all()
    assert override.competitor_client_id == dupont.id and override.reason == REASON
    clients = db.session.scalars(
        select(AuditEntry.client_id).where(AuditEntry.action == "wall.override")
    ).all()
    assert sorted(clients) == sorted([rose.id, dupont.id])
    # The CM now sees both, without any word of the override.
    login_as(marie)
    for target in (dupont, rose):
        body = page_text(client.get(f"/clients/{target.id}"))
        assert REASON not in body and "Dérogation" not in body


def test_assign_form_errors_are_in_french(bakeries, client, login_as, db):
    lead, marie, group, dupont, rose, other = bakeries
    login_as(lead)
    body = page_text(client.post(f"/clients/{other.id}/assignments", data={"cm": "", "since": ""}))
    assert "Choisissez un community manager." in body
    assert "Indiquez une date de début valide." in body
    data = {"cm": marie.id, "since": "2025-03-10", "until": "2025-03-01"}
    body = page_text(client.post(f"/clients/{other.id}/assignments", data=data))
    assert "La date de fin précède la date de début." in body
    assert count(db, CMAssignment, CMAssignment.client_id == other.id) == 0


def test_assigning_through_the_page_gives_the_cm_access(bakeries, client, login_as, db):
    lead, marie, group, dupont, rose, other = bakeries
    login_as(marie)
    assert client.get(f"/clients/{other.id}").status_code == 404
    login_as(lead)
    response = client.post(
        f"/clients/{other.id}/assignments", data={"cm": marie.id, "since": today().isoformat()}
    )
    assert response.status_code == 302
    login_as(marie)
    assert client.get(f"/clients/{other.id}").status_code == 200


def test_a_cm_may_not_assign(bakeries, client, login_as, db):
    lead, marie, group, dupont, rose, other = bakeries
    login_as(marie)
    response = client.post(f"/clients/{dupont.id}/assignments", data={"cm": marie.id, "since": "2030-01-01"})
    assert response.status_code == 403
    assert count(db, CMAssignment, CMAssignment.since == date(2030, 1, 1)) == 0


def test_ending_an_assignment_removes_access_from_the_next_request(bakeries, client, login_as, db):
    lead, marie, group, dupont, rose, other = bakeries
    [assignment] = dupont.assignments
    login_as(marie)
    assert client.get(f"/clients/{dupont.id}").status_code == 200
    login_as(lead)
    response = client.post(f"/clients/{dupont.id}/assignments/{assignment.id}/end", follow_redirects=True)
    assert "Marie Curie n'a plus accès à ce client." in page_text(response)
    db.session.refresh(assignment)
    assert assignment.until == today() - timedelta(days=1)
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "assignment.ended")).all()
    assert entry.client_id == dupont.id and entry.object_id == assignment.id
    login_as(marie)
    assert client.get(f"/clients/{dupont.id}").status_code == 404
    assert "Boulangerie Dupont" not in page_text(client.get("/my-clients"))


def test_ending_on_a_chosen_later_day_keeps_access_until_then(bakeries, client, login_as, db):
    lead, marie, group, dupont, rose, other = bakeries
    [assignment] = dupont.assignments
    last_day = today() + timedelta(days=10)
    login_as(lead)
    response = client.post(
        f"/clients/{dupont.id}/assignments/{assignment.id}/end", data={"until": last_day.isoformat()}
    )
    assert response.status_code == 302
    db.session.refresh(assignment)
    assert assignment.until == last_day
    login_as(marie)
    assert client.get(f"/clients/{dupont.id}").status_code == 200


def test_ending_before_the_start_is_refused(bakeries, client, login_as, db):
    lead, marie, group, dupont, rose, other = bakeries
    [assignment] = dupont.assignments
    login_as(lead)
    response = client.post(
        f"/clients/{dupont.id}/assignments/{assignment.id}/end",
        data={"until": "2019-12-31"},
        follow_redirects=True,
    )
    assert "La fin ne peut pas précéder le début de l'affectation" in page_text(response)
    db.session.refresh(assignment)
    assert assignment.until is None


def test_ending_now_an_assignment_that_has_not_started_cancels_it(bakeries, db):
    lead, marie, group, dupont, rose, other = bakeries
    future = assign_cm(lead, other, marie, today() + timedelta(days=5))
    future_id = future.id
    assert end_assignment(lead, other, future) is None
    assert db.session.get(CMAssignment, future_id) is None
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "assignment.cancelled")).one()


def test_an_ended_assignment_cannot_be_ended_again(bakeries, db):
    lead, marie, group, dupont, rose, other = bakeries
    [assignment] = dupont.assignments
    end_assignment(lead, dupont, assignment)
    with pytest.raises(ClientError, match="déjà terminée"):
        end_assignment(lead, dupont, assignment)


def test_an_assignment_of_another_client_in_the_url_is_404(bakeries, client, login_as, db):
    lead, marie, group, dupont, rose, other = bakeries
    [assignment] = dupont.assignments
    login_as(lead)
    response = client.post(f"/clients/{other.id}/assignments/{assignment.id}/end")
    assert response.status_code == 404
    db.session.refresh(assignment)
    assert assignment.until is None
    with pytest.raises(ClientError):
        end_assignment(lead, other, assignment)


def test_a_cm_may_not_end_an_assignment(bakeries, client, login_as, db):
    lead, marie, group, dupont, rose, other = bakeries
    [assignment] = dupont.assignments
    login_as(marie)
    assert client.post(f"/clients/{dupont.id}/assignments/{assignment.id}/end").status_code == 403
    db.session.refresh(assignment)
    assert assignment.until is None
