"""Card payments with Stripe: the one package that imports stripe."""

from flask import Blueprint

bp = Blueprint("payments", __name__, template_folder="templates")
