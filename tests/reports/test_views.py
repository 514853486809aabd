"""The report pages: the client's list, a report's draft (highlights and
figures) for the lead and its CMs, publication and versions, downloads, and
what a client user may (never) see."""

from __future__ import annotations

import html
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.documents.models import Document
from app.extensions import db as _db
from app.reports.models import RenderState, Report, ReportStatus, ReportVersion
from app.timesheets.calendar import add_months, month_start
from app.timeutil import today
from tests.factories import (
    assign,
    make_agency_settings,
    make_client,
    make_client_user,
    make_cm,
    make_contract,
    make_entry,
    make_lead,
    make_report,
    make_version,
)

THIS_MONTH = month_start(today())
LAST_MONTH = add_months(THIS_MONTH, -1)
MONTH_BEFORE = add_months(THIS_MONTH, -2)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def world(db):
    make_agency_settings(legal_name="Agence Relais")
    dupont = make_client("Boulangerie Dupont")
    rival = make_client("Pâtisserie Rivale")
    contract = make_contract(dupont, title="Animation des réseaux", channels=("facebook", "instagram"))
    rival_contract = make_contract(rival, title="Contrat Rivale")
    lead, cm, stranger = make_lead(name="Marc Lead"), make_cm(name="Léa Martin"), make_cm(name="Zoé Ailleurs")
    assign(cm, dupont)
    assign(stranger, rival)
    sophie = make_client_user(dupont, name="Sophie Dupont", email="sophie@dupont.example")
    paul = make_client_user(rival, name="Paul Rivale")
    report = make_report(contract, LAST_MONTH, highlights="Un mois **solide**.")
    rival_report = make_report(rival_contract, LAST_MONTH, highlights="Secret de la Rivale")
    make_version(rival_report)
    return {
        "dupont": dupont,
        "rival": rival,
        "contract": contract,
        "lead": lead,
        "cm": cm,
        "stranger": stranger,
        "sophie": sophie,
        "paul": paul,
        "report": report,
        "rival_report": rival_report,
    }


def url(report: Report, tail: str = "") -> str:
    return f"/clients/{report.client_id}/reports/{report.id}{tail}"


# -- the list -----------------------------------------------------------------------------


def test_lead_and_assigned_cm_see_every_report_of_the_client(client, login_as, world):
    make_version(make_report(world["contract"], MONTH_BEFORE))
    for user in (world["lead"], world["cm"]):
        login_as(user)
        response = client.get(f"/clients/{world['dupont'].id}/reports")
        assert response.status_code == 200
        page = text(response)
        assert LAST_MONTH.strftime("%Y") in page
        assert "Brouillon" in page and "Publié · 1 version" in page
        assert "En attente de validation" in page
        assert "Animation des réseaux" in page
        assert "Contrat Rivale" not in page


def test_report_list_is_forbidden_to_client_users_and_hidden_from_other_cms(client, login_as, world):
    login_as(world["sophie"])
    assert client.get(f"/clients/{world['dupont'].id}/reports").status_code == 403
    login_as(world["stranger"])
    assert client.get(f"/clients/{world['dupont'].id}/reports").status_code == 404


def test_a_client_without_reports_shows_an_empty_state(client, login_as, world):
    empty = make_client("Fromagerie Vide")
    login_as(world["lead"])
    page = text(client.get(f"/clients/{empty.id}/reports"))
    assert "Aucun rapport pour l'instant" in page
    assert "Ce client n'a pas encore de contrat" in page


def test_opening_a_report_makes_it_once_and_shows_it(client, login_as, world):
    login_as(world["cm"])
    data = {"contract": world["contract"].id, "month": MONTH_BEFORE.strftime("%Y-%m")}
    first = client.post(f"/clients/{world['dupont'].id}/reports/open", data=data)
    second = client.post(f"/clients/{world['dupont'].id}/reports/open", data=data)
    assert first.status_code == 302 and first.headers["Location"] == second.headers["Location"]
    reports = _db.session.scalars(select(Report).where(Report.month == MONTH_BEFORE)).all()
    assert len(reports) == 1 and reports[0].status == ReportStatus.DRAFT
    assert first.headers["Location"].endswith(f"/reports/{reports[0].id}")


def test_opening_a_report_of_a_future_month_is_refused(client, login_as, world):
    login_as(world["lead"])
    data = {"contract": world["contract"].id, "month": add_months(THIS_MONTH, 1).strftime("%Y-%m")}
    response = client.post(f"/clients/{world['dupont'].id}/reports/open", data=data, follow_redirects=True)
    assert "Ce mois n'a pas commencé" in text(response)
    assert _db.session.scalar(select(func.count()).select_from(Report)) == 2


def test_opening_a_report_on_another_clients_contract_is_refused(client, login_as, world):
    login_as(world["lead"])
    rival_contract = world["rival_report"].contract
    data = {"contract": rival_contract.id, "month": MONTH_BEFORE.strftime("%Y-%m")}
    response = client.post(f"/clients/{world['dupont'].id}/reports/open", data=data, follow_redirects=True)
    assert "Choisissez un contrat de ce client." in text(response)
    assert _db.session.scalar(select(func.count()).select_from(Report)) == 2


# -- the draft ---------------------------------------------------------------------------------


def test_draft_page_shows_a_field_per_channel_with_last_months_value(client, login_as, world):
    before = make_report(world["contract"], MONTH_BEFORE)
    from app.reports.models import ChannelFigure

    before.figures.append(
        ChannelFigure(
            client_id=before.client_id, channel="instagram", followers=2410, engagement=Decimal("5.8")
        )
    )
    _db.session.flush()
    login_as(world["lead"])
    page = text(client.get(url(world["report"])))
    assert 'name="figure_facebook-followers"' in page and 'name="figure_instagram-engagement"' in page
    assert "Mois dernier : 2 410" in page.replace("\u202f", " ").replace("\xa0", " ")
    assert "Mois dernier : 5,8 %" in page.replace("\u202f", " ").replace("\xa0", " ")
    assert "**gras**" in page  # the markup help
    assert "Un mois **solide**." in page


@pytest.mark.parametrize("who", ["lead", "cm"])
def test_lead_and_assigned_cm_save_highlights_and_french_figures(client, login_as, world, who):
    login_as(world[who])
    response = client.post(
        url(world["report"]),
        data={
            "highlights": "- 12 publications\n- Un **jeu concours**",
            "figure_facebook-followers": "12 480",
            "figure_facebook-posts": "14",
            "figure_facebook-engagement": "4,5 %",
            "figure_instagram-followers": "",
            "figure_instagram-posts": "",
            "figure_instagram-engagement": "",
        },
    )
    assert response.status_code == 302
    assert "Brouillon enregistré." in text(client.get(response.headers["Location"]))
    report = _db.session.get(Report, world["report"].id)
    assert report.highlights == "- 12 publications\n- Un **jeu concours**"
    figures = {f.channel: f for f in report.figures}
    assert set(figures) == {"facebook"}
    assert (figures["facebook"].followers, figures["facebook"].posts) == (12480, 14)
    assert figures["facebook"].engagement == Decimal("4.50")


def test_emptied_figures_are_removed(client, login_as, world):
    login_as(world["cm"])
    client.post(url(world["report"]), data={"highlights": "x", "figure_facebook-posts": "3"})
    client.post(url(world["report"]), data={"highlights": "x", "figure_facebook-posts": ""})
    assert _db.session.get(Report, world["report"].id).figures == []


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("figure_facebook-followers", "beaucoup", "Saisissez un nombre entier, par exemple 1 250."),
        ("figure_facebook-posts", "-3", "Un nombre positif, s'il vous plaît."),
        ("figure_facebook-posts", "2,5", "Saisissez un nombre entier"),
        ("figure_instagram-engagement", "150", "Un pourcentage entre 0 et 100."),
        ("figure_instagram-engagement", "4,555", "Au plus 2 décimales."),
        ("figure_instagram-engagement", "fort", "Saisissez un pourcentage, par exemple 4,5."),
        ("highlights", "x" * 20_001, "20 000 caractères au plus."),
    ],
)
def test_bad_figures_are_refused_in_french_and_nothing_is_saved(
    client, login_as, world, field, value, message
):
    login_as(world["cm"])
    data = {"highlights": "Nouveau texte", "figure_facebook-posts": "7", field: value}
    response = client.post(url(world["report"]), data=data)
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert "Rien n'a été enregistré" in page
    report = _db.session.get(Report, world["report"].id)
    assert report.highlights == "Un mois **solide**." and report.figures == []


def test_an_unassigned_cm_cannot_see_nor_edit_the_draft(client, login_as, world):
    login_as(world["stranger"])
    assert client.get(url(world["report"])).status_code == 404
    assert client.post(url(world["report"]), data={"highlights": "Piraté"}).status_code == 404
    assert _db.session.get(Report, world["report"].id).highlights == "Un mois **solide**."


def test_a_cm_who_did_not_serve_that_month_reads_but_cannot_edit(client, login_as, world):
    newcomer = make_cm(name="Nouvelle CM")
    assign(newcomer, world["dupont"], since=today())
    login_as(newcomer)
    page = text(client.get(url(world["report"])))
    assert "pas le modifier" in page and 'name="highlights"' not in page
    assert client.post(url(world["report"]), data={"highlights": "Non"}).status_code == 403
    assert _db.session.get(Report, world["report"].id).highlights == "Un mois **solide**."


def test_a_client_user_cannot_edit_a_report(client, login_as, world):
    login_as(world["sophie"])
    assert client.post(url(world["report"]), data={"highlights": "Client"}).status_code == 404  # a draft
    make_version(world["report"])
    assert client.post(url(world["report"]), data={"highlights": "Client"}).status_code == 403
    assert _db.session.get(Report, world["report"].id).highlights == "Un mois **solide**."


def test_a_client_user_opening_the_agency_page_of_a_published_report_lands_in_its_portal(
    client, login_as, world
):
    make_version(world["report"])
    login_as(world["sophie"])
    response = client.get(url(world["report"]))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/portal/reports/{world['report'].id}")


def test_live_preview_shows_the_document_to_lead_and_cm(client, login_as, world):
    for user in (world["lead"], world["cm"]):
        login_as(user)
        response = client.get(url(world["report"], "/preview"))
        assert response.status_code == 200
        page = text(response)
        assert "Boulangerie Dupont" in page and "<strong>solide</strong>" in page


# -- rendering, publication, versions -----------------------------------------------------------


def test_publishing_makes_version_1_stores_the_pdf_and_mails_the_client_users(
    client, login_as, world, outbox
):
    make_entry(world["contract"], world["cm"], LAST_MONTH.replace(day=5), 90)
    colleague = make_client_user(world["dupont"], email="jules@dupont.example")
    make_client_user(world["dupont"], email="pending@dupont.example", pending=True)
    login_as(world["lead"])
    response = client.post(url(world["report"], "/publish"))
    assert response.status_code == 302
    assert "Version 1 publiée" in text(client.get(response.headers["Location"]))

    report = _db.session.get(Report, world["report"].id)
    assert report.status == ReportStatus.PUBLISHED and report.published_at is not None
    assert report.render_state == RenderState.DONE
    [version] = report.versions
    assert version.number == 1 and version.published_by_id == world["lead"].id
    document = _db.session.get(Document, version.document_sha256)
    assert document.content.startswith(b"%PDF") and document.media_type == "application/pdf"

    mails = outbox.messages
    assert sorted(m["To"] for m in mails) == sorted([world["sophie"].email, colleague.email])
    for mail in mails:
        body = outbox.body(mail)
        assert f"/clients/{world['dupont'].id}/portal" in body
        assert not any(part.get_filename() for part in mail.walk())
        assert not any(part.get_content_type() == "application/pdf" for part in mail.walk())


def test_republishing_makes_version_2_the_client_gets_only_the_latest(client, login_as, world, outbox):
    login_as(world["lead"])
    client.post(url(world["report"], "/publish"))
    page = text(client.get(url(world["report"])))
    assert "Publier une nouvelle version" in page
    client.post(url(world["report"]), data={"highlights": "Corrigé"})
    client.post(url(world["report"], "/publish"))
    numbers = _db.session.scalars(
        select(ReportVersion.number).where(ReportVersion.report_id == world["report"].id)
    ).all()
    assert sorted(numbers) == [1, 2]
    assert len(outbox.messages) == 1  # the client hears of the first publication only

    for number in (1, 2):
        response = client.get(url(world["report"], f"/versions/{number}.pdf"))
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
        disposition = response.headers["Content-Disposition"]
        name = f"rapport-boulangerie-dupont-{LAST_MONTH:%Y-%m}-v{number}.pdf"
        assert disposition.startswith("attachment") and name in disposition
        assert "no-store" in response.headers["Cache-Control"]

    login_as(world["sophie"])
    assert client.get(url(world["report"], "/versions/1.pdf")).status_code == 404
    latest = client.get(url(world["report"], "/versions/2.pdf"))
    assert latest.status_code == 200 and latest.data.startswith(b"%PDF")
    assert "no-store" in latest.headers["Cache-Control"]
    assert client.get(url(world["report"], "/versions/3.pdf")).status_code == 404


def test_only_the_lead_publishes(client, login_as, world):
    login_as(world["cm"])
    assert client.post(url(world["report"], "/publish")).status_code == 403
    assert _db.session.get(Report, world["report"].id).status == ReportStatus.DRAFT
    login_as(world["lead"])
    assert "Publier" in text(client.get(url(world["report"])))
    login_as(world["cm"])
    page = text(client.get(url(world["report"])))
    assert "Générer l'aperçu PDF" in page and "Publier</button>" not in page


def test_draft_pdf_is_rendered_on_request_and_downloaded_by_lead_and_cm(client, login_as, world):
    login_as(world["cm"])
    assert client.get(url(world["report"], "/draft.pdf")).status_code == 404  # not rendered yet
    response = client.post(url(world["report"], "/render"))
    assert "L'aperçu PDF est prêt." in text(client.get(response.headers["Location"]))
    report = _db.session.get(Report, world["report"].id)
    assert report.draft_sha256 and report.status == ReportStatus.DRAFT
    for user in (world["cm"], world["lead"]):
        login_as(user)
        pdf = client.get(url(world["report"], "/draft.pdf"))
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
        assert (
            f"rapport-boulangerie-dupont-{LAST_MONTH:%Y-%m}-brouillon.pdf"
            in pdf.headers["Content-Disposition"]
        )
        assert "no-store" in pdf.headers["Cache-Control"]


def test_state_is_polled_while_the_pdf_renders_and_not_once_done(client, login_as, world):
    report = world["report"]
    report.render_state = RenderState.QUEUED
    _db.session.flush()
    login_as(world["lead"])
    page = text(client.get(url(report)))
    assert f'data-poll="{url(report, "/status")}"' in page and "data-reload" in page
    assert "Publier</button>" not in page  # no second request while one runs
    status = client.get(url(report, "/status")).get_json()
    assert status["finished"] is False and status["fields"]["state"] == "En file d'attente"

    report.render_state = RenderState.FAILED
    report.render_error = "OSError: police introuvable"
    _db.session.flush()
    status = client.get(url(report, "/status")).get_json()
    assert status["finished"] is True
    assert status["fields"] == {"state": "Échec du rendu", "error": "OSError: police introuvable"}
    page = text(client.get(url(report)))
    assert "data-poll" not in page and "OSError: police introuvable" in page


# -- what a client user never sees ----------------------------------------------------------------


def test_a_client_user_never_sees_a_draft(client, login_as, world):
    report = world["report"]
    report.draft_sha256 = make_version(world["rival_report"]).document_sha256  # a rendered draft
    _db.session.flush()
    login_as(world["sophie"])
    for tail in ("", "/preview", "/draft.pdf", "/status", "/versions/1.pdf"):
        response = client.get(url(report, tail))
        assert response.status_code == 404, tail
        assert "solide" not in text(response)


def test_a_client_user_gets_no_agency_page_of_a_published_report(client, login_as, world):
    make_version(world["report"])
    world["report"].draft_sha256 = world["report"].latest.document_sha256
    _db.session.flush()
    login_as(world["sophie"])
    for tail in ("/preview", "/draft.pdf", "/status"):
        assert client.get(url(world["report"], tail)).status_code == 404, tail


def test_nobody_reaches_another_clients_report(client, login_as, world):
    rival_report = world["rival_report"]
    for user in (world["sophie"], world["cm"]):
        login_as(user)
        # the rival's client id: the client scope answers 404
        assert client.get(url(rival_report, "/versions/1.pdf")).status_code == 404
        # its own client's id with the rival's report id: not found through its client
        own = f"/clients/{world['dupont'].id}/reports/{rival_report.id}"
        for tail in ("", "/versions/1.pdf", "/preview", "/status"):
            response = client.get(own + tail)
            assert response.status_code == 404, (user.name, tail)
            assert "Secret de la Rivale" not in text(response)
        assert client.get(f"/clients/{world['dupont'].id}/portal/reports/{rival_report.id}").status_code in (
            403,
            404,
        )


# -- the portal and the client page -----------------------------------------------------------------


def test_portal_lists_published_reports_only_with_their_signoff(client, login_as, world):
    older = make_report(world["contract"], MONTH_BEFORE)
    make_version(older)
    login_as(world["sophie"])
    page = text(client.get(f"/clients/{world['dupont'].id}/portal"))
    assert f"/portal/reports/{older.id}" in page
    assert f"/portal/reports/{world['report'].id}" not in page  # a draft
    assert f"/reports/{older.id}/versions/1.pdf" in page
    assert "Un rapport attend votre validation." in page
    assert "Contrat Rivale" not in page


def test_portal_home_without_reports_shows_the_empty_state(client, login_as, world):
    login_as(world["sophie"])
    assert "Aucun rapport publié pour l'instant" in text(client.get(f"/clients/{world['dupont'].id}/portal"))


def test_portal_report_page_shows_summary_download_and_signoff(client, login_as, world):
    make_entry(world["contract"], world["cm"], LAST_MONTH.replace(day=3), 150)
    version = make_version(world["report"])
    login_as(world["sophie"])
    response = client.get(f"/clients/{world['dupont'].id}/portal/reports/{world['report'].id}")
    assert response.status_code == 200
    page = text(response)
    assert "Animation des réseaux" in page
    assert "2 h 30 sur 30 h incluses" in page
    assert f"/versions/{version.number}.pdf" in page
    assert "Valider le rapport" in page and "Envoyer ma question" in page
    assert "708" not in page  # hours only, no money


def test_portal_report_page_of_a_draft_is_404_for_the_client_and_a_preview_for_the_lead(
    client, login_as, world
):
    path = f"/clients/{world['dupont'].id}/portal/reports/{world['report'].id}"
    login_as(world["sophie"])
    assert client.get(path).status_code == 404
    login_as(world["lead"])
    page = text(client.get(path))
    assert "ce rapport n'est pas publié" in page and "Valider le rapport" not in page
    login_as(world["cm"])
    assert client.get(path).status_code == 403


def test_client_pages_link_to_the_reports(client, login_as, world):
    for user in (world["lead"], world["cm"]):
        login_as(user)
        page = text(client.get(f"/clients/{world['dupont'].id}"))
        assert f'href="/clients/{world["dupont"].id}/reports"' in page


def test_report_list_counts_queries_once_per_page(client, login_as, world, count_queries):
    for months in range(2, 8):
        make_version(make_report(world["contract"], add_months(THIS_MONTH, -months)))
    login_as(world["lead"])
    client.get(f"/clients/{world['dupont'].id}/reports")  # warm up
    with count_queries() as few:
        client.get(f"/clients/{world['dupont'].id}/reports")
    make_version(make_report(world["contract"], add_months(THIS_MONTH, -9)))
    make_version(make_report(world["contract"], add_months(THIS_MONTH, -10)))
    with count_queries() as more:
        client.get(f"/clients/{world['dupont'].id}/reports")
    assert more.count == few.count


def test_signoff_deadline_is_shown_to_the_agency(client, login_as, world):
    make_version(world["report"], published_at=None)
    login_as(world["lead"])
    page = text(client.get(url(world["report"])))
    assert "En attente de validation jusqu'au" in page
    deadline = today() + timedelta(days=7)
    assert str(deadline.year) in page


def test_changes_need_the_csrf_token(client, login_as, world, csrf_enabled):
    login_as(world["lead"])
    assert client.post(url(world["report"], "/publish")).status_code == 400
    assert client.post(url(world["report"]), data={"highlights": "Sans jeton"}).status_code == 400
    report = _db.session.get(Report, world["report"].id)
    assert report.status == ReportStatus.DRAFT and report.highlights == "Un mois **solide**."
    page = text(client.get(url(report)))
    assert page.count('name="csrf_token"') >= 4  # draft, render, publish, share
