"""PDFs: per-buyer stamps (pypdf + an fpdf2 overlay), invoices and the demo guide."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from fpdf import FPDF
from pypdf import PageObject, PdfReader, PdfWriter

if TYPE_CHECKING:
    from store.accounting import Document


def _latin1(text: str) -> str:
    # The core fonts are Latin-1; anything else prints as "?" rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")


def _overlay(width: float, height: float, text: str) -> bytes:
    overlay = FPDF(unit="pt", format=(width, height))
    overlay.set_auto_page_break(False)
    overlay.add_page()
    overlay.set_font("Helvetica", size=8)
    overlay.set_text_color(110, 110, 110)
    overlay.set_xy(24, height - 22)
    overlay.cell(width - 48, 10, _latin1(text), align="C")
    return bytes(overlay.output())


def stamp(source: bytes, text: str) -> bytes:
    """Every page gets a footer line naming the licensee."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(source)))
    overlays: dict[tuple[float, float], PageObject] = {}
    for page in writer.pages:
        size = (float(page.mediabox.width), float(page.mediabox.height))
        if size not in overlays:
            overlays[size] = PdfReader(io.BytesIO(_overlay(*size, text))).pages[0]
        page.merge_page(overlays[size])
    writer.add_metadata({"/Subject": _latin1(text)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def document(doc: Document) -> bytes:
    """An invoice or credit note (store.accounting.Document) as an A4 PDF."""
    out = FPDF(format="A4")
    out.set_auto_page_break(True, margin=20)
    out.add_page()
    out.set_font("Helvetica", "B", 20)
    out.cell(0, 12, _latin1(doc.title), new_x="LMARGIN", new_y="NEXT")
    out.set_font("Helvetica", size=10)
    for line in (
        *doc.seller,
        "",
        f"{doc.title} number: {doc.number}",
        f"Date: {doc.issued:%d %B %Y}",
        "",
        "Billed to:",
        *doc.buyer,
        "",
    ):
        out.cell(0, 6, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    out.set_font("Helvetica", "B", 10)
    out.cell(140, 8, "Item", border="B")
    out.cell(0, 8, "Amount", border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    out.set_font("Helvetica", size=10)
    for title, amount in doc.rows:
        out.cell(140, 8, _latin1(title))
        out.cell(0, 8, _latin1(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    out.set_font("Helvetica", "B", 10)
    out.cell(140, 8, _latin1(doc.total_label), border="T")
    out.cell(0, 8, _latin1(doc.total), border="T", align="R", new_x="LMARGIN", new_y="NEXT")
    out.set_font("Helvetica", size=10)
    if doc.tax_line:
        out.cell(140, 8, _latin1(doc.tax_line[0]))
        out.cell(0, 8, _latin1(doc.tax_line[1]), align="R", new_x="LMARGIN", new_y="NEXT")
    out.ln(4)
    for note in doc.notes:
        out.multi_cell(0, 6, _latin1(note), new_x="LMARGIN", new_y="NEXT")
    return bytes(out.output())


def study_guide(title: str, chapters: list[tuple[str, str]]) -> bytes:
    """A small multi-page PDF for the demo product."""
    doc = FPDF(format="A4")
    doc.set_auto_page_break(True, margin=25)
    doc.add_page()
    doc.set_font("Helvetica", "B", 26)
    doc.multi_cell(0, 14, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", size=12)
    doc.multi_cell(
        0,
        7,
        "A practical study guide for AI engineering interviews and roles.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for heading, body in chapters:
        doc.add_page()
        doc.set_font("Helvetica", "B", 18)
        doc.multi_cell(0, 10, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        doc.ln(2)
        doc.set_font("Helvetica", size=11)
        doc.multi_cell(0, 6, _latin1(body), new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())
