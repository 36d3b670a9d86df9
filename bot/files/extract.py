"""Text formats to Markdown the model reads: Word, Excel, CSV, HTML and plain text.

Tables become Markdown tables, sheet names are kept as headings, formulas come as the values
Excel saved with them. Each function takes the file's bytes and raises `Unreadable` (or
`PasswordProtected`) when the bytes are not what the name says.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any


class Unreadable(Exception):
    """The bytes are damaged or not the format their name says."""


class PasswordProtected(Exception):
    pass


# Office files saved with a password are not ZIP archives but OLE containers.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    """The first row is the header; short rows are padded; pipes and newlines escaped."""
    width = max((len(row) for row in rows), default=0)
    if width == 0:
        return ""
    cells = [[_cell(value) for value in row] + [""] * (width - len(row)) for row in rows]
    header, *body = cells
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def _cell(value: str) -> str:
    return " ".join(value.replace("|", "\\|").split())


def _check_office(data: bytes) -> None:
    if data.startswith(_OLE_MAGIC):
        raise PasswordProtected
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise Unreadable


def docx_text(data: bytes) -> str:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    _check_office(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises many kinds for a bad package
        raise Unreadable from error
    parts: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if text:
                parts.append(_paragraph_prefix(item.style.name if item.style else "") + text)
        elif isinstance(item, Table):
            rows = [[cell.text for cell in row.cells] for row in item.rows]
            if rows:
                parts.append(markdown_table(rows))
    return "\n\n".join(parts)


def _paragraph_prefix(style: str | None) -> str:
    style = style or ""
    if style == "Title":
        return "# "
    if style.startswith("Heading "):
        level = style.removeprefix("Heading ")
        return "#" * min(int(level) + 1, 6) + " " if level.isdigit() else ""
    if style.startswith("List Bullet"):
        return "- "
    if style.startswith("List Number"):
        return "1. "
    return ""


def xlsx_text(data: bytes) -> str:
    """Every sheet under its name as a Markdown table; formulas as their saved values (a
    formula saved without one, as some tools write them, is shown as the formula)."""
    import openpyxl

    _check_office(data)
    try:
        values = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(data), data_only=False, read_only=True)
    except Exception as error:
        raise Unreadable from error
    parts: list[str] = []
    try:
        for sheet in values.worksheets:
            with_formulas = formulas[sheet.title]
            rows = [
                [_excel_value(v, f) for v, f in zip(row, formula_row, strict=False)]
                for row, formula_row in zip(
                    sheet.iter_rows(values_only=True),
                    with_formulas.iter_rows(values_only=True),
                    strict=False,
                )
            ]
            table = markdown_table(_trimmed(rows))
            if table:
                parts.append(f"## Sheet: {sheet.title}\n\n{table}")
    finally:
        values.close()
        formulas.close()
    return "\n\n".join(parts)


def _excel_value(value: Any, formula: Any) -> str:
    if value is None:
        return str(formula) if isinstance(formula, str) and formula.startswith("=") else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _trimmed(rows: Iterable[list[str]]) -> list[list[str]]:
    """Without empty rows, and without the empty columns on the right."""
    kept = [row for row in rows if any(cell.strip() for cell in row)]
    width = max((i + 1 for row in kept for i, cell in enumerate(row) if cell.strip()), default=0)
    return [row[:width] for row in kept]


def csv_text(data: bytes) -> str:
    text = decode_text(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as error:
        raise Unreadable from error
    return markdown_table(_trimmed(rows))


def html_text(data: bytes) -> str:
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(decode_text(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    markdown: str = MarkdownConverter(heading_style="ATX").convert_soup(soup)
    lines = [line.rstrip() for line in markdown.splitlines()]
    return "\n".join(lines).strip()


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows-1252; NUL bytes mean the
    file is binary, not text."""
    if b"\x00" in data[:8192]:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        raise Unreadable
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
