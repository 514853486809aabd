"""Sophie's morning on her phone: her company's space shows the month's
hours and the next invoice's estimate, her reports and invoices, and fits
the screen (no sideways scrolling), as does an invoice's page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_roles import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def test_a_client_user_reads_her_space_on_a_phone(page, live_server, screenshot):
    member = next(
        u
        for u in live_server.demo["users"]
        if u["role"] == "client" and u["clients"] == ["Boulangerie Dupont"]
    )
    page.set_viewport_size(PHONE)
    log_in(page, member["email"], member["password"])
    company_id = live_server.client_ids["Boulangerie Dupont"]
    expect(page).to_have_url(re.compile(rf"/clients/{company_id}/portal$"))

    month = page.locator("#month")
    expect(month.get_by_role("heading", level=2)).to_contain_text("Ce mois-ci")
    expect(month).to_contain_text("Heures consacrées")
    expect(month).to_contain_text("Prochaine facture estimée")
    expect(month.locator("svg.meter").first).to_be_visible()
    reports = page.locator("#reports")
    expect(reports.locator(".portal-latest")).to_contain_text("Dernier rapport")
    expect(page.locator("#due")).to_be_visible()
    main = page.locator("main").inner_text()
    for other in set(live_server.demo["clients"]) - {"Boulangerie Dupont"}:
        assert other not in main
    assert fits_the_screen(page), "the home scrolls sideways at 390 px"
    screenshot(page, "client-portal-phone")

    invoice_links = page.locator("#invoices table a[href*='/portal/invoices/']")
    if invoice_links.count():
        invoice_links.first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"^(Facture|Avoir) "))
        expect(page.get_by_role("link", name="Télécharger le PDF")).to_be_visible()
        assert fits_the_screen(page), "the invoice page scrolls sideways at 390 px"
        screenshot(page, "client-invoice-phone")
        page.set_viewport_size(DESKTOP)
        screenshot(page, "client-invoice-desktop")
        page.go_back()

    page.set_viewport_size(DESKTOP)
    expect(page.locator("#month")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "client-portal-desktop")
