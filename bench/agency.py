"""The generator's steps for the agency and its clients: settings,
activities, the team, clients with their contacts, contracts and terms, and
the CMs who serve them (each a function of the Context)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert

from app.agency.models import AgencySettings
from app.auth.models import Role, User
from app.clients.models import Client, ClientMember, CMAssignment, CompetitorGroup, WallOverride
from app.contracts.models import Contract, ContractTerms
from app.timesheets.calendar import add_months
from app.timesheets.models import Activity
from app.timesheets.services import DEFAULT_ACTIVITIES
from app.validators import luhn_check_digit
from bench import names
from bench.context import LEAD_EMAIL, Context, ContractRow, at, audit, client_email, cm_email, insert_rows

# -- the agency ------------------------------------------------------------------------------


def agency_settings(ctx: Context) -> None:
    """Complete enough to issue invoices (AgencySettings.is_complete), with
    the legal mentions of an SAS on them (capital, RCS) and the numbering."""
    invoicing = {
        "share_capital": Decimal("10000.00"),
        "rcs_city": "Annecy",
        "invoice_prefix": "F",
        "credit_note_prefix": "A",
        "late_penalty_rate": Decimal("10.00"),
    }
    ctx.conn.execute(insert(AgencySettings.__table__), [{"id": 1, **names.AGENCY, **invoicing}])
    ctx.made["agency settings"] += 1


def activities(ctx: Context) -> None:
    rows = [{"label": label, "position": i, "active": True} for i, label in enumerate(DEFAULT_ACTIVITIES)]
    ctx.activities = dict(zip(DEFAULT_ACTIVITIES, insert_rows(ctx, Activity, rows), strict=True))
    ctx.made["activities"] += len(rows)


def team(ctx: Context) -> None:
    """One lead and the CMs, all with the known password."""
    lead = {"email": LEAD_EMAIL, "name": "Marc Lefèvre", "role": Role.LEAD, "cost_rate": None}
    people = names.people(ctx.rnd, ctx.plan.cms)
    cms = [
        {
            "email": cm_email(n),
            "name": name,
            "role": Role.CM,
            "cost_rate": Decimal(ctx.rnd.randrange(1800, 3600, 50)) / 100,
        }
        for n, name in enumerate(people, start=1)
    ]
    rows = [lead, *cms]
    for row in rows:
        row.update(password_hash=ctx.password_hash, active=True, locale="fr", session_version=1)
    ids = insert_rows(ctx, User, rows)
    ctx.lead_id, ctx.cm_ids = ids[0], ids[1:]
    for cm_id, row in zip(ctx.cm_ids, cms, strict=True):
        ctx.cm_names[cm_id] = row["name"]
        ctx.cm_cost[cm_id] = row["cost_rate"]
    ctx.made["users (lead and CMs)"] += len(rows)


# -- a batch of clients ---------------------------------------------------------------------


def clients(ctx: Context) -> None:
    """The batch's companies; those of competitive trades get a competitor
    group per trade and city (created on first use)."""
    rnd = ctx.rnd
    rows = []
    for _ in range(ctx.wanted):
        trade, city, postal_code = rnd.choice(names.TRADES), *rnd.choice(names.CITIES)
        name = f"{trade} {rnd.choice(names.SURNAMES)}"
        while name in ctx.used_names:
            name = f"{trade} {rnd.choice(names.SURNAMES)} {rnd.choice(names.SUFFIXES)}"
        ctx.used_names.add(name)
        group_id = None
        if trade in names.COMPETITIVE_TRADES:
            key = (trade, city)
            if key not in ctx.groups:
                ctx.groups[key] = insert_rows(
                    ctx, CompetitorGroup, [{"name": f"{trade} — {city}", "description": ""}]
                )[0]
                ctx.made["competitor groups"] += 1
            group_id = ctx.groups[key]
        partial = f"{rnd.randrange(10**7, 10**8):08d}"
        siren = partial + luhn_check_digit(partial)
        rows.append(
            {
                "name": name,
                "siren": siren,
                "vat_number": f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}",
                "address_line": f"{rnd.randint(1, 120)} {rnd.choice(names.STREETS)}",
                "postal_code": postal_code,
                "city": city,
                "country_code": "FR",
                "billing_email": f"compta@{names.slug(name)}.example",
                "internal_notes": "",
                "competitor_group_id": group_id,
            }
        )
    ids = insert_rows(ctx, Client, rows)
    ctx.batch = [
        {"id": i, "name": r["name"], "group": r["competitor_group_id"]}
        for i, r in zip(ids, rows, strict=True)
    ]
    ctx.made["clients"] += len(rows)
    audit(
        ctx,
        [
            {
                "at": at(ctx.start - timedelta(days=7), 9),
                "action": "client.created",
                "object_type": "client",
                "object_id": c["id"],
                "client_id": c["id"],
                "summary": f"Client créé : {c['name']}",
            }
            for c in ctx.batch
        ],
    )


def client_users(ctx: Context) -> None:
    """One or two contacts per client, who log in to its portal."""
    users, companies = [], []
    for c in ctx.batch:
        for n in range(1, ctx.rnd.choice((1, 1, 2)) + 1):
            users.append(
                {
                    "email": client_email(c["id"], n),
                    "name": names.people(ctx.rnd, 1)[0],
                    "role": Role.CLIENT,
                    "password_hash": ctx.password_hash,
                    "active": True,
                    "locale": "fr",
                    "session_version": 1,
                    "cost_rate": None,
                }
            )
            companies.append(c["id"])
    ids = insert_rows(ctx, User, users)
    members = [
        {"client_id": client_id, "user_id": user_id, "job_title": "Gérant(e)"}
        for client_id, user_id in zip(companies, ids, strict=True)
    ]
    insert_rows(ctx, ClientMember, members)
    ctx.made["client users"] += len(users)


def contracts(ctx: Context) -> None:
    """One running contract per client: retainers (some with overage) and
    hourly contracts; one in five changed its terms six months ago."""
    rnd, plan = ctx.rnd, ctx.plan
    rows, terms_of = [], []
    for c in ctx.batch:
        start = ctx.start
        if rnd.random() < 0.1:  # signed during the year
            start = ctx.start + timedelta(days=rnd.randrange((plan.today - ctx.start).days - 20))
        channels = rnd.sample(names.CHANNELS, rnd.choice((1, 2, 2, 3)))
        rows.append(
            {
                "client_id": c["id"],
                "title": rnd.choice(names.CONTRACT_TITLES),
                "start_date": start,
                "end_date": None,
                "channels": channels,
                "created_at": at(start - timedelta(days=3), 10),
            }
        )
        terms = [_terms(rnd, start)]
        change = add_months(ctx.start, plan.months // 2)
        if start == ctx.start and rnd.random() < 0.2 and change > start:
            terms.append(_raised(terms[0], change))
        terms_of.append(terms)
    ids = insert_rows(ctx, Contract, rows)
    all_terms = []
    ctx.contracts = []
    for contract_id, row, terms in zip(ids, rows, terms_of, strict=True):
        for t in terms:
            t["contract_id"] = contract_id
        all_terms.extend(terms)
        ctx.contracts.append(
            ContractRow(
                contract_id,
                row["client_id"],
                row["start_date"],
                row["channels"],
                [(t["effective_from"], t["hourly_rate"]) for t in terms],
            )
        )
    insert_rows(ctx, ContractTerms, all_terms)
    ctx.made["contracts"] += len(rows)
    ctx.made["contract terms"] += len(all_terms)
    audit(
        ctx,
        [
            {
                "at": row["created_at"],
                "action": "contract.created",
                "object_type": "contract",
                "object_id": contract_id,
                "client_id": row["client_id"],
                "summary": f"Contrat « {row['title']} » créé",
            }
            for contract_id, row in zip(ids, rows, strict=True)
        ],
    )


def _terms(rnd: random.Random, start: date) -> dict:
    model = rnd.choices(("retainer", "retainer_overage", "hourly"), (55, 25, 20))[0]
    hours = rnd.choice((20, 25, 30, 30, 35, 40))
    fee = (Decimal(hours) * Decimal("23.60")).quantize(Decimal("1.00"))
    rate = Decimal(rnd.choice((40, 45, 50, 55, 60)))
    if model == "hourly":
        return _terms_row(start, model, None, None, rate, Decimal(rnd.choice((800, 1000, 1500))))
    if model == "retainer_overage":
        return _terms_row(start, model, fee, hours * 60, rate, fee + 10 * rate)
    return _terms_row(start, model, fee, hours * 60, None, fee)


def _terms_row(start, model, fee, included, rate, ceiling) -> dict:
    return {
        "effective_from": start,
        "billing_model": model,
        "monthly_fee": fee,
        "included_minutes": included,
        "hourly_rate": rate,
        "budget_ceiling": ceiling,
        "vat_rate": Decimal("20.00"),
    }


def _raised(terms: dict, effective_from: date) -> dict:
    """The same terms, 5 % dearer from `effective_from`."""

    def up(amount: Decimal | None) -> Decimal | None:
        return None if amount is None else (amount * Decimal("1.05")).quantize(Decimal("1.00"))

    return {
        **terms,
        "effective_from": effective_from,
        "monthly_fee": up(terms["monthly_fee"]),
        "hourly_rate": up(terms["hourly_rate"]),
        "budget_ceiling": up(terms["budget_ceiling"]),
    }


def assignments(ctx: Context) -> None:
    """One to three CMs per client, the least loaded first. A CM never serves
    two competitors, unless no one else is left: then a lead overrides the
    wall with a recorded reason, as the app asks."""
    rnd = ctx.rnd
    starts = {c.client_id: c.start for c in ctx.contracts}
    rows, crossings = [], []
    for c in ctx.batch:
        wanted = rnd.choice((1, 2, 2, 3))
        order = sorted(ctx.cm_ids, key=lambda cm: (ctx.cm_load[cm], rnd.random()))
        free = [cm for cm in order if c["group"] is None or c["group"] not in ctx.cm_groups[cm]]
        chosen = free[:wanted] or order[:1]
        ctx.serving[c["id"]] = chosen
        for cm in chosen:
            ctx.cm_load[cm] += 1
            competitor = ctx.cm_groups[cm].get(c["group"]) if c["group"] is not None else None
            crossings.append(competitor)
            if c["group"] is not None and competitor is None:
                ctx.cm_groups[cm][c["group"]] = c["id"]
            rows.append(
                {
                    "client_id": c["id"],
                    "cm_id": cm,
                    "since": starts[c["id"]],
                    "until": None,
                    "created_by_id": ctx.lead_id,
                    "created_at": at(starts[c["id"]] - timedelta(days=1), 11),
                }
            )
    ids = insert_rows(ctx, CMAssignment, rows)
    overrides = [
        {
            "assignment_id": assignment_id,
            "competitor_client_id": competitor,
            "reason": "Seule personne disponible : les deux clients ont donné leur accord écrit.",
            "created_by_id": ctx.lead_id,
            "created_at": row["created_at"],
        }
        for assignment_id, row, competitor in zip(ids, rows, crossings, strict=True)
        if competitor is not None
    ]
    insert_rows(ctx, WallOverride, overrides)
    ctx.made["CM assignments"] += len(rows)
    ctx.made["wall overrides"] += len(overrides)
    audit(
        ctx,
        [
            {
                "at": row["created_at"],
                "action": "assignment.created",
                "object_type": "cmassignment",
                "object_id": assignment_id,
                "client_id": row["client_id"],
                "summary": f"{ctx.cm_names[row['cm_id']]} affecté(e)",
                "data": {"cm_id": row["cm_id"], "since": row["since"].isoformat(), "until": None},
            }
            for assignment_id, row in zip(ids, rows, strict=True)
        ],
    )
