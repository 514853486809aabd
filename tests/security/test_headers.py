"""Every response carries the security headers: pages, errors, static files,
JSON; HSTS only outside development and the tests; no template needs an
inline script or style the Content-Security-Policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import security
from tests.factories import make_client, make_invoice, make_lead

APP = Path(security.__file__).resolve().parent

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_hardened(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    csp = {
        directive.split()[0]: directive.split()[1:]
        for directive in response.headers["Content-Security-Policy"].split(";")
    }
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "script-src" not in csp  # scripts: 'self' only (default-src), never 'unsafe-inline'
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "stripe" not in response.headers["Content-Security-Policy"]
    permissions = response.headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "usb=()"):
        assert feature in permissions


def test_a_page_carries_every_header(client, db):
    response = client.get("/login")
    assert response.status_code == 200
    assert_hardened(response)


def test_a_logged_in_page_is_not_cached(client, login_as, db):
    login_as(make_lead())
    response = client.get("/clients")
    assert response.status_code == 200
    assert_hardened(response)
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_404_carries_every_header(client, login_as, db):
    login_as(make_lead())
    response = client.get("/clients/999999999")
    assert response.status_code == 404
    assert_hardened(response)
    assert_hardened(client.get("/no/such/page"))


def test_a_static_file_carries_every_header_and_keeps_its_caching(client, login_as, db):
    login_as(make_lead())
    response = client.get("/static/js/relais.js")
    assert response.status_code == 200
    assert_hardened(response)
    assert response.headers["Cache-Control"] != "private, no-store"  # send_file's own caching


def test_a_json_endpoint_carries_every_header(client, login_as, db):
    lead = make_lead()
    invoice = make_invoice(make_client(), lead=lead)
    login_as(lead)
    response = client.get(f"/clients/{invoice.client_id}/invoices/{invoice.id}/status")
    assert response.status_code == 200 and response.is_json
    assert_hardened(response)


def test_a_public_json_error_carries_every_header(client, db):
    response = client.post("/stripe/webhook", data=b"{}", content_type="application/json")
    assert response.status_code == 400 and response.is_json
    assert_hardened(response)


def test_no_hsts_in_the_tests(client, db):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_no_hsts_in_development(development_app):
    browser = development_app.test_client()
    for response in (browser.get("/login"), browser.get("/static/css/relais.css"), browser.get("/nope")):
        assert "Strict-Transport-Security" not in response.headers
        assert_hardened(response)


def test_hsts_everywhere_in_production(production):
    browser = production.test_client()
    for response in (browser.get("/login"), browser.get("/static/css/relais.css"), browser.get("/nope")):
        hsts = response.headers["Strict-Transport-Security"]
        assert re.fullmatch(r"max-age=(\d+); includeSubDomains", hsts)
        assert int(hsts.split("=")[1].split(";")[0]) >= 365 * 24 * 3600
        assert_hardened(response)


def test_a_views_own_policy_is_kept(app, db):
    """The payment page adds Stripe to its CSP, a shared report sends no
    referrer: the defaults do not overwrite them."""
    from flask import Response

    own = {
        "Content-Security-Policy": "default-src 'self' https://js.stripe.com",
        "Referrer-Policy": "no-referrer",
    }
    with app.test_request_context("/"):
        response = security.add_security_headers(Response("ok", headers=own))
    for name, value in own.items():
        assert response.headers[name] == value
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# -- templates: nothing the Content-Security-Policy would block -------------------

TEMPLATES = sorted(APP.glob("**/templates/**/*.html"))
BLOCKED = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_the_templates_were_found():
    assert len(TEMPLATES) > 50
    assert APP / "templates" / "base.html" in TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(APP)))
def test_no_template_needs_inline_script_or_style(template):
    text = template.read_text()
    found = [kind for kind, pattern in BLOCKED.items() if pattern.search(text)]
    assert not found, f"{template.relative_to(APP)}: {', '.join(found)}"
