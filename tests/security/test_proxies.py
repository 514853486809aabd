"""Behind a TLS proxy (TRUSTED_PROXIES), the app sees the client's address
and scheme; without it, forwarded headers from anyone change nothing."""

from __future__ import annotations

import pytest
from flask import request

from app import create_app
from app.access import public
from app.config import TestConfig
from tests import services

FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "relais.example",
}


def echo_app(database_url: str, proxies: int):
    app = create_app(
        TestConfig,
        {**services.database_settings(database_url), "TRUSTED_PROXIES": proxies, "REDIS_URL": None},
    )

    @app.route("/_echo")
    @public
    def echo():
        return f"{request.remote_addr} {request.scheme} {request.host}"

    return app


def test_one_trusted_proxy_gives_the_clients_address_scheme_and_host(database_url):
    answer = echo_app(database_url, 1).test_client().get("/_echo", headers=FORWARDED)
    assert answer.get_data(as_text=True) == "203.0.113.7 https relais.example"


def test_without_trusted_proxies_forwarded_headers_are_ignored(database_url):
    answer = echo_app(database_url, 0).test_client().get("/_echo", headers=FORWARDED)
    assert answer.get_data(as_text=True) == "127.0.0.1 http localhost"


def test_a_negative_count_is_refused(database_url):
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        echo_app(database_url, -1)


def test_postgresql_connections_give_up_after_a_few_seconds(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL's connect_timeout")
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["connect_timeout"] == 5
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
