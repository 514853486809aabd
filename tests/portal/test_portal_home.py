"""The client's space: its own company, its CMs, the agency's details; never
another client's, never internal notes; leads preview it, CMs may not."""

import html
from datetime import date, timedelta

import pytest

from app.timeutil import today
from tests.factories import (
    assign,
    make_agency_settings,
    make_client,
    make_client_user,
    make_cm,
    make_contract,
    make_entry,
    make_group,
    make_issued_invoice,
    make_lead,
    make_report,
    make_version,
)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def portal(client_id: int) -> str:
    return f"/clients/{client_id}/portal"


@pytest.fixture
def world(db):
    bakeries = make_group("Boulangeries d'Annecy")
    dupont = make_client(
        "Boulangerie Dupont",
        group=bakeries,
        address_line="12 rue Royale",
        postal_code="74000",
        city="Annecy",
        siren="443061841",
        internal_notes="NOTE-INTERNE: marge faible, client à surveiller",
    )
    rival = make_client(
        "Boulangerie Rivale", group=bakeries, internal_notes="NOTE-RIVALE: prospect de Dupont", city="Seynod"
    )
    lea, tom, old = make_cm(name="Léa Martin"), make_cm(name="Tom Girard"), make_cm(name="Ancien CM")
    ghost = make_cm(name="CM Désactivé", active=False)
    assign(lea, dupont)
    assign(tom, dupont)
    assign(lea, rival)
    assign(old, dupont, since=date(2020, 1, 1), until=today() - timedelta(days=1))
    assign(ghost, dupont)
    only_rival = make_cm(name="Zoé Rivale")
    assign(only_rival, rival)
    sophie = make_client_user(dupont, name="Sophie Dupont")
    paul = make_client_user(rival, name="Paul Rivale")
    make_agency_settings()
    return {
        "dupont": dupont,
        "rival": rival,
        "lea": lea,
        "sophie": sophie,
        "paul": paul,
        "only_rival": only_rival,
    }


def test_client_user_sees_own_company_team_and_agency_bank_details(client, login_as, world):
    login_as(world["sophie"])
    response = client.get(portal(world["dupont"].id))
    assert response.status_code == 200
    page = text(response)
    assert "Bonjour Sophie Dupont" in page
    assert "Espace de Boulangerie Dupont" in page
    assert "12 rue Royale" in page and "74000 Annecy" in page
    assert "443 061 841" in page
    # the CMs serving the company today, by name only
    assert "Léa Martin" in page and "Tom Girard" in page
    assert "Ancien CM" not in page and "CM Désactivé" not in page
    assert world["lea"].email not in page
    # the agency's contact and bank details
    assert "Agence Relais" in page
    assert "contact@agence-relais.fr" in page
    assert "04 50 12 34 56" in page
    assert "8 avenue du Parmelan" in page
    assert "FR76 3000 6000 0112 3456 7890 189" in page
    assert "BNPAFRPP" in page
    # nothing yet: clear empty states
    assert "Aucun contrat en cours ce mois-ci" in page
    assert "Aucun rapport publié pour l'instant" in page
    assert "Aucune facture" in page
    assert "Aperçu de l'espace client" not in page


def test_the_portal_never_shows_internal_notes_competitors_or_other_clients(client, login_as, world):
    login_as(world["sophie"])
    page = text(client.get(portal(world["dupont"].id)))
    for secret in (
        "NOTE-INTERNE",
        "NOTE-RIVALE",
        "Boulangerie Rivale",
        "Boulangeries d'Annecy",
        "Zoé Rivale",
        "Paul Rivale",
        "mur éthique",
    ):
        assert secret not in page, secret


def test_client_user_gets_404_on_another_company_portal(client, login_as, world):
    login_as(world["sophie"])
    response = client.get(portal(world["rival"].id))
    assert response.status_code == 404
    assert "Boulangerie Rivale" not in text(response)


def test_an_unknown_company_is_404(client, login_as, world):
    login_as(world["sophie"])
    assert client.get(portal(999999)).status_code == 404


def test_portal_entry_sends_a_client_user_to_its_company(client, login_as, world):
    login_as(world["paul"])
    response = client.get("/portal")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(portal(world["rival"].id))


def test_a_cm_of_the_client_gets_403(client, login_as, world):
    login_as(world["lea"])
    assert client.get(portal(world["dupont"].id)).status_code == 403


def test_a_cm_not_serving_the_client_gets_404(client, login_as, world):
    login_as(world["only_rival"])
    assert client.get(portal(world["dupont"].id)).status_code == 404


def test_a_lead_sees_any_portal_as_a_preview(client, login_as, world):
    login_as(make_lead(name="Marc Lefèvre"))
    response = client.get(portal(world["rival"].id))
    assert response.status_code == 200
    page = text(response)
    assert "Aperçu de l'espace client" in page
    assert "Espace de Boulangerie Rivale" in page
    assert "Bonjour Marc" not in page
    assert "NOTE-RIVALE" not in page
    assert f'href="/clients/{world["rival"].id}"' in page  # back to the client's page


def test_the_portal_works_before_the_agency_is_set_up(client, login_as, db):
    company = make_client("Garage Leroy")
    login_as(make_client_user(company))
    page = text(client.get(portal(company.id)))
    assert "Les coordonnées bancaires de l'agence ne sont pas encore renseignées." in page
    assert "Les coordonnées de l'agence ne sont pas encore renseignées." in page
    assert "Votre community manager vous sera présenté très bientôt." in page


def test_anonymous_visitor_is_sent_to_login(client, world):
    response = client.get(portal(world["dupont"].id))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_portal_makes_a_fixed_number_of_queries(client, login_as, world, count_queries):
    """As many queries for a company with one contract, report and invoice
    as for one with many of each (and more CMs)."""
    from app.timesheets.calendar import add_months, month_start

    dupont, lead = world["dupont"], make_lead()
    first = month_start(today())

    def grow(n: int) -> None:
        for i in range(n):
            contract = make_contract(dupont, title=f"Contrat {i}", start=add_months(first, -12))
            make_entry(contract, world["lea"], first, 30)
            make_version(make_report(contract, add_months(first, -1)))
            make_issued_invoice(dupont, lead=lead)
            assign(make_cm(name=f"CM {i}"), dupont)

    login_as(world["sophie"])
    url = portal(dupont.id)
    grow(1)
    client.get(url)
    with count_queries() as few:
        client.get(url)
    grow(5)
    with count_queries() as many:
        page = text(client.get(url))
    assert "CM 4" in page and "Contrat 4" in page
    # 13 for the page, 1 for the clients of its scope (app/access.py, scope_request).
    assert few.count == many.count <= 14, "\n\n".join(many.statements)
