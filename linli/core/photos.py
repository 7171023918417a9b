"""Photos residents and workers upload: checked by decoding, stored as clean copies."""

import io
import uuid

from django.core.files.base import ContentFile

# Formats we decode and re-encode; anything else (HEIC included) is refused with a clear message.
_PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PHOTO_SIDE = 2048


def looks_like_image(upload) -> bool:
    """Whether the upload decodes as a JPEG, PNG or WebP picture: a file only named .jpg is not a
    photo."""
    from PIL import Image

    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            ok = image.format in _PHOTO_FORMATS
            image.verify()
        return ok
    except Exception:
        return False
    finally:
        upload.seek(position)


def photo_scrub(upload) -> tuple[ContentFile, str]:
    """A clean copy of a checked photo and its content type: re-encoded without EXIF or any other
    metadata (a phone photo carries the reporter's GPS position and device), turned upright, at
    most MAX_PHOTO_SIDE pixels a side, under a random name (the original file name stays out)."""
    from PIL import Image, ImageOps

    upload.seek(0)
    with Image.open(upload) as original:
        kind = original.format
        image = ImageOps.exif_transpose(original)
        image.thumbnail((MAX_PHOTO_SIDE, MAX_PHOTO_SIDE))
        if kind == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, format=kind, **({"quality": 85} if kind != "PNG" else {}))
    extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[kind]
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.{extension}"), _PHOTO_FORMATS[kind]
