"""Time entries, month locks, and the CM's day and week views."""

from flask import Blueprint

bp = Blueprint("timesheets", __name__, template_folder="templates")
