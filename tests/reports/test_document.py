"""The monthly report's document: what it shows, what it never shows, its
sanitised highlights, and the PDF read back with pypdf."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from flask import url_for
from pypdf import PdfReader

from app.documents.services import store_document
from app.reports.document import render_highlights, render_report_html, render_report_pdf, report_context
from app.reports.models import ChannelFigure, Report
from tests.factories import (
    assign,
    make_agency_settings,
    make_client,
    make_cm,
    make_contract,
    make_entry,
)
from tests.reports.test_pdf import png

OCTOBER = date(2026, 10, 1)
SEPTEMBER = date(2026, 9, 1)


def text_of(pdf: bytes) -> str:
    """The PDF's text, French spaces (no-break, narrow) as plain ones, collapsed."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u202f", " "))


def add_report(contract, month: date, highlights: str = "", **figures) -> Report:
    from app.extensions import db

    report = Report(client_id=contract.client_id, contract_id=contract.id, month=month, highlights=highlights)
    report.figures = [
        ChannelFigure(client_id=contract.client_id, channel=channel, **values)
        for channel, values in figures.items()
    ]
    db.session.add(report)
    db.session.flush()
    return report


@pytest.fixture
def october(db):
    """A retainer of 30 h (708 €) with 12 h 30 logged by two CMs who have a cost rate."""
    make_agency_settings(legal_name="Agence Relais")
    client = make_client(
        "Boulangerie Dupont", address_line="12 rue de la République", postal_code="69002", city="Lyon"
    )
    contract = make_contract(client, title="Animation des réseaux sociaux", included_hours=30)
    camille = make_cm(name="Camille Martin")
    hugo = make_cm(name="Hugo Lefèvre")
    camille.cost_rate = Decimal("47.13")
    hugo.cost_rate = Decimal("39.77")
    assign(camille, client)
    assign(hugo, client)
    entries = [
        make_entry(contract, camille, date(2026, 10, 1), 120, channel="instagram"),
        make_entry(
            contract, camille, date(2026, 10, 6), 180, label="Création de contenu", channel="facebook"
        ),
        make_entry(contract, hugo, date(2026, 10, 13), 90, label="Modération", channel="instagram"),
        make_entry(contract, hugo, date(2026, 10, 20), 240),
        make_entry(contract, camille, date(2026, 10, 30), 120, label="Reporting"),
    ]
    entries[0].note = "Stories de la semaine du goût"
    entries[1].note = "Shooting photo en boutique"
    # Not in the report: another month, another contract of the same client.
    make_entry(contract, camille, date(2026, 11, 2), 60)
    other = make_contract(client, title="Lancement TikTok", included_hours=10)
    make_entry(other, hugo, date(2026, 10, 8), 600)

    add_report(
        contract,
        SEPTEMBER,
        instagram={"followers": 2410, "posts": 14, "engagement": Decimal("5.80")},
    )
    report = add_report(
        contract,
        OCTOBER,
        highlights=(
            "Un mois **solide** pour la boutique.\n\n"
            "- Jeu concours : 180 nouveaux abonnés\n- Avis Google modérés"
        ),
        instagram={"followers": 2590, "posts": 16, "engagement": Decimal("5.20")},
        facebook={"followers": 1240, "posts": None, "engagement": None},
    )
    return report


# -- the PDF, read back ---------------------------------------------------------


def test_pdf_shows_totals_names_period_highlights_figures_and_notes(october):
    text = text_of(render_report_pdf(october))

    assert "Rapport d'activité — octobre 2026" in text
    assert "Boulangerie Dupont" in text
    assert "Agence Relais" in text
    assert "Animation des réseaux sociaux" in text
    assert "12 h 30" in text  # hours used
    assert "sur 30 h incluses" in text
    assert "41,7 %" in text  # 750 of 1800 minutes
    assert "708,00 €" in text  # amount of the month
    assert "Un mois solide pour la boutique." in text
    assert "Jeu concours : 180 nouveaux abonnés" in text
    assert "2 590" in text and "+180" in text  # followers and their change
    assert "septembre : 2 410" in text
    assert "−0,60 pt" in text  # engagement 5.80 % -> 5.20 %
    assert "Stories de la semaine du goût" in text
    assert "Shooting photo en boutique" in text
    assert "Camille Martin" in text and "Hugo Lefèvre" in text
    assert "semaine du 28 sept." in text
    assert "Page 1 / " in text


def test_pdf_leaves_out_other_months_and_other_contracts(october):
    text = text_of(render_report_pdf(october))

    assert "Lancement TikTok" not in text
    assert "22 h 30" not in text  # 12 h 30 + the other contract's 10 h
    assert "Total : 5 interventions" in text


def test_pdf_and_html_never_show_costs_or_margins(october):
    # Costs: Camille 7 h x 47,13 = 329,91 €; Hugo 5 h 30 x 39,77 = 218,74 €;
    # 548,65 € in all; margin 708,00 - 548,65 = 159,35 €.
    secret = ["47,13", "39,77", "329,91", "218,74", "548,65", "159,35", "47.13", "39.77", "548.65"]
    text = text_of(render_report_pdf(october))
    html = render_report_html(october)

    for value in secret:
        assert value not in text
        assert value not in html
    for word in ("coût", "marge", "cost", "margin"):
        assert word not in text.lower()
    assert "cost" not in report_context(october)["budget"].__dataclass_fields__


def test_pdf_of_an_empty_month_renders(db):
    make_agency_settings()
    contract = make_contract(make_client("Fromagerie Vide"))
    report = add_report(contract, OCTOBER)

    text = text_of(render_report_pdf(report))

    assert "Fromagerie Vide" in text
    assert "Aucune intervention ce mois-ci." in text
    assert "Pas de faits marquants ce mois-ci." in text


def test_pdf_embeds_the_agency_and_client_logos(october):
    from app.agency.services import get_settings

    get_settings().logo_sha256 = store_document(png("blue"), "image/png").sha256
    october.client.logo_sha256 = store_document(png("green"), "image/png").sha256

    first_page = PdfReader(io.BytesIO(render_report_pdf(october))).pages[0]

    assert len(first_page.images) == 2


# -- what the document holds ----------------------------------------------------


def test_context_breaks_the_month_down_by_activity_channel_week_and_cm(october):
    context = report_context(october)

    assert context["total_minutes"] == 750
    assert context["entry_count"] == 5
    assert [(row.label, row.minutes, row.pct) for row in context["activities"]] == [
        ("Animation", 360, Decimal("48.0")),
        ("Création de contenu", 180, Decimal("24.0")),
        ("Reporting", 120, Decimal("16.0")),
        ("Modération", 90, Decimal("12.0")),
    ]
    assert [(row.label, row.minutes) for row in context["channels"]] == [
        ("Sans canal", 360),
        ("Instagram", 210),
        ("Facebook", 180),
    ]
    assert [(week.label, week.minutes) for week in context["weeks"]] == [
        ("semaine du 28 sept.", 120),
        ("semaine du 5 oct.", 180),
        ("semaine du 12 oct.", 90),
        ("semaine du 19 oct.", 240),
        ("semaine du 26 oct.", 120),
    ]
    assert [(row.label, row.minutes) for row in context["team"]] == [
        ("Camille Martin", 420),
        ("Hugo Lefèvre", 330),
    ]
    assert [entry.day for entry in context["entries"]] == sorted(entry.day for entry in context["entries"])


def test_context_budget_is_the_clients_view_of_the_month(october):
    budget = report_context(october)["budget"]

    assert budget.used_minutes == 750
    assert budget.included_minutes == 1800
    assert budget.hours_pct == Decimal("41.7")
    assert budget.billable == Decimal("708.00")
    assert budget.ceiling == Decimal("708.00")


def test_context_puts_last_months_figures_beside_this_months(october):
    figures = {row.channel: row for row in report_context(october)["figures"]}

    instagram = figures["instagram"]
    assert (instagram.followers, instagram.followers_change) == (2590, 180)
    assert instagram.posts_change == 2
    assert instagram.engagement_change == Decimal("-0.60")
    facebook = figures["facebook"]
    assert facebook.previous is None
    assert facebook.followers_change is None


def test_context_runs_the_same_number_of_queries_whatever_the_month_holds(october, count_queries, db):
    contract, cm = october.contract, make_cm(name="Inès Benali")
    db.session.expire_all()
    with count_queries() as few:
        report_context(october)

    for day in range(1, 29):
        make_entry(contract, cm, date(2026, 10, day), 45, label="Stratégie", channel="linkedin")
    db.session.expire_all()
    with count_queries() as many:
        context = report_context(october)

    assert context["entry_count"] == 33
    assert many.count == few.count
    assert few.count <= 10, few.statements


# -- the HTML -------------------------------------------------------------------


def test_pdf_html_loads_resources_through_our_schemes_only(october):
    october.client.logo_sha256 = store_document(png("green"), "image/png").sha256

    html = render_report_html(october)

    assert 'href="relais-static:/css/report.css"' in html
    assert f'src="relais-document:{october.client.logo_sha256}"' in html
    assert "<script" not in html
    assert "style=" not in html


def test_preview_html_links_the_stylesheet_and_logos_through_app_urls(app, october):
    october.client.logo_sha256 = store_document(png("green"), "image/png").sha256

    with app.test_request_context():
        html = render_report_html(october, for_pdf=False)
        stylesheet = url_for("static", filename="css/report.css")
        logo = url_for("clients.logo", client_id=october.client_id, v=october.client.logo_sha256[:12])

    assert f'href="{stylesheet}"' in html
    assert f'src="{logo}"' in html
    assert "relais-" not in html


# -- highlights -----------------------------------------------------------------


def test_highlights_keep_the_small_markup():
    html = render_highlights(
        "Un mois **solide**, *enfin*.\n\n- un\n- deux\n\nPuis :\n\n1. premier\n2. second\n\n[Site](https://example.com)"
    )

    assert "<strong>solide</strong>" in html
    assert "<em>enfin</em>" in html
    assert "<ul>" in html and "<li>un</li>" in html
    assert "<ol>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer">Site</a>' in html


def test_highlights_are_sanitised():
    html = render_highlights(
        'Bonjour <script>alert("x")</script>\n\n'
        '<p onclick="steal()">clic</p>\n\n'
        "[piège](javascript:alert(1)) [relatif](/admin) [écrire](mailto:contact@example.com)\n\n"
        "![pixel](https://tracker.example.com/p.png)\n\n"
        '<img src="x" onerror="alert(1)"><iframe src="https://example.com"></iframe>\n\n'
        "# Un titre\n\n<style>body { display: none }</style>"
    )

    assert "<script" not in html and "alert" not in html
    assert "onclick" not in html and "steal" not in html and "clic" in html
    assert "javascript:" not in html and "piège" in html
    assert 'href="/admin"' not in html
    assert 'href="mailto:contact@example.com"' in html
    assert "<img" not in html and "tracker" not in html and "onerror" not in html
    assert "<iframe" not in html
    assert "<h1" not in html and "Un titre" in html
    assert "<style" not in html and "display" not in html


def test_sanitised_highlights_reach_the_pdf(october):
    october.highlights = "Voir <script>alert(1)</script>**le bilan**<img src=x onerror=alert(2)>"

    text = text_of(render_report_pdf(october))

    assert "Voir le bilan" in text
    assert "alert" not in text
