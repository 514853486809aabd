"""A client's question on a report reaches every active lead by mail (the
queue, here the outbox), in the lead's language, with a link to the
report's page where the agency answers."""

from __future__ import annotations

from babel.dates import format_date

from tests.factories import make_client_user, make_lead


def ask(client, login_as, shop, body: str):
    login_as(shop.sophie)
    url = f"/clients/{shop.dupont.id}/reports/{shop.published.id}/question"
    return client.post(url, data={"body": body})


def test_each_active_lead_gets_the_question_with_a_link_to_the_report(client, login_as, shop, outbox):
    english = make_lead(name="Emma Lead", email="emma@agence.example")
    english.locale = "en"
    make_lead(name="Ancien Lead", email="old@agence.example", active=False)
    make_lead(name="Invité", email="pending@agence.example", pending=True)
    make_client_user(shop.dupont, email="colleague@dupont.example")
    question = "Pourquoi moins de posts sur TikTok\nen fin de mois ?"

    response = ask(client, login_as, shop, question)
    assert response.status_code == 302

    mails = {m["To"]: m for m in outbox.messages}
    assert sorted(mails) == sorted([shop.lead.email, english.email])  # no CM, client, inactive or pending
    link = f"http://localhost/clients/{shop.dupont.id}/reports/{shop.published.id}#signoff"
    subjects = {
        "fr_FR": "Question de Boulangerie Dupont sur le rapport de {month}",
        "en_GB": "Question from Boulangerie Dupont about the {month} report",
    }
    for address, lang in ((shop.lead.email, "fr_FR"), (english.email, "en_GB")):
        mail = mails[address]
        month = format_date(shop.published.month, "LLLL yyyy", locale=lang)
        assert mail["Subject"] == subjects[lang].format(month=month)
        body = outbox.body(mail)
        assert "Sophie Dupont (Boulangerie Dupont)" in body
        assert (
            f"{month} activity report (Animation Instagram)" in body
            if lang == "en_GB"
            else f"{month} (Animation Instagram)" in body
        )
        assert question in body
        assert link in body
        assert not any(part.get_filename() for part in mail.walk())


def test_a_refused_question_mails_nobody(client, login_as, shop, outbox):
    assert ask(client, login_as, shop, "   ").status_code == 302
    assert outbox.messages == []


def test_the_link_leads_the_lead_to_the_answer_form(client, login_as, shop, outbox):
    ask(client, login_as, shop, "Une question ?")
    [mail] = outbox.messages
    path = outbox.body(mail).split("http://localhost", 1)[1].split()[0].split("#")[0]
    login_as(shop.lead)
    page = client.get(path)
    assert page.status_code == 200
    assert "Une question ?" in page.get_data(as_text=True)
