"""The lead's dashboard: its figures, its lists, and a fixed number of queries."""

import html
import re
from datetime import timedelta

from app.audit.services import record
from app.clients.models import WallOverride
from app.timeutil import today
from tests.factories import (
    assign,
    make_agency_settings,
    make_client,
    make_client_user,
    make_cm,
    make_lead,
    make_user,
)

URL = "/dashboard"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def stat(page: str, label: str) -> str:
    """The figure shown above `label` in the stats row."""
    before = page.split(f'<span class="label">{label}</span>')[0]
    return before.rsplit('<span class="value">', 1)[1].split("</span>")[0]


def test_the_dashboard_counts_clients_team_and_invitations(client, login_as, db):
    lead = make_lead()
    served, unserved, _archived = make_client("Servi"), make_client("Orphelin"), make_client("Ancien")
    _archived.archived_at = today()
    cm, _gone = make_cm(), make_cm(active=False)
    assign(cm, served)
    make_client_user(served)
    make_user("cm", pending=True)
    make_client_user(unserved, pending=True)
    login_as(lead)

    response = client.get(URL)
    assert response.status_code == 200
    page = text(response)
    assert stat(page, "clients actifs") == "2"
    assert stat(page, "community managers") == "2"  # the active ones, pending included
    assert stat(page, "contacts clients") == "2"
    assert stat(page, "invitations en attente") == "2"
    unserved_card = page.split("Clients sans community manager")[1].split("</section>")[0]
    assert "Orphelin" in unserved_card
    assert "Servi" not in unserved_card and "Ancien" not in unserved_card


def test_a_client_whose_cm_left_or_was_deactivated_counts_as_unserved(client, login_as, db):
    lead = make_lead()
    left, deactivated = make_client("Parti"), make_client("Désactivé")
    assign(make_cm(), left, until=today() - timedelta(days=1))
    assign(make_cm(active=False), deactivated)
    login_as(lead)
    card = text(client.get(URL)).split("Clients sans community manager")[1].split("</section>")[0]
    assert "Parti" in card and "Désactivé" in card


def test_recent_activity_and_overrides_are_listed(client, login_as, db):
    lead = make_lead(name="Marc Lefèvre")
    lea = make_cm(name="Léa Martin")
    dupont, martin = make_client("Boulangerie Dupont"), make_client("Fromagerie Martin")
    assign(lea, dupont)
    assignment = assign(lea, martin)
    db.session.add(WallOverride(assignment=assignment, competitor_client_id=dupont.id, reason="Accord écrit"))
    record(lead, "client.created", dupont, client_id=dupont.id, summary="Client créé : Boulangerie Dupont")
    record(None, "month.locked", summary="")
    db.session.flush()
    login_as(lead)

    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text(client.get(URL))))
    assert "Léa Martin : Fromagerie Martin et Boulangerie Dupont" in page
    assert "Accord écrit" in page
    assert "Marc Lefèvre · Client créé : Boulangerie Dupont" in page
    assert "Système · Mois clôturé" in page  # no summary: the readable action


def test_an_incomplete_agency_is_flagged_until_its_settings_are_filled(client, login_as, db):
    login_as(make_lead())
    assert "Les informations de l'agence sont incomplètes" in text(client.get(URL))
    make_agency_settings()
    assert "Les informations de l'agence sont incomplètes" not in text(client.get(URL))


def test_an_empty_agency_gets_empty_states(client, login_as, db):
    login_as(make_lead())
    page = text(client.get(URL))
    assert "Chaque client actif a au moins un community manager." in page
    assert "Aucun community manager ne sert deux clients concurrents." in page


def test_the_dashboard_makes_a_fixed_number_of_queries(client, login_as, db, count_queries):
    lead = make_lead()
    make_agency_settings()
    login_as(lead)
    client.get(URL)

    def queries_with(n: int) -> int:
        for i in range(n):
            cm = make_cm(name=f"CM {i}")
            a, b = make_client(f"A{i}"), make_client(f"B{i}")
            assign(cm, a)
            db.session.add(
                WallOverride(assignment=assign(cm, b), competitor_client_id=a.id, reason=f"motif {i}")
            )
            record(cm, "client.updated", a, client_id=a.id, summary=f"n°{i}")
            make_client(f"Orphelin {i}")
        db.session.flush()
        with count_queries() as counter:
            assert client.get(URL).status_code == 200
        return counter.count

    assert queries_with(1) == queries_with(8)


def test_cm_and_client_users_get_403(client, login_as, db):
    for user in (make_cm(), make_client_user(make_client())):
        login_as(user)
        assert client.get(URL).status_code == 403


def test_each_role_lands_on_its_own_page(client, login_as, db):
    company = make_client()
    for user, target in (
        (make_lead(), "/dashboard"),
        (make_cm(), "/time"),
        (make_client_user(company), "/portal"),
    ):
        login_as(user)
        assert client.get("/").headers["Location"].endswith(target)
