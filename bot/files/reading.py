"""A shared file (name, type, bytes) → the content blocks Claude reads, or a refusal.

PDFs go as `document` blocks and images as `image` blocks, both base64; Word, Excel, CSV,
HTML and text are extracted to Markdown (`bot.files.extract`) and go as text blocks. The
worst-case tokens of each file are counted here, for the budget reservation.
"""

from __future__ import annotations

import base64
import io
import logging
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from bot import wording
from bot.errors import UserFacingError
from bot.files import limits
from bot.files.extract import (
    PasswordProtected,
    Unreadable,
    csv_text,
    decode_text,
    docx_text,
    html_text,
    xlsx_text,
)

log = logging.getLogger(__name__)

# How each format is named in a sentence ("isn't really {what}").
WHAT = {
    "pdf": "a PDF",
    "image": "an image",
    "docx": "a Word document",
    "xlsx": "an Excel spreadsheet",
    "csv": "a CSV file",
    "html": "an HTML page",
    "text": "a text file",
}
_EXTENSIONS = {
    "pdf": "pdf",
    **dict.fromkeys(("png", "jpg", "jpeg", "gif", "webp"), "image"),
    "docx": "docx",
    "xlsx": "xlsx",
    "xlsm": "xlsx",
    "csv": "csv",
    "tsv": "csv",
    **dict.fromkeys(("html", "htm"), "html"),
    **dict.fromkeys(("txt", "text", "md", "markdown", "log", "json", "yaml", "yml"), "text"),
}
# Slack's `filetype`s: its snippets ("text", "python", …) are all text.
_SLACK_TYPES = {
    **_EXTENSIONS,
    "markdown": "text",
    "post": "text",
    **dict.fromkeys(("python", "javascript", "sql", "shell", "xml", "go", "java"), "text"),
}
_MIMETYPES = {
    "application/pdf": "pdf",
    **{media: "image" for media in limits.IMAGE_MEDIA_TYPES.values()},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/csv": "csv",
    "text/html": "html",
    "text/plain": "text",
    "text/markdown": "text",
}
_UNSAFE_IN_NAME = re.compile(r"[<>&*_~`|\[\]\s]+")


@dataclass(frozen=True)
class SharedFile:
    name: str
    data: bytes
    mimetype: str | None = None
    filetype: str | None = None  # Slack's short type: "pdf", "png", "text", …
    file_id: str | None = None


@dataclass(frozen=True)
class ReadFile:
    """A file as the model receives it: one content block, and what it may cost."""

    name: str
    format: str  # pdf, image, docx, xlsx, csv, html, text
    block: dict[str, Any]
    worst_tokens: int  # for the budget: documents and images (text is counted as text)
    payload_bytes: int  # the block's share of the request size
    note: str | None = None  # said on the preview: "read the first 100 of 140 pages"
    file_id: str | None = None


class FileRefused(UserFacingError):
    """The file cannot be read; `user_message` says why and what to do."""

    def __init__(self, user_message: str, *, name: str) -> None:
        super().__init__(user_message)
        self.name = name


def display_name(name: str) -> str:
    """The file's name as it appears in a sentence: no markup, no mentions, not too long."""
    cleaned = _UNSAFE_IN_NAME.sub(" ", name).strip() or "the file"
    return cleaned if len(cleaned) <= 80 else cleaned[:77] + "…"


def file_format(file: SharedFile) -> str | None:
    extension = PurePath(file.name).suffix.lower().lstrip(".")
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    if file.filetype and file.filetype.lower() in _SLACK_TYPES:
        return _SLACK_TYPES[file.filetype.lower()]
    mimetype = (file.mimetype or "").split(";")[0].strip().lower()
    return _MIMETYPES.get(mimetype)


def read_file(file: SharedFile) -> ReadFile:
    """The content block for `file`; raises `FileRefused` with the reason in plain words."""
    name = display_name(file.name)
    kind = file_format(file)
    if kind is None:
        described = PurePath(file.name).suffix or file.filetype or file.mimetype or "unknown type"
        raise FileRefused(
            wording.FILE_UNSUPPORTED.format(
                name=name, type=display_name(described), formats=wording.FILE_FORMATS
            ),
            name=name,
        )
    limit = limits.MAX_IMAGE_BYTES * 3 // 4 if kind == "image" else limits.MAX_FILE_BYTES
    if len(file.data) > limit:
        raise too_large(name, len(file.data), kind)
    try:
        if kind == "pdf":
            return _with_id(_pdf(name, file.data), file)
        if kind == "image":
            return _with_id(_image(name, file.data), file)
        return _with_id(_text(name, kind, file.data), file)
    except PasswordProtected:
        raise FileRefused(wording.FILE_PASSWORD.format(name=name), name=name) from None
    except Unreadable:
        log.info("file refused: %s could not be opened as %s", kind, kind)
        raise FileRefused(
            wording.FILE_DAMAGED.format(name=name, what=WHAT[kind]), name=name
        ) from None


def too_large(name: str, size: int, kind: str | None) -> FileRefused:
    """A file over the size Draftbot sends (said before downloading it, when Slack says)."""
    limit = limits.MAX_IMAGE_BYTES * 3 // 4 if kind == "image" else limits.MAX_FILE_BYTES
    sentence = wording.FILE_TOO_LARGE.format(
        name=name,
        size=limits.format_bytes(size),
        limit=limits.format_bytes(limit),
        what="image" if kind == "image" else "file",
    )
    return FileRefused(sentence, name=name)


def _with_id(read: ReadFile, file: SharedFile) -> ReadFile:
    return ReadFile(**{**read.__dict__, "file_id": file.file_id})


def _pdf(name: str, data: bytes) -> ReadFile:
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    if not data.lstrip()[:5] == b"%PDF-":
        raise Unreadable
    try:
        reader = PdfReader(io.BytesIO(data))
        # Claude reads no encrypted PDF, even one that opens without a password.
        if reader.is_encrypted:
            raise PasswordProtected
        pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as error:
        raise Unreadable from error
    note = None
    if pages == 0:
        raise FileRefused(wording.FILE_EMPTY.format(name=name), name=name)
    if pages > limits.MAX_PDF_PAGES:
        writer = PdfWriter()
        for page in reader.pages[: limits.MAX_PDF_PAGES]:
            writer.add_page(page)
        out = io.BytesIO()
        writer.write(out)
        data = out.getvalue()
        note = wording.FILE_PAGES_CUT.format(name=name, pages=pages, limit=limits.MAX_PDF_PAGES)
        pages = limits.MAX_PDF_PAGES
    encoded = base64.standard_b64encode(data).decode("ascii")
    block = {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": encoded},
        "title": name,
    }
    return ReadFile(
        name=name,
        format="pdf",
        block=block,
        worst_tokens=pages * limits.PDF_TOKENS_PER_PAGE,
        payload_bytes=len(encoded),
        note=note,
    )


def _image(name: str, data: bytes) -> ReadFile:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise Unreadable from error
    media_type = limits.IMAGE_MEDIA_TYPES.get(image_format)
    if media_type is None:  # a TIFF or BMP named .png
        raise Unreadable
    side = limits.MAX_IMAGE_PIXELS_SIDE
    if width > side or height > side:
        sentence = wording.IMAGE_TOO_MANY_PIXELS.format(
            name=name, width=f"{width:,}", height=f"{height:,}", limit=f"{side:,}"
        )
        raise FileRefused(sentence, name=name)
    encoded = base64.standard_b64encode(data).decode("ascii")
    return ReadFile(
        name=name,
        format="image",
        block={
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": encoded},
        },
        worst_tokens=limits.image_tokens(width, height),
        payload_bytes=len(encoded),
    )


def _text(name: str, kind: str, data: bytes) -> ReadFile:
    extractors = {
        "docx": docx_text,
        "xlsx": xlsx_text,
        "csv": csv_text,
        "html": html_text,
        "text": decode_text,
    }
    text = extractors[kind](data).strip()
    if not text:
        raise FileRefused(wording.FILE_EMPTY.format(name=name), name=name)
    note = None
    if len(text) > limits.MAX_TEXT_CHARS:
        text = text[: limits.MAX_TEXT_CHARS]
        note = wording.FILE_TEXT_CUT.format(name=name, chars=limits.MAX_TEXT_CHARS)
    wrapped = f'<file name="{name}">\n{text}\n</file>'
    return ReadFile(
        name=name,
        format=kind,
        block={"type": "text", "text": wrapped},
        worst_tokens=0,  # counted with the prompt's text
        payload_bytes=len(wrapped.encode()),
        note=note,
    )
