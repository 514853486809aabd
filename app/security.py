"""Web hardening, in one place: the headers of every response, the session
and "remember me" cookies, where `next` may lead, and the answer to an
upload too large.

The headers are defaults: a view may set its own Content-Security-Policy or
Referrer-Policy (the payment page adds Stripe's domains; a shared report
sends no referrer). HSTS and the `__Host-` cookies are for production only:
development and the tests serve plain http://.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import flask
from flask import Flask, abort, current_app, render_template, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

# RELAIS_ENV values served over plain http:// (no HSTS, no Secure cookies).
RELAXED_ENVIRONMENTS = frozenset({"development", "test"})

SESSION_COOKIE = "relais_session"
REMEMBER_COOKIE = "relais_remember"
# Secure, Path=/ and no Domain, enforced by the browser: no subdomain or
# plain-http page can set or shadow the cookie.
HOST_PREFIX = "__Host-"

# No inline script or style anywhere: templates load /static/js/relais.js and
# mark elements with data-* attributes; styles live in /static/css.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)

# Features Relais never uses. `payment` stays at the browser's default: the
# Stripe card form of the payment page runs in Stripe's frames.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "serial",
        "usb",
    )
)

STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"  # two years

DEFAULT_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    trust_proxies(app)
    configure_cookies(app)
    app.after_request(add_security_headers)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.request_class = Request
    app.before_request(refuse_nul_bytes)


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies (the TLS terminator), take the
    client's address, scheme and host from their X-Forwarded-* headers:
    the login limits count per real address, and links in mails and
    redirects say https. Never from a client reaching the app directly
    (TRUSTED_PROXIES 0, the default)."""
    count = int(app.config.get("TRUSTED_PROXIES") or 0)
    if count < 0:
        raise ValueError("TRUSTED_PROXIES must be 0 or more")
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]


def served_over_https(app: Flask) -> bool:
    return app.config["RELAIS_ENV"] not in RELAXED_ENVIRONMENTS


def configure_cookies(app: Flask) -> None:
    """Session and remember-me cookies: HttpOnly, SameSite=Lax (config.py);
    in production also Secure, Path=/, no Domain, and named `__Host-...`."""
    config = app.config
    secure = served_over_https(app)
    prefix = HOST_PREFIX if secure else ""
    for kind, name in (("SESSION", SESSION_COOKIE), ("REMEMBER", REMEMBER_COOKIE)):
        config[f"{kind}_COOKIE_NAME"] = prefix + name
        config[f"{kind}_COOKIE_SECURE"] = secure
        config[f"{kind}_COOKIE_PATH"] = "/"
        config[f"{kind}_COOKIE_DOMAIN"] = None


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    for name, value in DEFAULT_HEADERS.items():
        headers.setdefault(name, value)
    if served_over_https(current_app):
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    # Pages carry a CSRF token or someone's data: no cache keeps them. Files
    # come with their own caching (static ones, logos, documents). Decided
    # without the user: after a commit, asking would load the account again.
    headers.setdefault("Cache-Control", "private, no-store")
    return response


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no '//' or backslash tricks,
    no control characters (browsers drop tabs and newlines: "/\\t/evil.com"
    would become "//evil.com")."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def same_site_referrer() -> str | None:
    """The page the request came from, as a path, if it is a page of this site."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.scheme not in {"http", "https"} or parts.netloc != request.host:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def too_large(error: RequestEntityTooLarge):
    """A body over MAX_CONTENT_LENGTH (a logo of several megabytes...):
    refused as soon as the form is read, before anything changed; say so,
    give the limit, and lead back to the form."""
    from app.clients.logos import size_label

    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return (
        render_template(
            "errors/413.html",
            error=error,
            limit=size_label(limit) if limit else None,
            back=same_site_referrer(),
        ),
        413,
    )


# Ids (and page numbers) are PostgreSQL integers: a larger number names no row.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in our URLs is a row's id, a PostgreSQL integer: a larger
    number matches no route (404) instead of failing in the database (500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


# Characters XML 1.0 cannot hold (an invoice's Factur-X would fail to
# render), invisible on a page, that nobody means to type: the C0 controls
# but tab, line feed and carriage return, and U+FFFE, U+FFFF. NUL among them:
# PostgreSQL refuses it in any text.
UNTYPABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Invisible characters that make a name look like another or reorder what
# follows it (zero-width spaces and joiners of words, byte-order marks,
# bidirectional embeddings, overrides and isolates): a client named
# "Dupont\u202e" must be "Dupont". The joiners of scripts and emoji
# (U+200C, U+200D) stay.
INVISIBLE = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def clean_text(value: str) -> str:
    return INVISIBLE.sub("", UNTYPABLE.sub(" ", value))


def _unclean(value: str) -> bool:
    return bool(UNTYPABLE.search(value) or INVISIBLE.search(value))


class Parameters(ImmutableMultiDict):
    """The query string's and the form's values. `get(key, type=int)` reads
    a number beyond PostgreSQL's integer (an id, a page) as it reads text:
    the default, instead of a query the database refuses (500)."""

    def get(self, key, default=None, type=None):  # werkzeug's signature
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and not -MAX_ID <= value <= MAX_ID:
            return default
        return value


class Request(flask.Request):
    """Form fields arrive with each untypable character replaced by a space
    and each invisible one removed (a form then reads a safe value, and
    refuses it if nothing is left), so that nothing saved can later break a
    document or the database, or pass for something else. Files
    and other bodies (the Stripe webhook's JSON) are left as they came."""

    parameter_storage_class = Parameters

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form and any(_unclean(k) or _unclean(v) for k, v in form.items(multi=True)):
            self.__dict__["form"] = self.parameter_storage_class(
                [(clean_text(k), clean_text(v)) for k, v in form.items(multi=True)]
            )


def refuse_nul_bytes() -> None:
    """A NUL character (U+0000) in the address is answered before a view
    puts it in a query (PostgreSQL would refuse it, a 500): no page has
    such a path (404); a query string with one is a bad request (400).
    Forms are cleaned by Request."""
    if "\x00" in request.path:
        abort(404)
    if any("\x00" in k or "\x00" in v for k, v in request.args.items(multi=True)):
        abort(400)
