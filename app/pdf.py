"""HTML to PDF, in one place: WeasyPrint behind a URL fetcher that serves
only our own static files and our stored images.

Templates name their resources with two schemes of our own:

- ``relais-static:/css/report.css``: a file under ``app/static`` (the app's
  ``/static/...`` URL paths are accepted too, so a page rendered for the
  browser prints the same);
- ``relais-document:<sha256>``: a stored image (a logo), read from the
  database by its SHA-256.

Everything else is refused: ``file://`` (no reading the server's disk),
``http(s)://`` (no calls to the outside, no tracking pixels), and ``data:``
(nothing of ours needs it; logos come by hash). WeasyPrint logs the refusal
and leaves the resource out; the document still renders.

Needs an app context (static folder, database). WeasyPrint 70's fetcher API
is a ``URLFetcher`` subclass whose ``fetch()`` returns a
``URLFetcherResponse`` (the dict-returning functions of older versions are
gone).
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from flask import current_app
from PIL import ImageFile
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Importing WeasyPrint turns Pillow's LOAD_TRUNCATED_IMAGES on for the whole
# process (weasyprint/images.py); logo uploads (app.clients.logos) count on
# Pillow refusing a truncated file. Our PDFs only embed stored images that
# were complete when checked, so switch it back off.
ImageFile.LOAD_TRUNCATED_IMAGES = False

STATIC_SCHEME = "relais-static:"
DOCUMENT_SCHEME = "relais-document:"
# Stored documents a PDF may embed: images only (never another PDF or a
# client's invoice by guessing its hash).
DOCUMENT_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_SHA256 = re.compile(r"[0-9a-f]{64}")


class RefusedURL(ValueError):
    """A resource the PDF may not load (WeasyPrint skips it)."""


def static_url(filename: str) -> str:
    """The URL of a static file inside a PDF: ``relais-static:/css/report.css``."""
    return STATIC_SCHEME + "/" + filename.lstrip("/")


def document_url(sha256: str) -> str:
    """The URL of a stored image inside a PDF: ``relais-document:<sha256>``."""
    return DOCUMENT_SCHEME + sha256


class RelaisURLFetcher(URLFetcher):
    """Serves ``relais-static:`` and ``relais-document:`` URLs; refuses the rest."""

    def __init__(self, static_folder: str | Path, static_url_path: str = "/static") -> None:
        super().__init__(allowed_protocols=set(), allow_redirects=False)
        self.static_root = Path(static_folder).resolve()
        self.static_prefix = static_url_path.rstrip("/") + "/"

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if url.startswith(STATIC_SCHEME):
            return self._static(url, url[len(STATIC_SCHEME) :])
        if url.startswith(self.static_prefix):
            return self._static(url, url[len(self.static_prefix) :])
        if url.startswith(DOCUMENT_SCHEME):
            return self._document(url, url[len(DOCUMENT_SCHEME) :])
        raise RefusedURL(f"refused in a PDF: {url[:200]}")

    def _static(self, url: str, raw_path: str) -> URLFetcherResponse:
        path = self.static_file(raw_path)
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media_type.startswith("text/"):
            media_type += "; charset=utf-8"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": media_type})

    def static_file(self, raw_path: str) -> Path:
        """The file under the static folder that `raw_path` names, or RefusedURL
        (traversal, absolute or hidden parts, missing file)."""
        text = unquote(raw_path.split("?", 1)[0].split("#", 1)[0]).replace("\\", "/")
        parts = PurePosixPath(text.lstrip("/")).parts
        if not parts or any(part in ("..", ".") or part.startswith(".") for part in parts):
            raise RefusedURL(f"refused static path: {raw_path[:200]}")
        path = self.static_root.joinpath(*parts).resolve()
        if not path.is_relative_to(self.static_root) or not path.is_file():
            raise RefusedURL(f"no such static file: {raw_path[:200]}")
        return path

    def _document(self, url: str, sha256: str) -> URLFetcherResponse:
        from app.documents.services import get_document

        sha256 = sha256.lower()
        if not _SHA256.fullmatch(sha256):
            raise RefusedURL(f"not a document hash: {sha256[:80]}")
        document = get_document(sha256)
        if document is None or document.media_type not in DOCUMENT_TYPES:
            raise RefusedURL(f"no stored image {sha256}")
        return URLFetcherResponse(url, document.content, {"Content-Type": document.media_type})


def url_fetcher() -> RelaisURLFetcher:
    """The fetcher for the current app (its static folder and URL path)."""
    app = current_app
    return RelaisURLFetcher(
        app.static_folder or Path(app.root_path) / "static", app.static_url_path or "/static"
    )


def render_pdf(html: str, **options: Any) -> bytes:
    """`html` as PDF bytes. `options` go to WeasyPrint's ``write_pdf`` as they
    are (``pdf_variant="pdf/a-3b"``, ``attachments=[...]`` for invoices...)."""
    document = HTML(string=html, base_url=STATIC_SCHEME + "/", url_fetcher=url_fetcher())
    pdf = document.write_pdf(**options)
    if pdf is None:  # pragma: no cover - only with a `target`, which we never pass
        raise RuntimeError("WeasyPrint returned no bytes")
    return pdf
