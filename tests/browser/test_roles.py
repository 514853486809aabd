"""What each role sees, in a real browser: the lead, Léa the freelance CM,
and a client user, logged in through the login form of the live server."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

BAKERIES = ("Boulangerie Dupont", "Boulangerie du Lac")


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("domcontentloaded")


def main_text(page: Page) -> str:
    return page.locator("main").inner_text()


def test_lead_sees_the_dashboard_and_every_client(page, live_server, screenshot):
    lead = live_server.first("lead")
    log_in(page, lead["email"], lead["password"])

    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    screenshot(page, "lead-dashboard")

    page.get_by_role("navigation").get_by_role("link", name="Clients").click()
    expect(page).to_have_url(re.compile(r"/clients$"))
    text = main_text(page)
    assert len(live_server.demo["clients"]) == 6
    for name in live_server.demo["clients"]:
        assert name in text
    screenshot(page, "lead-clients")


def test_freelance_cm_sees_only_her_clients(page, live_server, screenshot):
    lea = live_server.user("lea.martin@")
    assert set(lea["clients"]) >= set(BAKERIES)
    log_in(page, lea["email"], lea["password"])

    expect(page).to_have_url(re.compile(r"/time$"))
    page.get_by_role("link", name="Mes clients").click()
    expect(page).to_have_url(re.compile(r"/my-clients$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes clients")
    text = main_text(page)
    others = set(live_server.demo["clients"]) - set(lea["clients"])
    assert others, "the demo must have clients Léa does not serve"
    assert all(name in text for name in lea["clients"])
    assert not [name for name in others if name in page.content()]
    screenshot(page, "cm-my-clients")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "cm-my-clients-phone")
    page.set_viewport_size({"width": 1280, "height": 860})

    # Her own client opens; another client's page, typed as a URL, is a 404.
    page.get_by_role("link", name=BAKERIES[1]).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(BAKERIES[1])
    other = sorted(others)[0]
    response = page.goto(f"/clients/{live_server.client_ids[other]}")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    assert other not in page.content()
    screenshot(page, "cm-other-client-404")


def test_client_user_lands_on_its_company_space_and_nowhere_else(page, live_server, screenshot):
    users = live_server.demo["users"]
    member = next(u for u in users if u["role"] == "client" and u["clients"] == [BAKERIES[0]])
    log_in(page, member["email"], member["password"])

    expect(page).to_have_url(re.compile(rf"/clients/{live_server.client_ids[BAKERIES[0]]}/portal$"))
    assert BAKERIES[0] in main_text(page)
    assert BAKERIES[1] not in page.content()
    screenshot(page, "client-portal")

    response = page.goto(f"/clients/{live_server.client_ids[BAKERIES[1]]}/portal")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    assert BAKERIES[1] not in page.content()
    assert page.goto("/my-clients").status == 403


def test_wrong_password_shows_the_french_error(page, live_server):
    lead = live_server.first("lead")
    log_in(page, lead["email"], "pas-le-bon-mot-de-passe")

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("Adresse e-mail ou mot de passe incorrect.")).to_be_visible()
    assert page.goto("/dashboard").url.split("?")[0].endswith("/login")


def test_logout_ends_the_session(page, live_server):
    karim = live_server.user("karim.benali@")
    log_in(page, karim["email"], karim["password"])
    expect(page).to_have_url(re.compile(r"/time$"))

    page.get_by_role("button", name="Déconnexion").click()

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()
    page.goto("/my-clients")
    expect(page).to_have_url(re.compile(r"/login\?next="))
