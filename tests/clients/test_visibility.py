"""The access rules' SQL is built once per request and user (app/access.py,
`_built`), but it stays SQL: what changes during the request shows at once,
and each user keeps its own."""

from __future__ import annotations

from sqlalchemy import select

from app import access
from app.clients.models import Client
from app.contracts.models import Contract
from tests.factories import assign, make_client, make_client_user, make_cm, make_contract


def test_an_assignment_made_during_the_request_shows_at_once(app, db):
    dupont, martin = make_client("Boulangerie Dupont"), make_client("Fromagerie Martin")
    make_contract(dupont), make_contract(martin)
    cm, other = make_cm(), make_cm()
    assign(other, martin)
    with app.test_request_context("/"):

        def contracts_seen_by(user):
            stmt = select(Contract.client_id).where(access.client_scope(Contract.client_id, user))
            return set(db.session.scalars(stmt))

        assert not access.can_view(cm, dupont)
        assert contracts_seen_by(cm) == set()
        assign(cm, dupont)
        db.session.flush()
        assert access.can_view(cm, dupont)
        assert contracts_seen_by(cm) == {dupont.id}
        visible = select(Client.id).where(access.visible_clients_clause(cm))
        assert set(db.session.scalars(visible)) == {dupont.id}
        # Each user its own rules, in the same request.
        assert contracts_seen_by(other) == {martin.id}
        assert not access.can_view(other, dupont)
        member = make_client_user(martin)
        assert contracts_seen_by(member) == {martin.id}
        # Archived during the request: a CM no longer sees it.
        dupont.archived_at = martin.created_at
        db.session.flush()
        assert contracts_seen_by(cm) == set()
