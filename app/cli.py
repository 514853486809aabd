"""Command-line tools: `flask --app wsgi <command>`."""

from flask import Flask


def register(app: Flask) -> None:
    pass
