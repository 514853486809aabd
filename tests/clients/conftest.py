"""Helpers shared by the clients tests."""

from __future__ import annotations

import html
import io

import pytest
from PIL import Image


def page_text(response) -> str:
    """The response body with HTML entities decoded (French apostrophes...)."""
    return html.unescape(response.get_data(as_text=True))


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 32), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def noise_png(side: int = 200) -> bytes:
    """A PNG that compresses badly (random pixels), for size limits."""
    import os

    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def set_config(app):
    """set_config(KEY=value): changed for this test only."""
    saved: dict = {}

    def setter(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield setter
    app.config.update(saved)
