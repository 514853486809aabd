"""Contracts: billing models, versioned terms, monthly budgets."""

from flask import Blueprint

bp = Blueprint("contracts", __name__, template_folder="templates")
