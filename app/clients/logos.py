"""Client logos: checked by their content (Pillow), re-encoded to PNG.

Only PNG and JPEG are accepted, whatever the file is called; SVG never (it
can carry scripts). Re-encoding drops metadata and anything hidden after the
image data.
"""

from __future__ import annotations

import io
import warnings

from flask_babel import format_decimal
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("PNG", "JPEG")
MAX_SIDE = 1024  # larger logos are scaled down
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding


class LogoError(ValueError):
    """An upload that is not an acceptable logo, with a message for the user."""


def size_label(size: int) -> str:
    """ "1 Mo", "500 ko" (French units)."""
    if size >= 1024 * 1024:
        return _("%(n)s Mo", n=format_decimal(size / (1024 * 1024), format="#,##0.#"))
    return _("%(n)s ko", n=format_decimal(max(1, round(size / 1024)), format="#,##0"))


def normalise_logo(raw: bytes, max_bytes: int) -> bytes:
    """The logo re-encoded as PNG, or LogoError saying why it is refused."""
    if not raw:
        raise LogoError(_("Le fichier envoyé est vide."))
    if len(raw) > max_bytes:
        raise LogoError(
            _(
                "Le logo est trop lourd (%(size)s) : %(max)s au maximum.",
                size=size_label(len(raw)),
                max=size_label(max_bytes),
            )
        )
    unreadable = LogoError(_("Ce fichier n'est pas une image PNG ou JPEG valide."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=ACCEPTED_FORMATS) as image:
                if image.format not in ACCEPTED_FORMATS:
                    raise unreadable
                if image.width * image.height > MAX_PIXELS:
                    raise LogoError(_("Cette image est trop grande (en pixels) pour servir de logo."))
                image.load()  # decode fully: a truncated or corrupt file fails here
                image = ImageOps.exif_transpose(image)
                has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
                image = image.convert("RGBA" if has_alpha else "RGB")
                image.thumbnail((MAX_SIDE, MAX_SIDE))
                out = io.BytesIO()
                image.save(out, format="PNG", optimize=True)
    except LogoError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise unreadable from error
    return out.getvalue()
