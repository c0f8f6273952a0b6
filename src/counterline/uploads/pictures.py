"""Pictures as they are stored: re-encoded without metadata, and their thumbnails.

Runs in a worker thread (``asyncio.to_thread``). The EXIF orientation is applied first, then
the picture is encoded again with no EXIF, XMP or comments (GPS positions and camera serial
numbers stay on the clerk's phone); the colour profile is kept. Animated GIF and WebP keep
their animation when it is small enough (``MAX_ANIMATION_PIXELS`` over all frames), else only
the first frame is kept. Pictures over ``MAX_PIXELS`` are refused before they are decoded.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from counterline.errors import UserError
from counterline.i18n import N_
from counterline.uploads.sniffing import GIF, JPEG, PNG, WEBP, refuse

MAX_PIXELS = 40_000_000
MAX_ANIMATION_PIXELS = 60_000_000
MAX_FRAMES = 500
THUMB_BOX = 400
PICTURE_TOO_LARGE = N_("The picture is too large: at most %(max)s million pixels.")
UNREADABLE = N_("The picture could not be read.")
_FORMATS = {PNG: "PNG", JPEG: "JPEG", GIF: "GIF", WEBP: "WEBP"}
_KEPT_INFO = {"transparency", "duration", "loop", "background", "disposal", "icc_profile"}


@dataclass(frozen=True, slots=True)
class Encoded:
    path: Path
    sha256: str
    size: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Picture:
    picture: Encoded
    thumbnail: Encoded | None  # None: the picture is small enough to be its own thumbnail


def clean_picture(source: Path, content_type: str, scratch: Path) -> Picture:
    """The picture at ``source`` re-encoded without metadata, and its thumbnail, as new
    files in ``scratch``. A 415 for what is not a readable picture of its type, a 413 for
    one too large to decode."""
    expected = _FORMATS[content_type]
    written: list[Path] = []
    try:
        with Image.open(source, formats=[expected]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UserError(PICTURE_TOO_LARGE, status_code=413, max=MAX_PIXELS // 1_000_000)
            frames = getattr(image, "n_frames", 1)
            animated = (
                frames > 1
                and frames <= MAX_FRAMES
                and width * height * frames <= MAX_ANIMATION_PIXELS
            )
            if animated:
                first = _save(image, expected, scratch, written, save_all=True)
                image.seek(0)
                still = image.convert("RGBA")
            else:
                image.seek(0)
                # In place: a 40-megapixel picture held once, not twice.
                ImageOps.exif_transpose(image, in_place=True)
                image.info = {k: v for k, v in image.info.items() if k in _KEPT_INFO}
                still = image
                first = _save(still, expected, scratch, written)
            thumbnail = None
            if max(first.width, first.height) > THUMB_BOX:
                thumbnail = _thumbnail(still, scratch, written)
            return Picture(first, thumbnail)
    except UserError:
        _remove(written)
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,  # raised where warnings are errors
        OSError,
        ValueError,
    ) as error:
        _remove(written)
        if isinstance(error, Image.DecompressionBombError | Image.DecompressionBombWarning):
            raise UserError(
                PICTURE_TOO_LARGE, status_code=413, max=MAX_PIXELS // 1_000_000
            ) from error
        raise refuse(UNREADABLE) from error
    except BaseException:
        _remove(written)
        raise


def _save(
    image: Image.Image, format: str, scratch: Path, written: list[Path], **options: Any
) -> Encoded:
    options.setdefault("icc_profile", image.info.get("icc_profile"))
    if options["icc_profile"] is None:
        del options["icc_profile"]
    if format == "JPEG":
        options.update(quality=90)
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
    elif format == "WEBP":
        options.update(quality=90)
    if options.get("save_all"):
        # Metadata lives in info; an animation's frames keep only what the encoder needs.
        image.info = {k: v for k, v in image.info.items() if k in _KEPT_INFO}
    path = _new_file(scratch, written)
    image.save(path, format=format, **options)
    return _encoded(path, image.size)


def _thumbnail(still: Image.Image, scratch: Path, written: list[Path]) -> Encoded:
    """A JPEG within THUMB_BOX × THUMB_BOX, or a PNG when the picture has transparency."""
    thumb = ImageOps.contain(still, (THUMB_BOX, THUMB_BOX), Image.Resampling.LANCZOS)
    has_alpha = thumb.mode in ("RGBA", "LA", "PA") or "transparency" in thumb.info
    if has_alpha:
        thumb = thumb.convert("RGBA")
        if thumb.getextrema()[3][0] == 255:  # fully opaque after all
            has_alpha = False
    thumb.info = {}
    path = _new_file(scratch, written)
    if has_alpha:
        thumb.save(path, format="PNG", optimize=True)
    else:
        thumb.convert("RGB").save(path, format="JPEG", quality=80)
    return _encoded(path, thumb.size)


def _new_file(scratch: Path, written: list[Path]) -> Path:
    handle, name = tempfile.mkstemp(dir=scratch, prefix="picture-")
    os.close(handle)
    written.append(Path(name))
    return Path(name)


def _encoded(path: Path, size: tuple[int, int]) -> Encoded:
    digest = hashlib.sha256()
    length = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            length += len(chunk)
    return Encoded(path, digest.hexdigest(), length, size[0], size[1])


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
