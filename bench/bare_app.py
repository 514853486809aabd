"""The bare stack the HTTP benchmarks hold Relais against, in the same run:
Flask and Flask-SQLAlchemy on the same database, served by gunicorn with the
same settings, without login, access rules, forms, CSRF, i18n or templates
of any size.

    POST /entry   one time entry inserted in the same table as Relais's form
                  (same columns, indexes, foreign keys and month-lock trigger),
                  committed, answered with a redirect
    GET  /rows    one indexed select of 50 rows (a CM's latest entries, on
                  ix_time_entry_cm_day) rendered as a small HTML table

    DATABASE_URL=postgresql://... gunicorn -w 2 bench.bare_app:app
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

from flask import Flask, redirect, render_template_string, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Date, Numeric, String, Text, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Entry(db.Model):
    __tablename__ = "time_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int]
    contract_id: Mapped[int]
    cm_id: Mapped[int]
    day: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int]
    activity_id: Mapped[int]
    channel: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)
    hourly_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    cost_rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))


ROWS = """<!doctype html><title>rows</title><table>
{% for e in rows %}<tr><td>{{ e.day }}</td><td>{{ e.client_id }}</td><td>{{ e.minutes }}</td>
<td>{{ e.note }}</td></tr>{% endfor %}</table>"""


def create_app() -> Flask:
    app = Flask(__name__)
    url = os.environ["DATABASE_URL"]
    app.config["SQLALCHEMY_DATABASE_URI"] = url.replace("postgresql://", "postgresql+psycopg://", 1)
    db.init_app(app)

    @app.post("/entry")
    def entry():
        form = request.form
        db.session.add(
            Entry(
                client_id=int(form["client_id"]),
                contract_id=int(form["contract_id"]),
                cm_id=int(form["cm_id"]),
                day=date.fromisoformat(form["day"]),
                minutes=int(form["minutes"]),
                activity_id=int(form["activity_id"]),
                channel=form.get("channel") or None,
                note=form.get("note", ""),
            )
        )
        db.session.commit()
        return redirect("/rows")

    @app.get("/rows")
    def rows():
        cm_id = request.args.get("cm", type=int)
        stmt = select(Entry).where(Entry.cm_id == cm_id).order_by(Entry.day.desc()).limit(50)
        return render_template_string(ROWS, rows=db.session.scalars(stmt).all())

    return app


app = create_app() if "DATABASE_URL" in os.environ else None
