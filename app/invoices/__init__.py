"""Invoices and credit notes: drafts from each contract's month, gapless
numbers, French-compliant PDFs with Factur-X, payments and receivables."""

from flask import Blueprint

bp = Blueprint("invoices", __name__, template_folder="templates")
