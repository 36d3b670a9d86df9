"""How the fake Anthropic API checks and counts `document` and `image` content blocks, as
the Messages API does: base64 sources only (plus plain-text documents), the media type must
match the bytes, an image at most 5 MB of base64 and 8000 px a side, a PDF unencrypted and at
most 100 pages. Tokens: an image costs width × height / 750 once its long edge is scaled to
1,568 px; a PDF page its extracted text (``ceil(len / 4)``) plus ``PDF_PAGE_IMAGE_TOKENS``.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from typing import Any

MAX_IMAGE_BASE64 = 5 * 1024 * 1024
MAX_IMAGE_SIDE = 8000
MAX_PDF_PAGES = 100
PDF_PAGE_IMAGE_TOKENS = 1_000
IMAGE_MEDIA_TYPES = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}
MEDIA_TYPES = ("image", "document")


class MediaError(Exception):
    """A 400 `invalid_request_error` with this message."""


def _decoded(source: dict[str, Any], where: str) -> bytes:
    data = source.get("data")
    if not isinstance(data, str) or not data:
        raise MediaError(f"{where}.source.data: Field required")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise MediaError(f"{where}.source.data: Input should be valid base64") from None


def _source(block: dict[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("type"), str):
        raise MediaError(f"{where}.source: Field required")
    return source


def media_tokens(block: dict[str, Any], where: str) -> int:
    """Validate an image or document block; its input tokens. Raises `MediaError`."""
    allowed = {"type", "source", "cache_control"}
    if block["type"] == "document":
        allowed |= {"title", "context", "citations"}
    for key in block:
        if key not in allowed:
            raise MediaError(f"{where}.{key}: Extra inputs are not permitted")
    source = _source(block, where)
    if block["type"] == "image":
        return _image_tokens(source, where)
    return _document_tokens(source, where)


def _image_tokens(source: dict[str, Any], where: str) -> int:
    from PIL import Image

    if source["type"] != "base64":
        raise MediaError(f"{where}.source.type: this fake accepts only 'base64' image sources")
    media_type = source.get("media_type")
    if media_type not in IMAGE_MEDIA_TYPES:
        raise MediaError(
            f"{where}.source.media_type: Input should be 'image/jpeg', 'image/png', "
            "'image/gif' or 'image/webp'"
        )
    if len(source.get("data") or "") > MAX_IMAGE_BASE64:
        raise MediaError(
            f"{where}.source.base64: image exceeds 5 MB maximum: "
            f"{len(source['data'])} bytes > {MAX_IMAGE_BASE64} bytes"
        )
    data = _decoded(source, where)
    try:
        with Image.open(io.BytesIO(data)) as image:
            found, (width, height) = image.format, image.size
    except Exception:
        raise MediaError(f"{where}.source.base64.data: Could not process image") from None
    if found != IMAGE_MEDIA_TYPES[media_type]:
        raise MediaError(f"Image does not match the provided media type {media_type}")
    if max(width, height) > MAX_IMAGE_SIDE:
        raise MediaError(
            f"{where}.source.base64.data: At least one of the image dimensions exceed max "
            f"allowed size: {MAX_IMAGE_SIDE} pixels"
        )
    scale = min(1.0, 1568 / max(width, height))
    return max(1, math.ceil(round(width * scale) * round(height * scale) / 750))


def _document_tokens(source: dict[str, Any], where: str) -> int:
    from pypdf import PdfReader

    kind = source["type"]
    if kind == "text":
        if source.get("media_type") != "text/plain" or not isinstance(source.get("data"), str):
            raise MediaError(f"{where}.source: a text source needs media_type 'text/plain'")
        return math.ceil(len(source["data"]) / 4)
    if kind != "base64":
        raise MediaError(f"{where}.source.type: this fake accepts 'base64' and 'text' documents")
    if source.get("media_type") != "application/pdf":
        raise MediaError(f"{where}.source.media_type: Input should be 'application/pdf'")
    data = _decoded(source, where)
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        pages = [] if encrypted else list(reader.pages)
    except Exception:
        raise MediaError("The PDF specified was not valid.") from None
    if encrypted:
        raise MediaError("The PDF specified is password protected.")
    if len(pages) > MAX_PDF_PAGES:
        raise MediaError(f"A maximum of {MAX_PDF_PAGES} PDF pages may be provided.")
    tokens = 0
    for page in pages:
        try:
            text = page.extract_text() or ""
        except Exception:
            text = ""
        tokens += math.ceil(len(text) / 4) + PDF_PAGE_IMAGE_TOKENS
    return max(tokens, 1)
