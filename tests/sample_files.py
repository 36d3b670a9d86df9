"""Small files the suite builds itself: PDFs (plain, encrypted, many pages), Word, Excel
(a formula with its saved value, two sheets), PNG, CSV and HTML."""

from __future__ import annotations

import io
import re
import zipfile


def pdf(pages: list[str]) -> bytes:
    """A valid PDF with one line of text on each page, written by hand (xref included)."""
    count = len(pages)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{4 + 2 * i} 0 R".encode() for i in range(count))
        + f"] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode()
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> " + f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def encrypted_pdf(password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(["Salaries 2026"]))))
    writer.encrypt(user_password=password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx(*, empty: bool = False) -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    if not empty:
        document.add_heading("Launch plan", level=1)
        document.add_paragraph("We ship the mobile app on 3 March.")
        table = document.add_table(rows=3, cols=2)
        for row, (name, role) in zip(
            table.rows, [("Name", "Role"), ("Priya", "Lead"), ("Sam", "QA")], strict=True
        ):
            row.cells[0].text, row.cells[1].text = name, role
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx() -> bytes:
    """Two sheets; Budget!B4 is =SUM(B2:B3) saved with its value, 42, as Excel saves it
    (openpyxl writes formulas without values, so the value is put into the sheet's XML)."""
    import openpyxl

    book = openpyxl.Workbook()
    budget = book.active
    assert budget is not None
    budget.title = "Budget"
    budget.append(["Item", "Cost"])
    budget.append(["Venue", 30])
    budget.append(["Food", 12])
    budget.append(["Total", "=SUM(B2:B3)"])
    notes = book.create_sheet("Notes")
    notes.append(["Owner", "Priya"])
    raw = io.BytesIO()
    book.save(raw)
    source = zipfile.ZipFile(io.BytesIO(raw.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(
                    rb"<f>SUM\(B2:B3\)</f>(<v\s*/>|<v></v>)?", b"<f>SUM(B2:B3)</f><v>42</v>", data
                )
            target.writestr(item, data)
    return out.getvalue()


def png(width: int = 300, height: int = 200) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


CSV = b"name,team,hours\nPriya,Mobile,12\nSam,QA,7\n"
HTML = (
    b"<html><head><title>t</title><style>p{color:red}</style></head><body>"
    b"<h1>Release notes</h1><p>Offline mode is <b>done</b>.</p>"
    b"<script>alert('tracking')</script>"
    b"<table><tr><th>Bug</th><th>State</th></tr><tr><td>#12</td><td>fixed</td></tr></table>"
    b"</body></html>"
)
