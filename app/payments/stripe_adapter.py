"""The one module that talks to Stripe (and the only one importing stripe).

Everything it returns is plain Python: `Intent` and `Refund` values, and
webhook events as the dict Stripe signed. Errors come out as
`PaymentProviderError` (Stripe unreachable or refusing) and `WebhookError`
(an event that is not Stripe's), so callers never see stripe's classes.
Keys and addresses come from the app's config on every call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import stripe
from flask import current_app

FINAL_STATUSES = frozenset({"succeeded", "canceled"})
TIMEOUT_SECONDS = 20
NETWORK_RETRIES = 2  # safe: every creation carries an idempotency key


class PaymentProviderError(RuntimeError):
    """Stripe could not be reached or refused the request."""


class WebhookError(ValueError):
    """A webhook request that is not a genuine, recent Stripe event."""


@dataclass(frozen=True)
class Intent:
    id: str
    status: str
    amount: int  # cents
    amount_received: int  # cents (0 until it succeeds)
    currency: str
    client_secret: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    created: int | None = None  # Unix time

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


@dataclass(frozen=True)
class Refund:
    id: str
    status: str
    amount: int  # cents, positive
    currency: str
    payment_intent: str | None
    charge: str | None
    created: int | None = None


def _client() -> stripe.StripeClient:
    config = current_app.config
    key = config.get("STRIPE_SECRET_KEY")
    if not key:
        raise PaymentProviderError("STRIPE_SECRET_KEY is not set")
    base = config.get("STRIPE_API_BASE")
    return stripe.StripeClient(
        key,
        base_addresses={"api": base.rstrip("/")} if base else None,
        max_network_retries=NETWORK_RETRIES,
        http_client=stripe.new_default_http_client(timeout=TIMEOUT_SECONDS),
    )


def _object_id(value: Any) -> str | None:
    """An id from a field Stripe may give expanded (an object) or not (an id)."""
    if value is None or isinstance(value, str):
        return value
    return value.get("id") if isinstance(value, dict) else getattr(value, "id", None)


def intent_from(data: dict[str, Any]) -> Intent:
    """An Intent from a PaymentIntent as Stripe sends it (API or event)."""
    status = data.get("status") or ""
    amount = int(data.get("amount") or 0)
    received = data.get("amount_received")
    if received is None:  # not sent by every API version (nor by localstripe)
        received = amount if status == "succeeded" else 0
    return Intent(
        id=data["id"],
        status=status,
        amount=amount,
        amount_received=int(received),
        currency=(data.get("currency") or "").lower(),
        client_secret=data.get("client_secret"),
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
        created=data.get("created"),
    )


def refund_from(data: dict[str, Any]) -> Refund:
    return Refund(
        id=data["id"],
        status=data.get("status") or "",
        amount=int(data.get("amount") or 0),
        currency=(data.get("currency") or "").lower(),
        payment_intent=_object_id(data.get("payment_intent")),
        charge=_object_id(data.get("charge")),
        created=data.get("created"),
    )


def _call(action):
    try:
        return action()
    except stripe.StripeError as error:
        message = getattr(error, "user_message", None) or str(error) or type(error).__name__
        raise PaymentProviderError(message) from error


def create_intent(
    *, amount_cents: int, currency: str, metadata: dict[str, str], idempotency_key: str
) -> Intent:
    """A card PaymentIntent. The same idempotency key gives back the same
    intent (at Stripe, for 24 hours) instead of a second one."""
    params = {
        "amount": amount_cents,
        "currency": currency,
        "payment_method_types": ["card"],
        "metadata": metadata,
    }
    created = _call(
        lambda: _client().v1.payment_intents.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    )
    return intent_from(created.to_dict())


def retrieve_intent(intent_id: str) -> Intent:
    return intent_from(_call(lambda: _client().v1.payment_intents.retrieve(intent_id)).to_dict())


def cancel_intent(intent_id: str) -> Intent:
    return intent_from(_call(lambda: _client().v1.payment_intents.cancel(intent_id)).to_dict())


def refunds_of(intent_id: str) -> list[Refund]:
    """The refunds of a PaymentIntent (newest first)."""
    listed = _call(lambda: _client().v1.refunds.list(params={"payment_intent": intent_id, "limit": 100}))
    return [refund_from(item.to_dict()) for item in listed.data]


def construct_event(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event Stripe signed, checked against STRIPE_WEBHOOK_SECRET on the
    raw body with Stripe's default tolerance (5 minutes); WebhookError for a
    missing or wrong signature, a stale timestamp or a body that is not an
    event."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise WebhookError("STRIPE_WEBHOOK_SECRET is not set")
    if not signature:
        raise WebhookError("no Stripe-Signature header")
    try:
        # The signature only: stripe's construct_event would also build its
        # objects from the body, and fail (500) on a signed body that is not
        # an event ("[]"). The shape is checked below.
        stripe.WebhookSignature.verify_header(payload, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError) as error:  # ValueError: bad UTF-8 or JSON
        raise WebhookError(str(error)) from error
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event.get("type"):
        raise WebhookError("not an event")
    if not isinstance(event.get("data"), dict) or not isinstance(event["data"].get("object"), dict):
        raise WebhookError("an event without its object")
    if _has_nul(event):
        raise WebhookError("a NUL character in the event (PostgreSQL cannot store it)")
    return event


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
