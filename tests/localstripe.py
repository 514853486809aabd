"""pytest plugin: a real Stripe peer for the payment tests, localstripe.

The session fixture `localstripe` starts localstripe (installed in the venv)
on 127.0.0.1 and a free port, from scratch, and stops it at the end. Relais
is pointed at it through its settings (`localstripe.settings()`: secret and
publishable keys, webhook secret, STRIPE_API_BASE, and STRIPE_JS_URL, the fake
Stripe.js it serves at /js.stripe.com/v3/).

What a customer's browser would give Stripe.js is played through its API
(`pay()`: a PaymentMethod for a test card attached to the PaymentIntent, then
confirmed); localstripe then posts its signed webhook to the URL registered
with `deliver_to()`. It signs as Stripe does (webhooks.py): HMAC-SHA256 of
"<created>.<body>" with the secret, header "t=<created>,v1=<hex>", the body
being the event as `json.dumps(event, indent=2, sort_keys=True)`; `signed()`
builds the same for events a test sends itself (refunds, which localstripe
never announces, or a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SECRET_KEY = "sk_test_relais_localstripe"
PUBLISHABLE_KEY = "pk_test_relais_localstripe"
WEBHOOK_SECRET = "whsec_relais_localstripe_tests"
CARD_OK = "4242424242424242"
CARD_3DS = "4000002760003184"  # asks for authentication (3D Secure)
CARD_DECLINED = "4000000000000341"

# localstripe's server, bound to 127.0.0.1 only, its store kept in memory
# (the `localstripe` command listens on every interface and pickles its
# store to /tmp/localstripe.pickle after each write).
RUNNER = """
import sys
from aiohttp import web
import localstripe.resources
localstripe.resources.Store.dump_to_disk = lambda self: None
from localstripe.server import app
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _form(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding: card[number]=..., items[0][x]=..."""
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, dict):
            pairs += _form(value, name)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                pairs += _form({str(i): item}, name)
        elif value is not None:
            pairs.append((name, str(value).lower() if isinstance(value, bool) else str(value)))
    return pairs


class LocalStripe:
    def __init__(self, url: str, log: Path):
        self.url = url
        self.log = log

    def settings(self) -> dict[str, str]:
        """The app settings that point Relais at this localstripe."""
        return {
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.url,
            "STRIPE_JS_URL": f"{self.url}/js.stripe.com/v3/",
        }

    # -- its API ------------------------------------------------------------
    def api(self, method: str, path: str, data: dict[str, Any] | None = None) -> dict:
        body = urllib.parse.urlencode(_form(data or {})).encode() if method != "GET" else None
        url = self.url + path
        if method == "GET" and data:
            url += "?" + urllib.parse.urlencode(_form(data))
        request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 (localstripe)
        request.add_header("Authorization", f"Bearer {SECRET_KEY}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our own localstripe)
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            raise AssertionError(f"localstripe {method} {path}: {error.code} {error.read()!r}") from error
        return json.loads(text) if text.strip() else {}

    def intent(self, intent_id: str) -> dict:
        return self.api("GET", f"/v1/payment_intents/{intent_id}")

    def create_intent(self, amount_cents: int, metadata: dict[str, str]) -> dict:
        """A PaymentIntent made outside Relais (as in Stripe's dashboard)."""
        return self.api(
            "POST", "/v1/payment_intents", {"amount": amount_cents, "currency": "eur", "metadata": metadata}
        )

    def pay(self, intent_id: str, number: str = CARD_OK) -> dict:
        """What Stripe.js does with the card typed in its element: a
        PaymentMethod attached to the PaymentIntent, then confirmed."""
        method = self.api(
            "POST",
            "/v1/payment_methods",
            {"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}},
        )
        self.api("POST", f"/v1/payment_intents/{intent_id}", {"payment_method": method["id"]})
        return self.api("POST", f"/v1/payment_intents/{intent_id}/confirm")

    def refund(self, intent_id: str, amount_cents: int | None = None) -> dict:
        return self.api("POST", "/v1/refunds", {"payment_intent": intent_id, "amount": amount_cents})

    def charge(self, charge_id: str) -> dict:
        return self.api("GET", f"/v1/charges/{charge_id}")

    def events_of(self, object_id: str, event_type: str | None = None) -> list[dict]:
        """The events localstripe made about an object, oldest first."""
        query: dict[str, Any] = {"limit": 100, "type": event_type}
        events: list[dict] = []
        while True:
            listed = self.api("GET", "/v1/events", query)
            events += [e for e in listed["data"] if e["data"]["object"].get("id") == object_id]
            if not listed["has_more"]:
                return events  # localstripe lists them oldest first
            query["starting_after"] = listed["data"][-1]["id"]

    # -- its webhooks -------------------------------------------------------
    def deliver_to(self, url: str) -> None:
        """Post every event, signed with WEBHOOK_SECRET, to `url`."""
        self.api("POST", "/_config/webhooks/relais", {"url": url, "secret": WEBHOOK_SECRET})

    def stop_delivery(self) -> None:
        """Keep the registration, for no event type at all."""
        self.api(
            "POST",
            "/_config/webhooks/relais",
            {"url": "http://127.0.0.1:9/", "secret": WEBHOOK_SECRET, "events": ["none.at_all"]},
        )


def event_body(event: dict) -> bytes:
    """An event's body as localstripe posts it."""
    return json.dumps(event, indent=2, sort_keys=True).encode()


def signature(body: bytes, timestamp: int | None = None, secret: str = WEBHOOK_SECRET) -> str:
    """The Stripe-Signature header for `body`, as Stripe (and localstripe) make it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), b"%d.%s" % (timestamp, body), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def make_event(event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
    """An event as Stripe sends it, around `obj` (for the events localstripe never sends)."""
    created = int(time.time())
    return {
        "id": event_id or f"evt_test_{obj['id']}_{event_type.replace('.', '_')}",
        "object": "event",
        "api_version": "2017-08-15",
        "created": created,
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
    }


def signed(event: dict, *, timestamp: int | None = None, secret: str = WEBHOOK_SECRET) -> dict[str, Any]:
    """Keyword arguments for client.post(): the body and its signature."""
    body = event_body(event)
    return {
        "data": body,
        "content_type": "application/json; charset=utf-8",
        "headers": {"Stripe-Signature": signature(body, timestamp, secret)},
    }


def _wait_until_up(process: subprocess.Popen, url: str, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"localstripe exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/js.stripe.com/v3/", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"localstripe did not answer on {url}:\n{log.read_text()}")


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory) -> Iterator[LocalStripe]:
    folder = tmp_path_factory.mktemp("localstripe")
    log = folder / "localstripe.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and a fixed script)
            [sys.executable, "-c", RUNNER, str(port)], stdout=out, stderr=subprocess.STDOUT, cwd=folder
        )
    try:
        _wait_until_up(process, url, log)
        yield LocalStripe(url, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def stripe_on(app, localstripe) -> Iterator[LocalStripe]:
    """The test app configured for card payments against localstripe (no
    webhook delivery: the tests post the events themselves)."""
    saved = {key: app.config.get(key) for key in localstripe.settings()}
    app.config.update(localstripe.settings())
    localstripe.stop_delivery()
    try:
        yield localstripe
    finally:
        app.config.update(saved)
