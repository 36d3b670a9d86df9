"""What Claude takes in a file, in one place.

Read from the Messages API documentation and /work/shared/FACTS.md (December 2026): a request
is at most 32 MB; a PDF at most 100 pages (600 for 1M-context models, but 100 holds for every
model Draftbot may be pointed at); an image at most 5 MB and 8000 × 8000 pixels (2000 × 2000
once a request carries more than 20 images), PNG, JPEG, GIF or WebP. Text formats (Word,
Excel, CSV, HTML) are not read by the API: Draftbot extracts their text itself.

Token figures are the worst cases the budget reserves before a call, not what is billed: a
PDF page costs its text (up to about 3,000 tokens) plus an image of the page; an image costs
about width × height / 750 tokens once its long edge is scaled down to 1,568 pixels.
"""

from __future__ import annotations

import math

MB = 1024 * 1024

MAX_REQUEST_BYTES = 32 * MB  # the whole request, base64 included
# What Draftbot downloads or reads of one file: the request limit less room for base64's
# third and the prompt around it.
MAX_FILE_BYTES = 20 * MB
MAX_PDF_PAGES = 100
MAX_IMAGE_BYTES = 5 * MB  # the image's base64 must stay under this: raw bytes ≤ 3.75 MB
MAX_IMAGE_PIXELS_SIDE = 8000
MAX_IMAGE_PIXELS_SIDE_MANY = 2000
MANY_IMAGES = 20
MAX_FILES = MANY_IMAGES  # files read for one request

IMAGE_LONG_EDGE = 1568  # Claude scales images down to this long edge before reading them
PIXELS_PER_TOKEN = 750
PDF_TEXT_TOKENS_PER_PAGE = 3_000
PDF_PAGE_IMAGE_TOKENS = 1_600  # a page rendered at about 1.15 megapixels
PDF_TOKENS_PER_PAGE = PDF_TEXT_TOKENS_PER_PAGE + PDF_PAGE_IMAGE_TOKENS

# Extracted text beyond this is cut (about 100,000 tokens), and the preview says so.
MAX_TEXT_CHARS = 400_000
# The worst case for extracted text: fewer characters a token than English's ~4.
CHARS_PER_TOKEN_WORST = 3

IMAGE_MEDIA_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}


def max_base64_bytes(raw_bytes: int) -> int:
    return 4 * math.ceil(raw_bytes / 3)


def image_tokens(width: int, height: int) -> int:
    """Tokens Claude counts for an image: scaled so its long edge is at most 1,568 px."""
    scale = min(1.0, IMAGE_LONG_EDGE / max(width, height, 1))
    return max(1, math.ceil(round(width * scale) * round(height * scale) / PIXELS_PER_TOKEN))


def text_tokens_worst(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN_WORST + 1


def format_bytes(size: int) -> str:
    """12 KB, 3.4 MB: how a size reads in a sentence."""
    if size < 1024:
        return f"{size} bytes"
    if size < MB:
        return f"{size / 1024:.0f} KB"
    return f"{size / MB:.1f} MB".replace(".0 MB", " MB")
