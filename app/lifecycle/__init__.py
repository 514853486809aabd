"""A client's data over its life: the archive a lead hands over when a
client leaves, the erasure of its personal data once the retention period
has passed, and the database's backup and restore (`flask backup`,
`flask restore`)."""

from flask import Blueprint

bp = Blueprint("lifecycle", __name__, template_folder="templates")
