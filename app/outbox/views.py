"""The development mail outbox (no SMTP server configured): the mails the app
wrote to files, newest first, readable by a lead. With SMTP, these pages do
not exist (404)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parsedate_to_datetime
from math import ceil
from pathlib import Path

from flask import abort, current_app, render_template, request
from markupsafe import Markup, escape

from app.access import lead_required
from app.mail import outbox_dir, uses_outbox
from app.outbox import bp

# Exactly the names app.mail.deliver writes: <UTC timestamp>-<8 hex>.eml
MAIL_NAME = re.compile(r"\A(?P<stamp>\d{8}T\d{12})-[0-9a-f]{8}\.eml\Z")
LINK = re.compile(r"https?://[^\s<>\"']+")


@bp.before_request
def only_without_smtp():
    if not uses_outbox():
        abort(404)


@dataclass
class MailSummary:
    name: str
    sent_at: datetime | None
    to: str
    subject: str


@dataclass
class FilePage:
    """Just what the `pagination` macro reads, for a list of files."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def mail_names(folder: Path) -> list[str]:
    """The mail files of the outbox, newest first (names start with their time)."""
    if not folder.is_dir():
        return []
    return sorted((p.name for p in folder.iterdir() if MAIL_NAME.match(p.name) and p.is_file()), reverse=True)


def _sent_at(name: str, header: str | None) -> datetime | None:
    if header:
        try:
            return parsedate_to_datetime(header)
        except (TypeError, ValueError):
            pass
    stamp = MAIL_NAME.match(name)
    if stamp is None:
        return None
    return datetime.strptime(stamp.group("stamp"), "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)


def summary(path: Path) -> MailSummary:
    with path.open("rb") as fh:
        headers = BytesHeaderParser(policy=policy.default).parse(fh)
    return MailSummary(
        name=path.name,
        sent_at=_sent_at(path.name, headers.get("Date")),
        to=str(headers.get("To", "")),
        subject=str(headers.get("Subject", "")),
    )


def mail_path(name: str) -> Path:
    """The file of a mail named in a URL, or 404: strict name, inside the outbox."""
    if not MAIL_NAME.match(name):
        abort(404)
    folder = outbox_dir()
    path = folder / name
    if path.parent != folder or not path.is_file():
        abort(404)
    return path


def linkify(text: str) -> Markup:
    """Escape a mail's text and make its http(s) links clickable."""
    out, last = [], 0
    for match in LINK.finditer(text):
        url = match.group(0).rstrip(".,;:!?)")
        end = match.start() + len(url)
        out.append(escape(text[last : match.start()]))
        out.append(Markup('<a href="{0}" rel="noreferrer">{0}</a>').format(url))
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


@bp.route("")
@lead_required
def index():
    names = mail_names(outbox_dir())
    per_page = current_app.config["PER_PAGE"]
    number = max(1, request.args.get("page", 1, type=int))
    page = FilePage(items=[], page=number, per_page=per_page, total=len(names))
    folder = outbox_dir()
    page.items = [summary(folder / name) for name in names[(number - 1) * per_page : number * per_page]]
    return render_template("outbox/index.html", page=page)


@bp.route("/<name>")
@lead_required
def show(name: str):
    path = mail_path(name)
    with path.open("rb") as fh:
        message = BytesParser(policy=policy.default).parse(fh)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return render_template(
        "outbox/show.html",
        name=name,
        mail=summary(path),
        sender=str(message.get("From", "")),
        body=linkify(text),
    )
