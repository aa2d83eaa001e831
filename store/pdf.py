"""PDFs: per-buyer stamps (pypdf + an fpdf2 overlay), invoices and the demo guide."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from fpdf import FPDF
from pypdf import PageObject, PdfReader, PdfWriter

if TYPE_CHECKING:
    from store.models import Order


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


def billed_to(order: Order) -> list[str]:
    """The invoice's buyer block: a name when there is one, then the address, and the
    email once."""
    name = order.business_name or (order.user.name if order.user else "")
    return [
        *([name] if name else []),
        *[line for line in order.business_address.splitlines() if line.strip()],
        *([f"Tax ID: {order.tax_id}"] if order.tax_id else []),
        order.email,
    ]


def invoice(order: Order, *, seller: str) -> bytes:
    doc = FPDF(format="A4")
    doc.set_auto_page_break(True, margin=20)
    doc.add_page()
    doc.set_font("Helvetica", "B", 20)
    doc.cell(0, 12, "Invoice", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", size=10)
    paid = order.paid_at or order.created_at
    for line in (
        _latin1(seller),
        f"Invoice number: {order.number}",
        f"Date: {paid:%d %B %Y}",
        "",
        "Billed to:",
        *[_latin1(line) for line in billed_to(order)],
        "",
    ):
        doc.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", "B", 10)
    doc.cell(140, 8, "Item", border="B")
    doc.cell(0, 8, "Amount", border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", size=10)
    rows = [(item.title, item.unit_amount * item.quantity) for item in order.items.all()]
    if order.discount:
        rows.append(("Discount", -order.discount))
    for title, amount in rows:
        doc.cell(140, 8, _latin1(title))
        doc.cell(0, 8, _money(amount, order.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", "B", 10)
    doc.cell(140, 8, "Total paid", border="T")
    doc.cell(0, 8, _money(order.total, order.currency), border="T", align="R")
    doc.ln(8)
    if order.amount_refunded:
        doc.set_font("Helvetica", size=10)
        doc.cell(140, 8, "Refunded")
        doc.cell(0, 8, _money(-order.amount_refunded, order.currency), align="R")
    return bytes(doc.output())


def _money(amount: int, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) / 100:,.2f} {currency.upper()}"


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
