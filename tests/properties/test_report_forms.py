"""Reports: opening one, its draft and figures, the client's question, the
agency's answer and share links, fed hostile text, counts and percentages,
and another client's report ids."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db as _db
from app.reports.models import ChannelFigure, ShareLink
from tests.properties.support import DATES, FORMS, NUMBERS, attempt, hostile_text, maybe, other_ids, posted


def _numbers() -> st.SearchStrategy[str]:
    return st.sampled_from(NUMBERS) | hostile_text()


@FORMS
@given(data=st.data())
def test_opening_a_report_refuses_hostile_months_and_other_contracts(client, login_as, world, data):
    login_as(world.cm)
    form = data.draw(
        posted(
            {"contract": str(world.contract.id), "month": "2025-06"},
            {
                "contract": other_ids(world.other_contract.id),
                "month": st.sampled_from(DATES + ["2099-12", "2024-12"]) | hostile_text(),
            },
        )
    )
    answer, changed = attempt(client, f"/clients/{world.own.id}/reports/open", form, secrets=world.secrets)
    if not answer.refused:
        assert set(changed) <= {"report"}


@FORMS
@given(data=st.data(), role=st.sampled_from(["lead", "cm"]))
def test_a_draft_refuses_hostile_figures_and_highlights(client, login_as, world, data, role):
    login_as(world.lead if role == "lead" else world.cm)
    valid = {
        "highlights": "Un bon mois",
        "figure_facebook-followers": "1 250",
        "figure_facebook-posts": "12",
        "figure_facebook-engagement": "4,5",
        "figure_instagram-followers": "",
    }
    form = data.draw(
        posted(
            valid,
            {
                "highlights": hostile_text() | st.just("x" * 20_001),
                "figure_facebook-followers": _numbers(),
                "figure_facebook-posts": _numbers(),
                "figure_facebook-engagement": _numbers()
                | st.sampled_from(["100", "100,01", "-0,5", "4,555"]),
                "figure_myspace-followers": _numbers(),
            },
        )
    )
    answer, changed = attempt(
        client, f"/clients/{world.own.id}/reports/{world.report.id}", form, secrets=world.secrets
    )
    if not answer.refused:
        _db.session.refresh(world.report)
        assert len(world.report.highlights) <= 20_000
        for figure in _db.session.scalars(
            select(ChannelFigure).where(ChannelFigure.report_id == world.report.id)
        ):
            assert figure.followers is None or 0 <= figure.followers <= 1_000_000_000
            assert figure.engagement is None or 0 <= figure.engagement <= 100


@FORMS
@given(body=maybe(["Pourquoi si peu de posts TikTok ?"]), theirs=st.booleans())
def test_the_clients_question_refuses_hostile_text(client, login_as, world, body, theirs):
    login_as(world.member)
    report = world.other_report if theirs else world.published
    answer, changed = attempt(
        client, f"/clients/{world.own.id}/reports/{report.id}/question", {"body": body}, secrets=world.secrets
    )
    if theirs:
        assert answer.status in (400, 404) and changed == []
    elif not answer.refused:
        assert 0 < len(body.strip()) <= 4000


@FORMS
@given(body=maybe(["Parce que le compte était en pause."]), theirs=st.booleans())
def test_the_agencys_answer_refuses_hostile_text(client, login_as, world, body, theirs):
    login_as(world.cm)
    report = world.other_report if theirs else world.published
    answer, changed = attempt(
        client, f"/clients/{world.own.id}/reports/{report.id}/answer", {"body": body}, secrets=world.secrets
    )
    if theirs:
        assert answer.status in (400, 404) and changed == []


@FORMS
@given(data=st.data())
def test_share_links_refuse_hostile_durations_and_labels(client, login_as, world, data):
    login_as(world.lead)
    form = data.draw(posted({"label": "Direction", "days": "30"}, {"days": _numbers() | st.just("366")}))
    answer, changed = attempt(
        client, f"/clients/{world.own.id}/reports/{world.published.id}/links", form, secrets=world.secrets
    )
    if not answer.refused:
        link = _db.session.scalar(select(ShareLink).order_by(ShareLink.id.desc()).limit(1))
        assert link.report_id == world.published.id and len(link.label) <= 120
