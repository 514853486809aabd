"""The development mail outbox: mails written to files, readable by a lead."""

from flask import Blueprint

bp = Blueprint("outbox", __name__, url_prefix="/outbox", template_folder="templates")
