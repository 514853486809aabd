"""The lead's client list: search, filters, pagination, columns, queries."""

from datetime import date, timedelta

from app.timeutil import today, utcnow
from tests.clients.conftest import page_text
from tests.factories import assign, make_client, make_client_user, make_cm, make_group, make_lead, make_user


def listed(client, query=""):
    return page_text(client.get("/clients" + query))


def test_list_shows_name_city_group_current_cms_contacts_and_status(client, login_as, db):
    group = make_group("Boulangeries d'Annecy")
    dupont = make_client("Boulangerie Dupont", city="Annecy", group=group)
    lea, paul = make_cm(name="Léa Martin"), make_cm(name="Paul Ancien")
    assign(lea, dupont)
    assign(paul, dupont, since=date(2020, 1, 1), until=today() - timedelta(days=1))
    make_client_user(dupont)
    make_client_user(dupont)
    make_client_user(dupont, active=False)
    login_as(make_lead())
    response = client.get("/clients")
    assert response.status_code == 200
    body = page_text(response)
    row = body[body.index("Boulangerie Dupont") :]
    row = row[: row.index("</tr>")]
    assert "Annecy" in row
    assert "Boulangeries d'Annecy" in row
    assert "Léa Martin" in row
    assert "Paul Ancien" not in row  # ended yesterday
    assert 'data-label="Contacts">2</td>' in row  # the deactivated contact does not count
    assert "Actif" in row


def test_search_by_name_city_and_siren_with_spaces(client, login_as, db):
    make_client("Boulangerie Dupont", city="Annecy", siren="552032534")
    make_client("Garage Leroy", city="Lyon", siren="542051180")
    login_as(make_lead())
    body = listed(client, "?q=dupont")
    assert "Boulangerie Dupont" in body and "Garage Leroy" not in body
    body = listed(client, "?q=LYON")
    assert "Garage Leroy" in body and "Boulangerie Dupont" not in body
    body = listed(client, "?q=542+051")
    assert "Garage Leroy" in body and "Boulangerie Dupont" not in body


def test_search_treats_like_wildcards_literally(client, login_as, db):
    make_client("Boulangerie Dupont")
    login_as(make_lead())
    body = listed(client, "?q=%25")
    assert "Boulangerie Dupont" not in body
    assert "Aucun client ne correspond à cette recherche." in body


def test_status_filter_active_by_default_then_archived_then_all(client, login_as, db):
    make_client("Actif SARL")
    make_client("Archivé SAS", archived_at=utcnow())
    login_as(make_lead())
    body = listed(client)
    assert "Actif SARL" in body and "Archivé SAS" not in body
    body = listed(client, "?status=archived")
    assert "Archivé SAS" in body and "Actif SARL" not in body
    body = listed(client, "?status=all")
    assert "Archivé SAS" in body and "Actif SARL" in body
    body = listed(client, "?status=nonsense")
    assert "Actif SARL" in body and "Archivé SAS" not in body


def test_group_filter_and_without_group(client, login_as, db):
    bakeries, garages = make_group("Boulangeries"), make_group("Garages")
    make_client("Boulangerie Dupont", group=bakeries)
    make_client("Garage Leroy", group=garages)
    make_client("Solo SARL")
    login_as(make_lead())
    body = listed(client, f"?group={bakeries.id}")
    assert "Boulangerie Dupont" in body and "Garage Leroy" not in body and "Solo SARL" not in body
    body = listed(client, "?group=none")
    assert "Solo SARL" in body and "Boulangerie Dupont" not in body


def test_pagination_keeps_filters(client, login_as, db, set_config):
    set_config(PER_PAGE=2)
    for name in ("Alpha", "Bravo", "Charlie", "Delta", "Echo"):
        make_client(f"{name} Annecy", city="Annecy")
    make_client("Zulu Lyon", city="Lyon")
    login_as(make_lead())
    first = client.get("/clients?q=annecy")
    body = page_text(first)
    assert "Alpha Annecy" in body and "Charlie Annecy" not in body
    assert "Page 1 sur 3" in body
    assert "q=annecy" in body and "page=2" in body
    last = listed(client, "?q=annecy&page=3")
    assert "Echo Annecy" in last and "Alpha Annecy" not in last and "Zulu Lyon" not in last
    assert "Page 3 sur 3" in last


def test_empty_states(client, login_as, db):
    login_as(make_lead())
    body = listed(client)
    assert "Aucun client pour l'instant." in body
    assert 'href="/clients/new"' in body
    make_client("Boulangerie Dupont")
    body = listed(client, "?q=garage")
    assert "Aucun client ne correspond à cette recherche." in body


def test_query_count_does_not_grow_with_the_number_of_clients(
    client, login_as, db, count_queries, set_config
):
    set_config(PER_PAGE=50)
    lead = make_lead()
    groups = [make_group(), make_group()]
    cms = [make_cm() for _ in range(3)]

    def add_clients(n):
        for i in range(n):
            c = make_client(group=groups[i % 2], city="Annecy")
            assign(cms[i % 3], c)
            assign(cms[(i + 1) % 3], c)
            make_client_user(c)
            make_user("client")  # users without a company do not matter

    login_as(lead)
    add_clients(5)
    with count_queries() as small:
        assert client.get("/clients").status_code == 200
    add_clients(25)
    with count_queries() as large:
        response = client.get("/clients")
    assert response.status_code == 200
    assert page_text(response).count("/clients/") >= 30
    assert large.count == small.count, large.statements


def test_only_leads_see_the_list(client, login_as, db):
    c = make_client()
    login_as(make_client_user(c))
    assert client.get("/clients").status_code == 403
