"""Monthly activity reports: drafts, PDFs rendered by jobs, publication,
client sign-off and share links."""

from flask import Blueprint

bp = Blueprint("reports", __name__, template_folder="templates")
