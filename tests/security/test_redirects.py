"""`next` leads only to a page of this site: every open-redirect trick lands
on the app (login, already logged in, the language switch)."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.urls import iri_to_uri

from app.security import safe_next
from tests.factories import PASSWORD, make_lead
from tests.security.conftest import post_login

HOSTILE = [
    "//evil.com",
    "///evil.com",
    "////evil.com/path",
    "https://evil.com",
    "HTTPS://evil.com",
    "http:evil.com",
    "https:/evil.com",
    "ftp://evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "\\/evil.com",
    "/\\/evil.com",
    "/%5C/evil.com\\",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.domain)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/\t/evil.com",
    "/\n/evil.com",
    "/\r\n/evil.com",
    "/\x7f/evil.com",
    "%2F%2Fevil.com",
    "%5C%5Cevil.com",
    "evil.com",
    "@evil.com",
    "https://localhost@evil.com",
    "／／evil.com",  # fullwidth solidus
    " //evil.com",
    "",
]

# Refused before any view reads them (400), or by safe_next.
NUL = "\x00//evil.com"

# Odd but harmless: they stay paths of this site.
HARMLESS = ["/%2F%2Fevil.com", "/%5Cevil.com", "/@evil.com", "/javascript:alert(1)", "/／evil.com"]


def assert_lands_on_the_app(response) -> str:
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location and not any(ord(c) < 32 or ord(c) == 127 for c in location)
    target = urlsplit(urljoin("https://relais.example/login", location))
    assert (target.scheme, target.netloc) == ("https", "relais.example")
    return location


@pytest.mark.parametrize("hostile", HOSTILE)
def test_login_sends_hostile_next_home(client, db, hostile):
    make_lead(email="marc@agence.example")
    response = post_login(client, "marc@agence.example", query_string={"next": hostile})
    assert assert_lands_on_the_app(response) == "/"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_logged_in_visit_to_login_sends_hostile_next_home(client, login_as, db, hostile):
    login_as(make_lead())
    response = client.get("/login", query_string={"next": hostile})
    assert assert_lands_on_the_app(response) == "/"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_language_switch_sends_hostile_next_home(client, db, hostile):
    response = client.post("/language", data={"lang": "en", "next": hostile})
    assert assert_lands_on_the_app(response) == "/"


@pytest.mark.parametrize(
    "raw_query",
    ["next=%2F%2Fevil.com", "next=%5C%5Cevil.com", "next=%2F%5Cevil.com", "next=https%3A%2F%2Fevil.com"],
)
def test_percent_encoded_next_is_decoded_once_then_refused(client, db, raw_query):
    make_lead(email="marc@agence.example")
    response = client.post(f"/login?{raw_query}", data={"email": "marc@agence.example", "password": PASSWORD})
    assert assert_lands_on_the_app(response) == "/"


@pytest.mark.parametrize("odd", HARMLESS)
def test_odd_paths_of_this_site_stay_on_it(client, db, odd):
    make_lead(email="marc@agence.example")
    response = post_login(client, "marc@agence.example", query_string={"next": odd})
    assert assert_lands_on_the_app(response) == iri_to_uri(odd)


def test_a_page_of_this_site_is_followed(client, db):
    make_lead(email="marc@agence.example")
    response = post_login(client, "marc@agence.example", query_string={"next": "/clients?q=dupont&page=2"})
    assert assert_lands_on_the_app(response) == "/clients?q=dupont&page=2"


@pytest.mark.parametrize("hostile", [*HOSTILE, NUL])
def test_safe_next_refuses_every_hostile_target(hostile):
    assert safe_next(hostile) is None


def test_a_nul_in_next_is_refused_without_redirecting(client, db):
    make_lead(email="marc@agence.example")
    response = post_login(client, "marc@agence.example", query_string={"next": NUL})
    assert response.status_code == 400 and "Location" not in response.headers
