"""Mail, through one module: SMTP when MAIL_SERVER is set, otherwise a file
outbox in the instance folder that a lead can read in the app.

`send_mail()` queues the message (delivered once the transaction commits);
`deliver()` is the job that actually sends it.
"""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale

from app.jobs import enqueue


def outbox_dir(app: Flask | None = None) -> Path:
    app = app or current_app
    return Path(app.config.get("MAIL_OUTBOX_DIR") or Path(app.instance_path) / "outbox")


def uses_outbox(app: Flask | None = None) -> bool:
    app = app or current_app
    return not app.config.get("MAIL_SERVER")


@contextmanager
def in_language_of(user: Any) -> Iterator[None]:
    """Write what is inside (subject, body) in `user`'s language."""
    from app.formatting import LOCALES

    with force_locale(LOCALES.get(getattr(user, "locale", None) or "fr", LOCALES["fr"])):
        yield


def send_mail(to: str | list[str], subject: str, text: str, html: str | None = None) -> None:
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        return
    enqueue(
        "app.mail.deliver",
        {"to": recipients, "subject": subject, "text": text, "html": html},
        queue="mail",
    )


def build_message(message: dict[str, Any], sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = ", ".join(message["to"])
    # One line: a name typed with a line break (a client's, in "Question de
    # ...") would make the header, and the whole mail, fail.
    email["Subject"] = " ".join(str(message["subject"]).splitlines())
    email["Date"] = formatdate(localtime=True)
    email["Message-ID"] = make_msgid(domain="relais.local")
    email.set_content(message["text"])
    if message.get("html"):
        email.add_alternative(message["html"], subtype="html")
    return email


def deliver(message: dict[str, Any]) -> str:
    """Send one message; returns where it went (for logs and tests)."""
    app = current_app
    email = build_message(message, app.config["MAIL_SENDER"])
    if uses_outbox(app):
        folder = outbox_dir(app)
        folder.mkdir(parents=True, exist_ok=True)
        from app.timeutil import utcnow

        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        path = folder / name
        path.write_bytes(bytes(email))
        return str(path)
    with smtplib.SMTP(app.config["MAIL_SERVER"], app.config["MAIL_PORT"], timeout=30) as smtp:
        if app.config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if app.config.get("MAIL_USERNAME"):
            smtp.login(app.config["MAIL_USERNAME"], app.config["MAIL_PASSWORD"] or "")
        smtp.send_message(email)
    return "smtp"
