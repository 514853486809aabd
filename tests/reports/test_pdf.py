"""app.pdf: WeasyPrint behind a URL fetcher that serves only our static
files and stored images, and refuses everything else."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader

from app.documents.services import store_document
from app.pdf import RefusedURL, document_url, render_pdf, static_url, url_fetcher


def png(colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def fetcher(app, db):
    return url_fetcher()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://example.com/",
        "https://example.com/logo.png",
        "ftp://example.com/x",
        "data:text/plain,hello",
        "//example.com/x.png",
        "css/report.css",
    ],
)
def test_fetcher_refuses_other_schemes(fetcher, url):
    with pytest.raises(RefusedURL):
        fetcher.fetch(url)


@pytest.mark.parametrize(
    "url",
    [
        "relais-static:/../config.py",
        "relais-static:/css/../../config.py",
        "relais-static:/css/../../__init__.py",  # app/__init__.py exists
        "relais-static:/../static/css/report.css",  # lands back inside: still refused
        "relais-static:/css/%2e%2e/%2e%2e/config.py",
        "relais-static:/css/..%2f..%2fconfig.py",
        "relais-static:/css\\..\\..\\config.py",
        "relais-static:////etc/passwd",
        "/static/../config.py",
        "/static/%2e%2e/__init__.py",
        "relais-static:/css/missing.css",
        "relais-static:/",
        "relais-static:/css",
    ],
)
def test_fetcher_refuses_traversal_and_missing_static_files(fetcher, url):
    with pytest.raises(RefusedURL):
        fetcher.fetch(url)


def test_fetcher_serves_our_static_files_by_scheme_and_by_app_path(fetcher):
    for url in (static_url("css/report.css"), "relais-static:/css/report.css", "/static/css/report.css"):
        response = fetcher.fetch(url)
        try:
            assert response.content_type == "text/css"
            assert response.charset == "utf-8"
            assert b"@page" in response.read()
        finally:
            response.close()


def test_fetcher_serves_a_stored_image_by_its_sha256(fetcher):
    content = png()
    document = store_document(content, "image/png")

    response = fetcher.fetch(document_url(document.sha256))

    assert response.content_type == "image/png"
    assert response.read() == content


def test_fetcher_refuses_unknown_malformed_or_non_image_documents(fetcher):
    pdf = store_document(b"%PDF-1.7 not an image", "application/pdf")
    for url in (
        document_url("0" * 64),
        document_url(pdf.sha256),
        "relais-document:../../etc/passwd",
        "relais-document:" + "g" * 64,
        "relais-document:",
    ):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)


def test_render_pdf_embeds_stored_images_and_skips_refused_ones(app, db):
    logo = store_document(png("blue"), "image/png")
    html = (
        "<p>Bonjour</p>"
        f'<img src="{document_url(logo.sha256)}" alt="">'
        '<img src="http://example.com/pixel.png" alt="">'
        '<img src="file:///usr/share/pixmaps/debian-logo.png" alt="">'
        '<link rel="stylesheet" href="file:///etc/passwd">'
    )

    pdf = render_pdf(html)

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert "Bonjour" in page.extract_text()
    assert len(page.images) == 1


def test_render_pdf_applies_our_stylesheet(app, db):
    html = f'<link rel="stylesheet" href="{static_url("css/report.css")}"><h1>Titre</h1>'

    pdf = render_pdf(html)

    # report.css sets A4 pages (595 x 842 pt); WeasyPrint's own default is A4 too,
    # so check a rule only report.css has: the page numbers in the footer.
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "1 / 1" in text


def test_importing_weasyprint_leaves_pillow_refusing_truncated_images():
    from PIL import ImageFile, UnidentifiedImageError

    import app.pdf  # noqa: F401  (imports weasyprint, which turns the flag on)

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    truncated = png()[:-30]
    with pytest.raises((OSError, UnidentifiedImageError)):
        Image.open(io.BytesIO(truncated)).load()


def test_render_pdf_passes_weasyprint_options(app, db):
    pdf = render_pdf("<title>Facture</title><p>x</p>", pdf_variant="pdf/a-3b")

    xmp = PdfReader(io.BytesIO(pdf)).xmp_metadata
    assert xmp is not None
    assert b'pdfaid:part="3"' in xmp.stream.get_data()
