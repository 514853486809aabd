"""Signed, expiring, single-use links (invitation, password reset).

The token carries the user id and a fingerprint of the user's current
password hash and session version: once the password is set, or the user is
deactivated, every older link stops working.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.auth.models import User
from app.extensions import db

PURPOSES = {"invitation": "INVITATION_MAX_AGE", "reset": "PASSWORD_RESET_MAX_AGE"}


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"relais-{purpose}")


def _fingerprint(user: User) -> str:
    material = f"{user.password_hash or ''}|{user.session_version}|{user.email}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def make_token(user: User, purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    return _serializer(purpose).dumps({"u": user.id, "f": _fingerprint(user)})


def load_token(token: str, purpose: str) -> User | None:
    """The user a valid, unexpired, unused token is for; None otherwise."""
    if purpose not in PURPOSES or not token or len(token) > 512:
        return None
    max_age = current_app.config[PURPOSES[purpose]]
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.active or data.get("f") != _fingerprint(user):
        return None
    return user
