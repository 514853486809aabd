"""The document store: immutable files in the database, by SHA-256."""

from flask import Blueprint

bp = Blueprint("documents", __name__)
