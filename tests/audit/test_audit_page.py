"""The audit log page: newest first, readable, filters, pagination, leads only,
and no way to change it."""

import html
import re
from datetime import UTC, datetime

import pytest

from app.audit.services import record
from tests.factories import make_client, make_client_user, make_cm, make_lead

URL = "/audit"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def rows(response) -> list[str]:
    """The table rows' text, in page order."""
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr>(.*?)</tr>", text(response), flags=re.S)[1:]  # [0] is the header
    ]


def entry(db, actor, action, *, client=None, summary="", reason=None, at=None):
    e = record(actor, action, client, client_id=client.id if client else None, summary=summary, reason=reason)
    if at is not None:
        e.at = at
    db.session.flush()
    return e


@pytest.fixture
def log(db):
    """A small log: two clients, two actors, the system."""
    marc, lea = make_lead(name="Marc Lefèvre"), make_cm(name="Léa Martin")
    dupont, martin = make_client("Boulangerie Dupont"), make_client("Fromagerie Martin")
    entry(
        db,
        marc,
        "client.created",
        client=dupont,
        summary="Client créé : Dupont",
        at=datetime(2026, 10, 1, 8, tzinfo=UTC),
    )
    entry(
        db,
        marc,
        "assignment.created",
        client=martin,
        summary="Léa affectée",
        at=datetime(2026, 10, 15, 9, tzinfo=UTC),
    )
    entry(
        db,
        marc,
        "wall.override",
        client=martin,
        summary="Dérogation : Léa sert Dupont et Martin",
        reason="Accord écrit des deux gérants",
        at=datetime(2026, 10, 15, 9, 30, tzinfo=UTC),
    )
    entry(db, None, "month.locked", summary="Octobre clôturé", at=datetime(2026, 11, 1, 2, tzinfo=UTC))
    entry(db, lea, "custom.unknown_action", summary="Quelque chose", at=datetime(2026, 11, 2, 10, tzinfo=UTC))
    return {"marc": marc, "lea": lea, "dupont": dupont, "martin": martin}


def test_the_log_is_shown_newest_first_with_readable_labels(client, login_as, log):
    login_as(log["marc"])
    response = client.get(URL)
    assert response.status_code == 200
    found = rows(response)
    assert [r.split(" ")[0] for r in found] == [
        "02/11/2026",
        "01/11/2026",
        "15/10/2026",
        "15/10/2026",
        "01/10/2026",
    ]
    assert "Système" in found[1] and "Mois clôturé" in found[1]
    assert "Dérogation au mur éthique" in found[2]
    assert "Motif : Accord écrit des deux gérants" in found[2]
    assert "Fromagerie Martin" in found[2]
    assert "Client créé" in found[4] and "Boulangerie Dupont" in found[4]
    assert "custom.unknown_action" in found[0]  # unknown actions show raw
    assert f'href="/clients/{log["martin"].id}"' in text(response)


def test_times_are_shown_in_paris_time(client, login_as, log):
    login_as(log["marc"])
    # 2026-10-15 09:30 UTC is 11:30 in Paris (summer time); 2026-11-01 02:00 UTC is 03:00 (winter).
    page = text(client.get(URL))
    assert "15/10/2026 11:30" in page
    assert "01/11/2026 03:00" in page


def test_filter_by_client(client, login_as, log):
    login_as(log["marc"])
    found = rows(client.get(URL, query_string={"client": log["martin"].id}))
    assert len(found) == 2
    assert all("Fromagerie Martin" in r for r in found)


def test_filter_by_actor_and_by_system(client, login_as, log):
    login_as(log["marc"])
    found = rows(client.get(URL, query_string={"actor": log["lea"].id}))
    assert len(found) == 1 and "Léa Martin" in found[0]
    found = rows(client.get(URL, query_string={"actor": "system"}))
    assert len(found) == 1 and "Octobre clôturé" in found[0]


def test_filter_by_action(client, login_as, log):
    login_as(log["marc"])
    response = client.get(URL, query_string={"action": "wall.override"})
    found = rows(response)
    assert len(found) == 1 and "Accord écrit" in found[0]
    assert '<option value="wall.override" selected>Dérogation au mur éthique</option>' in text(response)


def test_filter_by_dates_is_inclusive_in_paris_days(client, login_as, log):
    login_as(log["marc"])
    found = rows(client.get(URL, query_string={"from": "2026-10-15", "to": "2026-10-15"}))
    assert len(found) == 2
    found = rows(client.get(URL, query_string={"from": "2026-11-01"}))
    assert len(found) == 2
    found = rows(client.get(URL, query_string={"to": "2026-10-01"}))
    assert len(found) == 1 and "Client créé" in found[0]


def test_the_day_boundary_is_midnight_in_paris_not_utc(client, login_as, db):
    lead = make_lead()
    # 23:30 UTC on 14 October is already 01:30 on the 15th in Paris.
    entry(db, lead, "client.updated", summary="Tard le soir", at=datetime(2026, 10, 14, 23, 30, tzinfo=UTC))
    login_as(lead)
    assert len(rows(client.get(URL, query_string={"from": "2026-10-15", "to": "2026-10-15"}))) == 1
    assert rows(client.get(URL, query_string={"to": "2026-10-14"})) == []


def test_filters_combine(client, login_as, log):
    login_as(log["marc"])
    found = rows(
        client.get(
            URL, query_string={"client": log["martin"].id, "action": "assignment.created", "to": "2026-10-31"}
        )
    )
    assert len(found) == 1 and "Léa affectée" in found[0]


def test_no_match_shows_an_empty_state_with_a_way_back(client, login_as, log):
    login_as(log["marc"])
    page = text(client.get(URL, query_string={"client": log["dupont"].id, "action": "wall.override"}))
    assert "Aucune entrée ne correspond à ces filtres" in page
    assert 'href="/audit">Tout afficher' in page


def test_an_empty_log_says_so(client, login_as, db):
    login_as(make_lead())
    assert "Le journal est vide" in text(client.get(URL))


def test_bad_dates_are_explained_not_crashing(client, login_as, log):
    login_as(log["marc"])
    response = client.get(URL, query_string={"from": "2026-13-45"})
    assert response.status_code == 200
    assert "Date invalide" in text(response)
    assert len(rows(response)) == 5  # the bad filter is ignored
    response = client.get(URL, query_string={"from": "2026-11-01", "to": "2026-10-01"})
    assert "La date de début est postérieure à la date de fin" in text(response)


@pytest.mark.parametrize(
    "args", [{"client": "abc"}, {"actor": "x; drop"}, {"page": "-3"}, {"client": "999999"}]
)
def test_garbage_in_the_query_string_is_harmless(client, login_as, log, args):
    login_as(log["marc"])
    assert client.get(URL, query_string=args).status_code == 200


def test_pagination_keeps_the_filters(client, login_as, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE", 3)
    lead = make_lead()
    dupont = make_client("Boulangerie Dupont")
    for i in range(7):
        entry(db, lead, "client.updated", client=dupont, summary=f"Modification {i}")
    entry(db, lead, "user.invited", summary="Autre chose")
    login_as(lead)

    first = client.get(URL, query_string={"action": "client.updated"})
    assert [r.split("Modification ")[1][0] for r in rows(first)] == ["6", "5", "4"]
    assert "Page 1 sur 3" in text(first)
    next_link = re.search(r'href="([^"]+)" rel="next"', text(first)).group(1)
    assert "action=client.updated" in next_link and "page=2" in next_link

    last = client.get(URL, query_string={"action": "client.updated", "page": 3})
    assert [r.split("Modification ")[1][0] for r in rows(last)] == ["0"]
    beyond = client.get(URL, query_string={"action": "client.updated", "page": 9})
    assert beyond.status_code == 200


def test_the_page_makes_a_fixed_number_of_queries(client, login_as, db, count_queries):
    lead = make_lead()
    login_as(lead)
    client.get(URL)  # warm up

    def queries_with(n: int) -> int:
        for i in range(n):
            actor = make_cm(name=f"CM {i}")
            entry(db, actor, "client.updated", client=make_client(f"Client {i}"), summary=f"n°{i}")
        with count_queries() as counter:
            assert client.get(URL).status_code == 200
        return counter.count

    assert queries_with(2) == queries_with(10)


@pytest.mark.parametrize("role", ["cm", "client"])
def test_non_leads_get_403(client, login_as, db, role):
    user = make_cm() if role == "cm" else make_client_user(make_client())
    login_as(user)
    assert client.get(URL).status_code == 403


def test_the_log_has_no_route_that_changes_it(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("audit.")]
    assert rules
    for rule in rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
