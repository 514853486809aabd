"""The lead's invoice pages: the list (filters, totals, bulk issuing), a
client's invoices, the manual-invoice form, a draft (ceiling, blockers,
issue), an issued invoice (PDF state, credit notes, cancellation), and what
a CM or a client user may (never) do there."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.invoices.models import CeilingDecision, Invoice, InvoiceLine, InvoiceStatus, RenderState
from app.invoices.services import draft_for_month, issue_invoice
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
    make_invoice,
    make_issued_invoice,
    make_lead,
)

D = Decimal
THIS_MONTH = month_start(today())
LAST_MONTH = add_months(THIS_MONTH, -1)
YEAR = today().year


def text(response) -> str:
    """The page, entities decoded, French non-breaking spaces as plain ones."""
    return html.unescape(response.get_data(as_text=True)).replace("\xa0", " ").replace("\u202f", " ")


def plain(response) -> str:
    """The page's words, without its tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(response)))


def billing(**kw) -> dict:
    return {
        "address_line": "3 rue Sommeiller",
        "postal_code": "74000",
        "city": "Annecy",
        "siren": "552100554",
        **kw,
    }


@pytest.fixture
def world(db):
    make_agency_settings()
    dupont = make_client("Boulangerie Dupont", **billing())
    rival = make_client("Pâtisserie Rivale", **billing())
    contract = make_contract(dupont, title="Animation des réseaux", start=date(2025, 1, 1))
    lead, cm = make_lead(name="Marc Lead"), make_cm(name="Léa Martin")
    assign(cm, dupont)
    return {
        "dupont": dupont,
        "rival": rival,
        "contract": contract,
        "lead": lead,
        "cm": cm,
        "sophie": make_client_user(dupont, name="Sophie Dupont"),
    }


@pytest.fixture
def lead(world, login_as):
    return login_as(world["lead"])


def invoice_count() -> int:
    return _db.session.scalar(select(func.count()).select_from(Invoice))


def url(invoice: Invoice, action: str = "") -> str:
    base = f"/clients/{invoice.client_id}/invoices/{invoice.id}"
    return f"{base}/{action}" if action else base


def line_fields(*rows, start: int = 0) -> dict:
    """Form fields for lines: (description, quantity, unit price, VAT)."""
    data = {}
    for i, (description, quantity, price, vat) in enumerate(rows, start=start):
        data |= {
            f"lines-{i}-description": description,
            f"lines-{i}-quantity": quantity,
            f"lines-{i}-unit": "unit",
            f"lines-{i}-unit_price": price,
            f"lines-{i}-vat_rate": vat,
            f"lines-{i}-kind": "manual",
        }
    return data


def ceiling_draft(world) -> Invoice:
    """Last month's draft of a contract past its ceiling: 708 € + 4 h x 60 € > 800 €."""
    contract = make_contract(
        world["dupont"],
        title="Forfait et dépassement",
        start=date(2025, 1, 1),
        model="retainer_overage",
        included_hours=2,
        rate="60.00",
        ceiling="800.00",
    )
    for day in range(1, 5):  # 4 x 1 h 30 = 6 h, 4 h past the 2 included
        make_entry(contract, world["cm"], LAST_MONTH + timedelta(days=day), 90)
    return draft_for_month(world["lead"], contract, LAST_MONTH)


# -- the list --------------------------------------------------------------------------------


def test_the_list_shows_every_invoice_with_french_amounts_badges_and_totals(world, lead):
    issued = make_issued_invoice(world["dupont"], lead=world["lead"], title="Shooting photo")
    make_invoice(
        world["rival"], lead=world["lead"], title="Affiches", lines=[("Affiches", "2", "50.00", "20")]
    )
    page = plain(lead.get("/invoices"))
    assert f"F{YEAR}-0001" in page and "Shooting photo" in page and "Affiches" in page
    assert "849,60 €" in page  # 708 € HT + 20 %
    assert "Émise" in page and "Brouillon" in page
    assert "2 factures et avoirs" in page and "1 brouillon" in page
    assert "969,60 €" in page  # TTC of both: 849,60 + 120,00
    assert issued.issue_date.strftime("%d/%m/%Y") in page
    assert 'href="/invoices"' in text(lead.get("/invoices"))  # the lead's nav entry "Factures"


def test_the_list_filters_by_status_client_kind_month_year_and_search(world, lead, monkeypatch):
    paid_late = make_issued_invoice(world["dupont"], lead=world["lead"], title="Vidéo de Noël")
    other = make_issued_invoice(world["rival"], lead=world["lead"], title="Affiches")
    draft = draft_for_month(world["lead"], world["contract"], LAST_MONTH)
    from app.invoices.services import cancel_invoice

    cancel_invoice(world["lead"], other, "Commande annulée par le client")
    _db.session.commit()

    def numbers(query: str) -> set[str]:
        page = text(lead.get("/invoices?" + query))
        found = set(re.findall(r"<strong>([FA]\d{4}-\d{4})</strong>", page))  # the number column
        return found | ({"draft"} if draft.title in page else set())

    assert numbers("status=draft") == {"draft"}
    assert numbers("status=cancelled") == {other.number}
    assert numbers("kind=credit_note") == {f"A{YEAR}-0001"}
    assert numbers(f"client={world['rival'].id}") == {other.number, f"A{YEAR}-0001"}
    assert numbers("q=dupont") == {paid_late.number, "draft"}
    # The number, and the credit note whose title names it.
    assert numbers(f"q=F{YEAR}-0002") == {other.number, f"A{YEAR}-0001"}
    assert numbers(f"q=a{YEAR}-0001") == {f"A{YEAR}-0001"}
    assert numbers(f"month={LAST_MONTH:%Y-%m}") == {"draft"}
    assert numbers(f"year={YEAR}") >= {paid_late.number, other.number}
    assert numbers("year=2019") == set()
    assert "Aucune facture pour ces critères" in text(lead.get("/invoices?year=2019"))
    assert numbers("status=overdue") == set()
    # Forty days on, the issued invoice is past its due date (30 days): overdue.
    monkeypatch.setattr("app.invoices.views.today", lambda: today() + timedelta(days=40))
    assert numbers("status=overdue") == {paid_late.number}
    assert numbers("status=issued") == {f"A{YEAR}-0001"}  # a credit note is never late
    assert "En retard · 10 jours" in plain(lead.get("/invoices?status=overdue"))
    bad = lead.get("/invoices?month=octobre")
    assert bad.status_code == 200 and "Certains filtres sont invalides" in text(bad)


def test_the_list_paginates_and_keeps_its_filters(world, lead):
    for i in range(27):
        make_invoice(world["dupont"], lead=world["lead"], title=f"Prestation {i:02d}")
    _db.session.commit()
    first = text(lead.get("/invoices?status=draft"))
    assert "Page 1 sur 2" in first and "27 factures et avoirs" in plain(lead.get("/invoices?status=draft"))
    assert "status=draft" in re.search(r'href="([^"]*page=2[^"]*)"', first).group(1)
    second = text(lead.get("/invoices?status=draft&page=2"))
    assert second.count('name="ids"') == 2 and "Prestation 00" in second  # the oldest last


def test_the_list_has_an_empty_state(world, lead):
    page = text(lead.get("/invoices"))
    assert "Aucune facture pour l'instant" in page
    assert "Préparer les factures d" in page


def test_drafts_are_issued_together_each_in_its_own_transaction(world, lead):
    no_address = make_client("Garage Leroy", siren="552100554")
    a = make_invoice(world["dupont"], lead=world["lead"], title="A")
    b = make_invoice(world["rival"], lead=world["lead"], title="B")
    refused = make_invoice(no_address, lead=world["lead"], title="C")
    _db.session.commit()
    response = lead.post(
        "/invoices/issue", data={"ids": [a.id, refused.id, b.id], "f_status": "draft"}, follow_redirects=False
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/invoices?status=draft")
    page = text(lead.get(response.headers["Location"]))
    assert (
        "2 factures émises ; 1 refusée : Garage Leroy — Complétez l'adresse de facturation du client." in page
    )
    _db.session.expire_all()
    assert sorted([a.number, b.number]) == [f"F{YEAR}-0001", f"F{YEAR}-0002"]
    assert refused.status == InvoiceStatus.DRAFT and refused.number is None
    # Already issued: nothing happens twice.
    again = text(lead.post("/invoices/issue", data={"ids": [a.id]}, follow_redirects=True))
    assert "n'était plus un brouillon" in again
    assert _db.session.scalar(select(func.max(Invoice.sequence))) == 2


def test_issuing_nothing_says_so(world, lead):
    page = text(lead.post("/invoices/issue", data={}, follow_redirects=True))
    assert "Aucun brouillon sélectionné." in page
    assert lead.post("/invoices/issue", data={"ids": "x"}).status_code == 400


def test_the_month_is_drafted_without_the_full_close(world, lead):
    response = lead.post("/invoices/draft-month", data={"month": f"{LAST_MONTH:%Y-%m}"})
    assert response.headers["Location"].endswith(f"/invoices?month={LAST_MONTH:%Y-%m}&status=draft")
    page = text(lead.get(response.headers["Location"]))
    assert "1 brouillon de facture pour" in page and "Animation des réseaux" not in page
    assert "Community management" in page
    lead.post("/invoices/draft-month", data={"month": f"{LAST_MONTH:%Y-%m}"})
    assert invoice_count() == 1  # idempotent
    refused = text(
        lead.post("/invoices/draft-month", data={"month": f"{THIS_MONTH:%Y-%m}"}, follow_redirects=True)
    )
    assert "n'est pas terminé" in refused and invoice_count() == 1
    bad = text(lead.post("/invoices/draft-month", data={"month": "octobre"}, follow_redirects=True))
    assert "Mois invalide" in bad


# -- a client's invoices and a new manual invoice -------------------------------------------------


def test_a_clients_invoices_are_linked_from_its_page(world, lead):
    dupont = world["dupont"]
    make_issued_invoice(dupont, lead=world["lead"], title="Shooting photo")
    make_invoice(world["rival"], lead=world["lead"], title="Affiches de la Rivale")
    assert f'/clients/{dupont.id}/invoices"' in text(lead.get(f"/clients/{dupont.id}"))
    page = text(lead.get(f"/clients/{dupont.id}/invoices"))
    assert "Shooting photo" in page and "Affiches de la Rivale" not in page
    assert "Nouvelle facture" in page
    empty = text(lead.get(f"/clients/{world['rival'].id}/invoices"))
    assert "Affiches de la Rivale" in empty


def test_the_new_invoice_form_offers_empty_rows_and_a_line_template(world, lead):
    page = text(lead.get(f"/clients/{world['dupont'].id}/invoices/new"))
    assert page.count('name="lines-0-description"') == 1 and 'name="lines-2-description"' in page
    assert 'name="lines-3-description"' not in page
    assert "lines-__index__-description" in page and "<template data-line-template>" in page
    assert "Animation des réseaux" in page  # the client's contracts to choose from
    assert "<script" not in page.split("</head>")[1]  # no inline script (CSP)


def test_a_manual_invoice_is_saved_with_its_lines_and_default_vat(world, lead):
    contract = make_contract(world["dupont"], title="Contrat presse", vat="10.00")
    _db.session.commit()
    data = {
        "title": "Shooting photo",
        "contract": contract.id,
        "period_start": "2026-10-01",
        "period_end": "",
    }
    data |= line_fields(("Photos boutique", "2,5", "120,00", ""), ("Retouches", "1", "1 234,56 €", "20"))
    data |= line_fields(("", "", "", ""), start=2)  # an empty row: ignored
    response = lead.post(f"/clients/{world['dupont'].id}/invoices/new", data=data)
    invoice = _db.session.scalar(select(Invoice).where(Invoice.title == "Shooting photo"))
    assert response.headers["Location"].endswith(url(invoice))
    assert invoice.contract_id == contract.id and invoice.period_start == date(2026, 10, 1)
    assert [(li.description, li.quantity, li.unit_price, li.vat_rate) for li in invoice.lines] == [
        ("Photos boutique", D("2.5"), D("120.00"), D("10.00")),  # the contract's VAT
        ("Retouches", D("1"), D("1234.56"), D("20.00")),
    ]
    assert invoice.total_ht == D("1534.56") and invoice.status == InvoiceStatus.DRAFT
    page = text(lead.get(response.headers["Location"]))
    assert "Brouillon de facture enregistré" in page and "1 534,56 €" in page and "2,50" in page


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("Photos", "abc", "120", "20")], "Saisissez une quantité, par exemple 1 ou 2,5."),
        ([("Photos", "1", "-5", "20")], "Le montant ne peut pas être négatif."),
        ([("Photos", "-1", "5", "20")], "La quantité ne peut pas être négative"),
        ([("", "1", "120", "20")], "Indiquez une désignation."),
        ([("Photos", "1", "", "20")], "Indiquez un prix unitaire HT."),
        ([("Photos", "1", "12,345", "20")], "Au plus 2 décimales."),
        ([("Photos", "1", "120", "150")], "Un taux de TVA entre 0 et 100 %."),
        ([("", "", "", "")], "Ajoutez au moins une ligne"),
        (
            [(f"Ligne {i}", "1", "10", "20") for i in range(51)],
            "Une facture a au plus 50 lignes (vous en avez saisi 51).",
        ),
    ],
)
def test_invalid_lines_are_refused_with_a_clear_message_and_nothing_saved(world, lead, rows, message):
    data = {"title": "Shooting photo", "contract": ""} | line_fields(*rows)
    response = lead.post(f"/clients/{world['dupont'].id}/invoices/new", data=data)
    assert response.status_code == 200
    page = text(response)
    assert message in page and "Rien n'a été enregistré" in page
    assert invoice_count() == 0
    assert 'value="Photos"' in page or not rows[0][0] or rows[0][0].startswith("Ligne")  # typed values kept


def test_a_title_and_a_coherent_period_are_required(world, lead):
    data = {"title": " ", "period_start": "2026-10-31", "period_end": "2026-10-01"}
    page = text(
        lead.post(
            f"/clients/{world['dupont'].id}/invoices/new", data=data | line_fields(("A", "1", "1", "20"))
        )
    )
    assert "Donnez un objet à la facture." in page and "La fin de la période précède son début." in page
    other = make_contract(world["rival"], title="Contrat de la Rivale")
    _db.session.commit()
    page = text(
        lead.post(
            f"/clients/{world['dupont'].id}/invoices/new",
            data={"title": "X", "contract": other.id} | line_fields(("A", "1", "1", "20")),
        )
    )
    assert "Choisissez un contrat de ce client." in page
    assert invoice_count() == 0


# -- a draft ---------------------------------------------------------------------------------------


def test_a_draft_past_its_ceiling_asks_for_the_leads_decision(world, lead):
    draft = ceiling_draft(world)
    _db.session.commit()
    page = text(lead.get(url(draft)))
    assert "Dépassement du plafond du budget" in page
    assert "948,00 €" in page and "800,00 €" in page and "148,00 €" in page
    assert "Confirmer le dépassement" in page and "Plafonner au budget" in page
    assert '<button type="button" disabled>Émettre la facture</button>' in page  # not before deciding
    response = lead.post(url(draft, "issue"), follow_redirects=True)
    assert "plafond" in text(response)
    assert _db.session.get(Invoice, draft.id).number is None
    assert "Choisissez" in text(
        lead.post(url(draft, "ceiling"), data={"decision": "?"}, follow_redirects=True)
    )
    page = text(lead.post(url(draft, "ceiling"), data={"decision": "cap"}, follow_redirects=True))
    assert "Facture plafonnée au budget du mois." in page
    _db.session.expire_all()
    draft = _db.session.get(Invoice, draft.id)
    assert draft.ceiling_decision == CeilingDecision.CAPPED and draft.total_ht == D("799.80")


def test_confirming_the_excess_bills_it_all(world, lead):
    draft = ceiling_draft(world)
    _db.session.commit()
    page = text(lead.post(url(draft, "ceiling"), data={"decision": "confirm"}, follow_redirects=True))
    assert "Dépassement confirmé" in page and "Confirmer le dépassement" not in page
    assert _db.session.get(Invoice, draft.id).total_ht == D("948.00")


def test_a_draft_lists_what_blocks_its_issue(world, lead):
    garage = make_client("Garage Leroy")
    draft = make_invoice(garage, lead=world["lead"])
    _db.session.commit()
    page = text(lead.get(url(draft)))
    assert "Complétez l'adresse de facturation du client." in page and "Indiquez le SIREN du client." in page
    assert "attribué à l'émission" in page
    page = text(lead.post(url(draft, "issue"), follow_redirects=True))
    assert "Complétez l'adresse de facturation du client." in page
    assert _db.session.get(Invoice, draft.id).status == InvoiceStatus.DRAFT


def test_a_draft_is_edited_recalculated_and_deleted(world, lead):
    draft = draft_for_month(world["lead"], world["contract"], LAST_MONTH)
    _db.session.commit()
    form = text(lead.get(url(draft, "edit")))
    assert "forfait mensuel" in form and 'value="708,00"' in form and 'name="lines-3-description"' in form
    data = {"title": "Community management — mois dernier"}
    data |= line_fields(("Forfait remisé", "1", "600", "20"))
    response = lead.post(url(draft, "edit"), data=data)
    assert response.headers["Location"].endswith(url(draft))
    _db.session.expire_all()
    assert _db.session.get(Invoice, draft.id).total_ht == D("600.00")
    bad = lead.post(url(draft, "edit"), data={"title": "X"} | line_fields(("Forfait", "abc", "600", "20")))
    assert "Saisissez une quantité" in text(bad)
    _db.session.expire_all()
    assert _db.session.get(Invoice, draft.id).total_ht == D("600.00")

    page = text(lead.post(url(draft, "refresh"), follow_redirects=True))
    assert "Brouillon recalculé" in page
    assert _db.session.get(Invoice, draft.id).total_ht == D("708.00")

    page = text(lead.post(url(draft, "delete"), follow_redirects=True))
    assert "supprimé" in page and invoice_count() == 0


def test_a_draft_has_a_live_preview_for_the_lead(world, lead):
    draft = make_invoice(world["dupont"], lead=world["lead"], title="Shooting photo")
    _db.session.commit()
    assert f'href="{url(draft, "preview")}"' in text(lead.get(url(draft)))
    response = lead.get(url(draft, "preview"))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    page = text(response)
    assert "BROUILLON" in page and "Boulangerie Dupont" in page and "708,00" in page


def test_a_manual_draft_cannot_be_recalculated(world, lead):
    draft = make_invoice(world["dupont"], lead=world["lead"])
    _db.session.commit()
    page = text(lead.get(url(draft)))
    assert "Recalculer" not in page
    assert "Seule une facture de contrat se recalcule." in text(
        lead.post(url(draft, "refresh"), follow_redirects=True)
    )


def test_issuing_a_draft_numbers_it_and_shows_its_pdf_state(world, lead):
    draft = make_invoice(world["dupont"], lead=world["lead"], title="Shooting photo")
    _db.session.commit()
    page = text(lead.get(url(draft)))
    assert "Émettre la facture" in page and "ne pourra plus être modifié" in page
    response = lead.post(url(draft, "issue"))
    assert response.headers["Location"].endswith(url(draft))
    page = text(lead.get(url(draft)))
    assert f"Facture F{YEAR}-0001 émise" in page
    invoice = _db.session.get(Invoice, draft.id)
    assert invoice.number == f"F{YEAR}-0001" and invoice.issue_date == today()
    assert invoice.due_date.strftime("%d/%m/%Y") in page or invoice.due_date.strftime("%-d") in page
    status = lead.get(url(draft, "status")).get_json()
    assert set(status) >= {"finished", "percent", "state", "fields"}
    assert status["state"] == invoice.render_state


def test_an_issued_invoice_shows_its_pdf_credit_notes_and_amounts(world, lead):
    invoice = make_issued_invoice(world["dupont"], lead=world["lead"], title="Shooting photo")
    _db.session.commit()
    page = text(lead.get(url(invoice)))
    assert f"Facture F{YEAR}-0001" in page and "Télécharger le PDF" in page and "Prêt" in page
    assert "Reste dû" in page and "849,60 €" in page and "TVA 20 % sur 708,00 €" in page
    assert "Établir un avoir" in page and "Aucun avoir sur cette facture." in page
    assert "data-poll" not in page  # nothing to wait for
    assert lead.get(url(invoice, "pdf")).data.startswith(b"%PDF")


def test_a_pdf_waiting_is_polled_and_a_failed_one_can_be_retried(world, lead):
    waiting = make_issued_invoice(world["dupont"], lead=world["lead"], pdf=None)
    _db.session.commit()
    page = text(lead.get(url(waiting)))
    assert f'data-poll="{url(waiting, "status")}"' in page and "En file d'attente" in page
    assert lead.get(url(waiting, "status")).get_json()["finished"] is False
    waiting.render_state, waiting.render_error = RenderState.FAILED, "WeasyPrint : police introuvable"
    _db.session.commit()
    page = text(lead.get(url(waiting)))
    assert "police introuvable" in page and "Relancer la génération du PDF" in page
    status = lead.get(url(waiting, "status")).get_json()
    assert status["finished"] is True and status["fields"]["error"] == "WeasyPrint : police introuvable"
    lead.post(url(waiting, "render"))
    _db.session.expire_all()
    assert _db.session.get(Invoice, waiting.id).render_state != RenderState.FAILED or (
        _db.session.get(Invoice, waiting.id).render_error != "WeasyPrint : police introuvable"
    )


def test_every_change_to_an_issued_invoice_is_refused_from_the_app(world, lead):
    invoice = make_issued_invoice(world["dupont"], lead=world["lead"])
    _db.session.commit()
    before = (invoice.total_ttc, invoice.number, [(li.description, li.total_ht) for li in invoice.lines])
    frozen = "Une facture émise ne change plus : corrigez-la par un avoir."
    for response in (
        lead.get(url(invoice, "edit"), follow_redirects=True),
        lead.post(
            url(invoice, "edit"),
            data={"title": "X"} | line_fields(("X", "1", "1", "20")),
            follow_redirects=True,
        ),
        lead.post(url(invoice, "delete"), follow_redirects=True),
        lead.post(url(invoice, "refresh"), follow_redirects=True),
    ):
        assert response.status_code == 200 and frozen in text(response)
    response = lead.post(url(invoice, "ceiling"), data={"decision": "confirm"}, follow_redirects=True)
    assert frozen in text(response)
    response = lead.post(url(invoice, "issue"), follow_redirects=True)
    assert "déjà émise" in text(response)
    _db.session.expire_all()
    invoice = _db.session.get(Invoice, invoice.id)
    assert (
        invoice.total_ttc,
        invoice.number,
        [(li.description, li.total_ht) for li in invoice.lines],
    ) == before
    assert invoice.status == InvoiceStatus.ISSUED
    assert _db.session.scalar(select(func.count()).select_from(InvoiceLine)) == 1


# -- credit notes -------------------------------------------------------------------------------


def test_a_credit_note_needs_a_reason_and_then_is_a_draft_to_issue(world, lead):
    invoice = make_issued_invoice(world["dupont"], lead=world["lead"])
    _db.session.commit()
    form = text(lead.get(url(invoice, "credit-note")))
    assert "Motif de l'avoir" in form and 'value="708,00"' in form and "Annuler la facture" in form
    page = text(lead.post(url(invoice, "credit-note"), data={"reason": "", "scope": "full"}))
    assert "Indiquez le motif de l'avoir." in page and invoice_count() == 1
    response = lead.post(url(invoice, "credit-note"), data={"reason": "Erreur de forfait", "scope": "full"})
    credit = _db.session.scalar(select(Invoice).where(Invoice.credited_invoice_id == invoice.id))
    assert credit.is_draft and credit.total_ttc == invoice.total_ttc
    assert response.headers["Location"].endswith(url(credit))
    page = text(lead.get(url(credit)))
    assert "Avoir — brouillon" in page and f"Facture F{YEAR}-0001" in page and "Erreur de forfait" in page
    assert "Émettre l'avoir" in page
    lead.post(url(credit, "issue"))
    _db.session.expire_all()
    assert _db.session.get(Invoice, credit.id).number == f"A{YEAR}-0001"
    assert _db.session.get(Invoice, invoice.id).status == InvoiceStatus.CANCELLED
    page = text(lead.get(url(invoice)))
    assert f"A{YEAR}-0001" in page and "Annulée" in page and "Établir un avoir" not in page
    again = lead.get(url(invoice, "credit-note"), follow_redirects=True)
    assert "déjà annulée" in text(again)


def test_a_partial_credit_note_takes_the_chosen_lines(world, lead):
    invoice = make_issued_invoice(world["dupont"], lead=world["lead"])
    _db.session.commit()
    data = {"reason": "Geste commercial", "scope": "lines"} | line_fields(("Remise", "1", "100", "20"))
    lead.post(url(invoice, "credit-note"), data=data)
    credit = _db.session.scalar(select(Invoice).where(Invoice.credited_invoice_id == invoice.id))
    assert credit.total_ttc == D("120.00")
    too_much = {"reason": "Beaucoup trop", "scope": "lines"} | line_fields(("x", "1", "5000", "20"))
    page = text(lead.post(url(invoice, "credit-note"), data=too_much))
    assert "L'avoir dépasse ce qui reste à créditer" in page
    empty = {"reason": "Geste commercial", "scope": "lines"} | line_fields(("", "", "", ""))
    assert "Ajoutez au moins une ligne" in text(lead.post(url(invoice, "credit-note"), data=empty))
    assert invoice_count() == 2


def test_cancelling_an_invoice_issues_a_credit_note_at_once(world, lead):
    invoice = make_issued_invoice(world["dupont"], lead=world["lead"])
    _db.session.commit()
    page = text(lead.post(url(invoice, "cancel"), data={"reason": ""}, follow_redirects=True))
    assert "Indiquez pourquoi la facture est annulée." in page and invoice_count() == 1
    page = text(lead.post(url(invoice, "cancel"), data={"reason": "Commande annulée"}, follow_redirects=True))
    assert f"Facture F{YEAR}-0001 annulée par l'avoir A{YEAR}-0001." in page
    assert _db.session.get(Invoice, invoice.id).status == InvoiceStatus.CANCELLED
    credit = _db.session.scalar(select(Invoice).where(Invoice.credited_invoice_id == invoice.id))
    page = text(lead.get(url(credit)))
    assert f"Avoir A{YEAR}-0001" in page and "Facture corrigée" in page


def test_no_credit_note_on_a_draft(world, lead):
    draft = make_invoice(world["dupont"], lead=world["lead"])
    _db.session.commit()
    page = text(lead.get(url(draft, "credit-note"), follow_redirects=True))
    assert "Un avoir corrige une facture émise." in page
    page = text(lead.post(url(draft, "cancel"), data={"reason": "Pour voir"}, follow_redirects=True))
    assert "Un avoir corrige une facture émise." in page and invoice_count() == 1


# -- who may ------------------------------------------------------------------------------------


def lead_pages(invoice: Invoice) -> list[tuple[str, str]]:
    client = f"/clients/{invoice.client_id}/invoices"
    gets = [
        client,
        f"{client}/new",
        url(invoice),
        url(invoice, "edit"),
        url(invoice, "status"),
        url(invoice, "preview"),
        url(invoice, "credit-note"),
    ]
    posts = [f"{client}/new"] + [
        url(invoice, a)
        for a in ("edit", "refresh", "delete", "ceiling", "issue", "render", "credit-note", "cancel")
    ]
    return [("get", u) for u in gets] + [("post", u) for u in posts]


def test_cms_and_client_users_are_refused(world, client, login_as):
    draft = make_invoice(world["dupont"], lead=world["lead"])
    _db.session.commit()
    for user in (world["cm"], world["sophie"]):  # both see the client Dupont: 403
        login_as(user)
        assert client.get("/invoices").status_code == 403
        assert client.post("/invoices/issue", data={"ids": [draft.id]}).status_code == 403
        assert client.post("/invoices/draft-month", data={"month": f"{LAST_MONTH:%Y-%m}"}).status_code == 403
        for method, path in lead_pages(draft):
            assert getattr(client, method)(path).status_code == 403, (user.role, method, path)
    login_as(make_client_user(world["rival"]))  # another company: nothing there
    for method, path in lead_pages(draft):
        assert getattr(client, method)(path).status_code == 404, (method, path)
    assert _db.session.get(Invoice, draft.id).is_draft and invoice_count() == 1


def test_posts_need_the_csrf_token(world, lead, csrf_enabled):
    draft = make_invoice(world["dupont"], lead=world["lead"])
    _db.session.commit()
    assert lead.post(url(draft, "issue")).status_code == 400
    assert lead.post("/invoices/issue", data={"ids": [draft.id]}).status_code == 400
    assert lead.post(url(draft, "delete")).status_code == 400
    assert _db.session.get(Invoice, draft.id).is_draft and invoice_count() == 1
    page = text(lead.get(url(draft)))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert lead.post(url(draft, "issue"), data={"csrf_token": token}).status_code == 302
    assert _db.session.get(Invoice, draft.id).number == f"F{YEAR}-0001"


# -- month close ----------------------------------------------------------------------------------


def test_month_close_drafts_the_invoices_and_links_to_them(world, lead):
    response = lead.post("/time/close", data={"month": f"{LAST_MONTH:%Y-%m}"})
    progress = lead.get(response.headers["Location"])
    assert "1 brouillon de facture à relire et émettre." in plain(progress)
    assert f'href="/invoices?month={LAST_MONTH:%Y-%m}&status=draft"' in text(progress)
    lead.post("/time/close", data={"month": f"{LAST_MONTH:%Y-%m}"})
    assert invoice_count() == 1  # run twice: one draft
    draft = _db.session.scalar(select(Invoice))
    issue_invoice(world["lead"], draft)
    _db.session.commit()
    page = plain(lead.get(response.headers["Location"]))
    assert "Aucun brouillon : les factures du mois sont émises. 1 facture déjà émise." in page
