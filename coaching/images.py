"""Uploaded pictures as the site serves them: resized renditions and one way to show them.

The coach uploads one large file (a portrait, a cover). Pages never send it as
is: on save the model calls `refresh_renditions`, which writes each width in
each modern format the installed Pillow encodes (AVIF, WebP) plus a JPEG for
old browsers, with EXIF and other metadata stripped (a phone photo carries its
GPS position). The model keeps what was written in a JSON column, and the
`{% picture %}` tag (coaching.templatetags.pictures) renders a `Picture`: a
`<picture>` with `srcset`s, the intrinsic width and height so nothing jumps as
it loads, and `loading="lazy"` unless the picture is on the first screen.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db.models.fields.files import FieldFile
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from PIL import Image, ImageOps, UnidentifiedImageError, features

logger = logging.getLogger(__name__)

COVER_WIDTHS = (400, 800, 1200)
PORTRAIT_WIDTHS = (160, 320, 640)
# Covers are shown at 1200 x 630 everywhere (cards, guide header, social previews).
COVER_RATIO = (1200, 630)
PORTRAIT_RATIO = (1, 1)

# Best first: the browser takes the first <source> it understands.
_QUALITY = {"avif": 55, "webp": 80, "jpeg": 82}
_MIME = {"avif": "image/avif", "webp": "image/webp", "jpeg": "image/jpeg", "svg": "image/svg+xml"}
RENDITIONS_FOLDER = "renditions"


def encodable_formats() -> tuple[str, ...]:
    """AVIF only when this Pillow was built with it; JPEG last, as the `<img>` fallback."""
    modern = [name for name in ("avif", "webp") if features.check(name)]
    return (*modern, "jpeg")


@dataclass(frozen=True)
class Picture:
    """What a page needs to show one picture: sources best first, a fallback, its size."""

    src: str
    width: int
    height: int
    # (mime type, srcset) for each <source>, best format first.
    sources: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # The fallback <img>'s own srcset (JPEG widths), if any.
    srcset: str = ""


def _srcset(storage: Storage, names: dict[str, str]) -> str:
    return ", ".join(
        f"{storage.url(name)} {width}w"
        for width, name in sorted(names.items(), key=lambda item: int(item[0]))
    )


def picture_from(field_file: FieldFile | None, renditions: dict[str, Any]) -> Picture | None:
    """The picture for an upload, from its renditions; None when there is nothing to show.

    Renditions made from an earlier file (the column and the file disagree) are
    not used: the caller then shows its stand-in (a generated cover, an initial)
    rather than a picture the coach replaced.
    """
    if not field_file or not field_file.name:
        return None
    files = renditions.get("files") or {}
    if renditions.get("source") != field_file.name or "jpeg" not in files:
        return None
    jpeg = files["jpeg"]
    middle = sorted(jpeg, key=int)[len(jpeg) // 2]
    storage = field_file.storage
    return Picture(
        src=storage.url(jpeg[middle]),
        width=int(renditions["width"]),
        height=int(renditions["height"]),
        sources=tuple(
            (_MIME[fmt], _srcset(storage, files[fmt]))
            for fmt in files
            if fmt != "jpeg" and files[fmt]
        ),
        srcset=_srcset(storage, jpeg),
    )


def _crop(image: Image.Image, ratio: tuple[int, int] | None) -> Image.Image:
    if ratio is None:
        return image
    width, height = image.size
    target = ratio[0] / ratio[1]
    if abs(width / height - target) < 0.01:
        return image
    # Centre crop, a little above centre for tall pictures: faces sit in the upper part.
    size = (
        (width, round(width / target))
        if width / height < target
        else (round(height * target), height)
    )
    return ImageOps.fit(image, size, Image.Resampling.LANCZOS, centering=(0.5, 0.4))


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": _QUALITY[fmt]}
    if fmt == "jpeg":
        options.update(optimize=True, progressive=True)
    # No `exif=` and no `icc_profile=`: a new image saved without them carries no metadata.
    image.save(out, fmt.upper(), **options)
    return out.getvalue()


def make_renditions(
    field_file: FieldFile, *, widths: tuple[int, ...], ratio: tuple[int, int] | None
) -> dict[str, Any]:
    """Write every width in every format for an upload; returns what the model keeps.

    Widths larger than the upload are skipped (never upscaled), but the smallest
    is always made so that a small upload still gets a rendition.
    """
    field_file.open("rb")
    try:
        with Image.open(field_file) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
    finally:
        field_file.close()
    # A pixel-only copy: drops EXIF, XMP, comments and any palette transparency quirks.
    image = _crop(image.convert("RGB"), ratio)
    usable = [w for w in widths if w <= image.width] or [min(widths[0], image.width)]
    storage = field_file.storage
    source = field_file.name or ""
    stem = PurePosixPath(source).stem[:40]
    digest = hashlib.sha256(source.encode()).hexdigest()[:10]
    files: dict[str, dict[str, str]] = {fmt: {} for fmt in encodable_formats()}
    height_for = {w: round(w * image.height / image.width) for w in usable}
    for width in usable:
        resized = image.resize((width, height_for[width]), Image.Resampling.LANCZOS)
        for fmt in files:
            extension = "jpg" if fmt == "jpeg" else fmt
            name = f"{RENDITIONS_FOLDER}/{stem}-{digest}-{width}.{extension}"
            if storage.exists(name):
                storage.delete(name)
            files[fmt][str(width)] = storage.save(name, ContentFile(_encode(resized, fmt)))
    largest = usable[-1]
    return {
        "source": field_file.name,
        "width": largest,
        "height": height_for[largest],
        "files": files,
    }


def delete_renditions(storage: Storage, renditions: dict[str, Any]) -> None:
    for names in (renditions.get("files") or {}).values():
        for name in names.values():
            storage.delete(name)


def refresh_renditions(
    field_file: FieldFile,
    renditions: dict[str, Any],
    *,
    widths: tuple[int, ...],
    ratio: tuple[int, int] | None,
) -> dict[str, Any]:
    """The renditions a model should hold for its upload, made anew only when the file changed.

    Called from the model's save() before the row is written, so the upload is
    committed to storage here first (as the field would on save) to read it.
    An unreadable file leaves no renditions; the page then shows the stand-in.
    """
    if not field_file or not field_file.name:
        if renditions:
            delete_renditions(field_file.storage, renditions)
        return {}
    if not getattr(field_file, "_committed", True):
        field_file.save(field_file.name, field_file.file, save=False)
    if renditions.get("source") == field_file.name:
        return renditions
    if renditions:
        delete_renditions(field_file.storage, renditions)
    try:
        return make_renditions(field_file, widths=widths, ratio=ratio)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        logger.warning("Could not make renditions of %s", field_file.name, exc_info=True)
        return {}


def picture_html(
    picture: Picture | None, *, alt: str = "", css: str = "", sizes: str = "", eager: bool = False
) -> SafeString:
    """`<picture>` markup for a Picture: sized, lazy unless `eager` (the first screen)."""
    if picture is None:
        return SafeString("")
    sizes = sizes or f"(min-width: {picture.width}px) {picture.width}px, 100vw"
    img = format_html(
        '<img src="{}"{}{} alt="{}" width="{}" height="{}"{}{}>',
        picture.src,
        format_html(' srcset="{}"', picture.srcset) if picture.srcset else "",
        format_html(' sizes="{}"', sizes) if picture.srcset else "",
        alt,
        picture.width,
        picture.height,
        format_html(' class="{}"', css) if css else "",
        mark_safe(' decoding="async"') if eager else mark_safe(' loading="lazy" decoding="async"'),
    )
    if not picture.sources:
        return img
    sources = format_html_join(
        "", '<source type="{}" srcset="{}" sizes="{}">', ((t, s, sizes) for t, s in picture.sources)
    )
    return format_html("<picture>{}{}</picture>", sources, img)
