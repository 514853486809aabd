"""Signed, expiring, single-use links (invitation, password reset).

The token carries the user id and a fingerprint of the user's current
password hash, session version and e-mail: once the password is set (so once
the link has been used), the user deactivated or its address changed, every
older link stops working. Each purpose has its own salt, so a reset link is
no invitation; an invitation is only for an account without a password, a
reset only for one with a password.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

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
    except BadData:  # bad signature, expired, or an undecodable payload
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    from app.access import identify

    user = identify(lambda: db.session.get(User, data["u"]))
    if user is None or not user.active or not hmac.compare_digest(str(data.get("f")), _fingerprint(user)):
        return None
    if (purpose == "invitation") != user.is_pending:
        return None
    return user
