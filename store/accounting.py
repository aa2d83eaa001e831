"""Invoice and credit-note numbers an accountant accepts: sequential per year, no gaps.

A PostgreSQL sequence is not enough: a rolled-back transaction burns its number and
leaves a gap. Here each (series, year) has one counter row, taken with SELECT ... FOR
UPDATE inside the transaction that records the payment or the refund, so a number is
used only if that transaction commits, and concurrent payments queue on the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from coaching.money import format_money


class DocumentCounter(models.Model):
    class Series(models.TextChoices):
        INVOICE = "invoice", "Invoices"
        CREDIT_NOTE = "credit", "Credit notes"

    series = models.CharField(max_length=10, choices=Series.choices)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="document_counter_once")
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.year}: {self.last}"

    @classmethod
    def take_next(cls, series: str, year: int) -> int:
        """The next number of `series` in `year`. Call inside the transaction that uses
        it: the counter row stays locked until that transaction ends."""
        # The first number of a year creates the row; a concurrent creator is ignored.
        DocumentCounter.objects.bulk_create(
            [DocumentCounter(series=series, year=year)], ignore_conflicts=True
        )
        counter = DocumentCounter.objects.select_for_update().get(series=series, year=year)
        counter.last += 1
        counter.save(update_fields=["last"])
        return counter.last


def invoice_label(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year}-{sequence:05d}"


class CreditNote(models.Model):
    """One per refund (any refund: ours, the automatic one, or one made in Stripe's
    dashboard), cancelling that part of the order's invoice."""

    order = models.ForeignKey("store.Order", on_delete=models.PROTECT, related_name="credit_notes")
    amount = models.PositiveIntegerField(help_text="Minor units, tax included.")
    tax_amount = models.PositiveIntegerField(default=0)
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["year", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="credit_note_number_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_positive"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return invoice_label("CN", self.year, self.sequence)

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.order.currency)

    @property
    def tax_display(self) -> str:
        return format_money(self.tax_amount, self.order.currency)

    def get_absolute_url(self) -> str:
        return reverse("store:credit-note", args=[self.order.number, self.pk])


def seller_lines() -> list[str]:
    """The seller block: name, address lines, tax number (settings, else the profile)."""
    from coaching.models import CoachProfile

    name = settings.STORE_SELLER_NAME
    if not name:
        profile = CoachProfile.current()
        name = profile.name if profile else settings.SITE_NAME
    # One setting holds the lines: real newlines, or "\n" as an environment file writes it.
    address = [
        line.strip() for line in settings.STORE_SELLER_ADDRESS.replace("\\n", "\n").splitlines()
    ]
    tax_id = settings.STORE_SELLER_TAX_ID
    return [
        name,
        *[line for line in address if line],
        *([f"Tax number: {tax_id}"] if tax_id else []),
    ]


def _schedule_entry(order: Any, instalment: Any) -> str:
    """One instalment on the invoice: paid with its own tax, cancelled, or due."""
    if instalment.paid_at is not None:
        tax = f" (of which tax {instalment.tax_display})" if order.automatic_tax else ""
        return f"{instalment.amount_display} paid {instalment.paid_at:%d %b %Y}{tax}"
    if instalment.cancelled_at is not None:
        return f"{instalment.amount_display} cancelled"
    return f"{instalment.amount_display} due {instalment.due_at:%d %b %Y}"


def tax_note(order: Any) -> str:
    """What the invoice says about tax."""
    if order.automatic_tax and order.payment_plan is not None:
        return (
            f"Prices include tax: {order.money(order.tax_amount)} in the instalments paid so"
            " far, each calculated by Stripe Tax for its own payment."
        )
    if order.automatic_tax:
        return (
            f"Prices include tax of {order.money(order.tax_amount)}, as calculated by Stripe Tax."
        )
    return "All prices include any applicable tax; no tax is charged separately."


@dataclass
class Document:
    """An invoice or a credit note as both the printable page and the PDF draw it."""

    title: str
    number: str
    issued: Any
    seller: list[str]
    buyer: list[str]
    rows: list[tuple[str, str]]
    total_label: str
    total: str
    notes: list[str] = field(default_factory=list)
    tax_line: tuple[str, str] | None = None


def billed_to(order: Any) -> list[str]:
    """The buyer block: a name when there is one, then the address, the tax ID, and
    the email once."""
    name = order.business_name or (order.user.name if order.user else "")
    return [
        *([name] if name else []),
        *[line for line in order.business_address.splitlines() if line.strip()],
        *([f"Tax ID: {order.tax_id}"] if order.tax_id else []),
        order.email,
    ]


def invoice_document(order: Any) -> Document:
    rows = [(item.title, item.amount_display) for item in order.items.all()]
    if order.discount:
        rows.append(("Discount", f"-{order.discount_display}"))
    notes = [tax_note(order), f"Order {order.number}. Paid by card."]
    plan = order.payment_plan
    total_label = "Total paid"
    if plan is not None:
        total_label = "Total"
        notes.append(
            f"Payable in {plan.instalment_count} instalments: "
            + "; ".join(_schedule_entry(order, i) for i in plan.instalments.all())
            + "."
        )
    if order.amount_refunded:
        numbers = ", ".join(note.number for note in order.credit_notes.all())
        notes.append(f"Refunded {order.refunded_display}: see credit note {numbers}.")
    return Document(
        title="Invoice",
        number=order.invoice_number,
        issued=order.paid_at,
        seller=seller_lines(),
        buyer=billed_to(order),
        rows=rows,
        total_label=total_label,
        total=order.total_display,
        notes=notes,
        tax_line=("Of which tax", order.tax_display) if order.automatic_tax else None,
    )


def credit_note_document(note: CreditNote) -> Document:
    order = note.order
    return Document(
        title="Credit note",
        number=note.number,
        issued=note.created_at,
        seller=seller_lines(),
        buyer=billed_to(order),
        rows=[(f"Refund: {item.title}", "") for item in order.items.all()],
        total_label="Total credited",
        total=f"-{note.amount_display}",
        notes=[
            f"Credits invoice {order.invoice_number} of {order.paid_at:%d %B %Y}"
            f" (order {order.number}).",
            *([f"Reason: {note.reason}"] if note.reason else []),
            tax_note(order) if not order.automatic_tax else "Tax refunded as shown.",
        ],
        tax_line=("Of which tax", f"-{note.tax_display}") if order.automatic_tax else None,
    )
