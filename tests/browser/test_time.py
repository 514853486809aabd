"""A CM's day at the keyboard, and the lead's view of every contract's budget."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_roles import log_in

pytestmark = pytest.mark.browser

STATUS_RANK = {"Dépassé": 0, "Sous tension": 1, "En retard": 2, "Dans le rythme": 3}


def test_a_cm_logs_three_entries_by_keyboard_and_sees_the_days_total(page, live_server, screenshot):
    chloe = live_server.user("chloe.girard@")
    log_in(page, chloe["email"], chloe["password"])
    expect(page).to_have_url(re.compile(r"/time$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Aujourd'hui")

    for duration, note in (("1h30", "3 posts de la semaine"), ("45", "Modération des avis"), ("1:15", "")):
        duration_field = page.get_by_label("Durée")
        expect(duration_field).to_be_focused()  # contract and activity are already chosen
        page.keyboard.type(duration)
        if note:
            page.keyboard.press("Tab")  # activity
            page.keyboard.press("Tab")  # channel
            page.keyboard.press("Tab")  # note
            page.keyboard.type(note)
        page.keyboard.press("Enter")
        expect(page.get_by_text("Saisie enregistrée.")).to_be_visible()

    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator(".day-total")).to_contain_text("3 h 30")
    expect(page.locator("main table")).to_contain_text("3 posts de la semaine")
    screenshot(page, "cm-day")


def test_a_cm_sees_a_clear_message_for_an_unreadable_duration(page, live_server):
    karim = live_server.user("karim.benali@")
    log_in(page, karim["email"], karim["password"])
    expect(page.get_by_label("Durée")).to_be_focused()
    page.keyboard.type("deux heures")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Durée illisible")).to_be_visible()
    expect(page.get_by_text("Rien de saisi ce jour-là")).to_be_visible()


def test_the_lead_dashboard_lists_contracts_most_at_risk_first(page, live_server, screenshot):
    lead = live_server.first("lead")
    log_in(page, lead["email"], lead["password"])
    table = page.locator("table.budgets")
    expect(table).to_be_visible()
    statuses = [text.strip() for text in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert len(statuses) == len(live_server.demo["clients"])
    ranks = [STATUS_RANK[s] for s in statuses]
    assert ranks == sorted(ranks), statuses
    screenshot(page, "lead-dashboard-budgets")
