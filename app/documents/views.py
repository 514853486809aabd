"""Serving stored documents. No route of its own: each area authorises the
download through access (the client's report, the agency's logo...) and
answers with `document_response()`."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Response, current_app, request

from app.documents import bp  # noqa: F401
from app.documents.models import Document

_UNSAFE_NAME = re.compile(r"[^\w .()+,-]+")


def safe_download_name(name: str, default: str = "document") -> str:
    """A file name fit for Content-Disposition: no path, no control or
    quoting characters, at most 120 characters, never empty."""
    name = unicodedata.normalize("NFC", name or "").replace("/", "-").replace("\\", "-")
    name = _UNSAFE_NAME.sub("-", name).strip(" .-")
    return name[:120].strip(" .-") or default


def content_disposition(name: str, attachment: bool = True) -> str:
    """RFC 6266: an ASCII `filename` for old clients and the UTF-8 one."""
    kind = "attachment" if attachment else "inline"
    name = safe_download_name(name)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = safe_download_name(ascii_name)
    value = f'{kind}; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def document_response(
    document: Document,
    *,
    download_name: str | None = None,
    max_age: int | None = None,
) -> Response:
    """The document's bytes with its type and length, its SHA-256 as a strong
    ETag (a second request answers 304 Not Modified), `Cache-Control: private`
    (shared caches never keep it), and, with `download_name` (built by the
    server, never taken from the request), `Content-Disposition: attachment`
    and `Cache-Control: no-store`.

    The caller has already checked that the current user may see it.
    """
    response = current_app.response_class(document.content, mimetype=document.media_type)
    response.content_length = document.size
    response.set_etag(document.sha256)
    response.headers["Cache-Control"] = f"private, max-age={max_age}" if max_age else "private, no-cache"
    if download_name:
        # A client's document: no cache of any kind keeps a copy.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Disposition"] = content_disposition(download_name)
    else:
        response.headers["Content-Disposition"] = "inline"
    return response.make_conditional(request)
