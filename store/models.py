"""The store: catalogue, orders, what each order grants, and Stripe's events.

The database keeps the promises (DESIGN.md rule 2): one order per Checkout
session, one entitlement per order and product, one row per Stripe event id,
and credit counters that a check constraint keeps between zero and the total.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from coaching.covers import cover_digest, cover_picture
from coaching.images import COVER_RATIO, COVER_WIDTHS, Picture, picture_from, refresh_renditions
from coaching.markdown import render_markdown
from coaching.money import format_money
from store.accounting import CreditNote, DocumentCounter, invoice_label
from store.credits import CreditGrant as CreditGrant
from store.credits import CreditGrantQuerySet as CreditGrantQuerySet
from store.credits import CreditLedger as CreditLedger
from store.plans import CreditRelease, PaymentPlan
from store.plans import Instalment as Instalment
from store.stamps import StampedFile as StampedFile
from store.storage import private_storage

# --- Catalogue ----------------------------------------------------------------


class ProductQuerySet(models.QuerySet["Product"]):
    def active(self) -> ProductQuerySet:
        return self.filter(is_active=True)

    def listed(self) -> ProductQuerySet:
        return self.active().prefetch_related("prices").order_by("position", "title")


class Product(models.Model):
    class Kind(models.TextChoices):
        DOWNLOAD = "download", "Download"
        ONLINE = "online", "Online access to guides"
        BUNDLE = "bundle", "Bundle"
        COACHING = "coaching", "Coaching package"
        # Made by the bookings app for a paid event type; never listed in the store.
        SESSION = "session", "Paid session (booked from the calendar)"

    class AutomaticRefunds(models.TextChoices):
        NEVER = "never", "Never: I decide every request"
        UNUSED = "unused", "Inside the window, when nothing was downloaded or booked"
        ANY = "any", "Inside the window, for any reason"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300)
    description = models.TextField(blank=True, help_text="Markdown.")
    included = models.TextField(blank=True, help_text="What is included: one item per line.")
    preview = models.TextField(blank=True, help_text="Markdown: a sample shown before buying.")
    refund_policy = models.TextField(
        default="You can ask for a full refund within 14 days of buying, for any reason.",
        help_text="Shown before payment and copied onto each order.",
    )
    refund_window_days = models.PositiveIntegerField(default=14)
    automatic_refunds = models.CharField(
        max_length=10,
        choices=AutomaticRefunds.choices,
        default=AutomaticRefunds.UNUSED,
        help_text="Which refund requests inside the window are paid at once, without you.",
    )
    pay_what_you_want = models.BooleanField(default=False)
    minimum_amount = models.PositiveIntegerField(
        default=0, help_text="Pay what you want: the smallest amount, in pence/cents."
    )
    guides = models.ManyToManyField(
        "guides.Guide", blank=True, related_name="store_products", help_text="Online access."
    )
    bundled = models.ManyToManyField(
        "self", blank=True, symmetrical=False, related_name="in_bundles"
    )
    session_credits = models.PositiveIntegerField(default=0, help_text="Coaching packages.")
    validity_days = models.PositiveIntegerField(
        default=0, help_text="Coaching packages: days the credits last (0 = no expiry)."
    )
    instalments = models.PositiveSmallIntegerField(
        default=1,
        help_text="Coaching packages: 2 or more also offers paying in that many instalments.",
    )
    instalment_interval_days = models.PositiveSmallIntegerField(default=30)
    instalment_credits = models.CharField(
        max_length=15, choices=CreditRelease.choices, default=CreditRelease.AT_ONCE
    )
    cover_image = models.ImageField(
        upload_to="store/covers/",
        blank=True,
        help_text="Optional: without one, a cover is drawn from the kind and title. "
        "Best at 1200 × 630 or larger; it is cropped to that shape.",
    )
    # Made from cover_image on save (coaching.images); never edited by hand.
    cover_renditions = models.JSONField(default=dict, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    description_html = models.TextField(blank=True, editable=False)
    preview_html = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["position", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("store:product", args=[self.slug])

    @property
    def cover(self) -> Picture:
        """The uploaded cover's renditions, or the cover drawn from kind and title."""
        uploaded = picture_from(self.cover_image, self.cover_renditions)
        if uploaded is not None:
            return uploaded
        digest = cover_digest(self.get_kind_display(), self.title)
        return cover_picture(reverse("store:cover", args=[self.slug, digest]))

    @property
    def uploaded_cover(self) -> Picture | None:
        """Only the coach's own cover: a drawn one would repeat the title under the title."""
        return picture_from(self.cover_image, self.cover_renditions)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.description_html = render_markdown(self.description)[0]
        self.preview_html = render_markdown(self.preview)[0]
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "cover_image" in update_fields:
            self.cover_renditions = refresh_renditions(
                self.cover_image, self.cover_renditions, widths=COVER_WIDTHS, ratio=COVER_RATIO
            )
        if update_fields is not None:
            kwargs["update_fields"] = {
                *update_fields,
                "description_html",
                "preview_html",
                "cover_renditions",
            }
        super().save(*args, **kwargs)

    @property
    def included_list(self) -> list[str]:
        return [line.strip() for line in self.included.splitlines() if line.strip()]

    def included_lines(self) -> list[tuple[str, Product | None]]:
        """The coach's "included" lines, each linked to the bundled product it names, then
        the bundled products no line names: every item once."""
        bundled = list(self.bundled.all())
        lines: list[tuple[str, Product | None]] = []
        for line in self.included_list:
            named = next((p for p in bundled if p.title.lower() in line.lower()), None)
            if named is not None:
                bundled.remove(named)
            lines.append((line, named))
        return lines + [(item.title, item) for item in bundled]

    @property
    def refund_policy_names_the_window(self) -> bool:
        return f"{self.refund_window_days} day" in self.refund_policy

    @property
    def offers_instalments(self) -> bool:
        return self.kind == self.Kind.COACHING and self.instalments >= 2

    @property
    def price(self) -> Price | None:
        # Iterate so a prefetched `prices` serves list pages without a query each.
        active = [price for price in self.prices.all() if price.is_active]
        return active[0] if active else None

    def granted_products(self) -> list[Product]:
        """This product and, for a bundle, what it bundles (one level, no cycles)."""
        products: list[Product] = [self]
        if self.kind == self.Kind.BUNDLE:
            products += [item for item in self.bundled.all() if item.pk != self.pk]
        return products


class Price(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    amount = models.PositiveIntegerField(help_text="In minor units: pence, cents.")
    currency = models.CharField(max_length=3, default="gbp")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-is_active", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="price_positive")]

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        return format_money(self.amount, self.currency)


class Coupon(models.Model):
    code = models.CharField(max_length=40, unique=True, help_text="Stored in capitals.")
    percent_off = models.PositiveSmallIntegerField(null=True, blank=True)
    amount_off = models.PositiveIntegerField(null=True, blank=True, help_text="Minor units.")
    currency = models.CharField(max_length=3, default="gbp")
    expires_at = models.DateTimeField(null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(null=True, blank=True)
    times_redeemed = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(percent_off__isnull=False) & Q(amount_off__isnull=True))
                | (Q(percent_off__isnull=True) & Q(amount_off__isnull=False)),
                name="coupon_one_kind_of_discount",
            ),
            models.CheckConstraint(
                condition=Q(percent_off__isnull=True) | Q(percent_off__lte=100),
                name="coupon_percent_at_most_100",
            ),
            models.CheckConstraint(
                condition=Q(max_redemptions__isnull=True)
                | Q(times_redeemed__lte=F("max_redemptions")),
                name="coupon_redemptions_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.code = self.code.strip().upper()
        super().save(*args, **kwargs)

    def discount_for(self, amount: int) -> int:
        if self.percent_off is not None:
            return amount * self.percent_off // 100
        return min(amount, self.amount_off or 0)

    def is_usable(self) -> bool:
        if not self.is_active:
            return False
        if self.expires_at and self.expires_at <= timezone.now():
            return False
        return self.max_redemptions is None or self.times_redeemed < self.max_redemptions

    def has_room(self) -> bool:
        """A redemption is left once the checkouts still open are counted as taken.

        Redemptions are recorded only when a payment succeeds; until then an open
        checkout (at most a Checkout Session's lifetime) holds its place, so a
        limited coupon cannot be oversold and an abandoned checkout frees it soon.
        Call with this coupon's row locked so that concurrent starts queue.
        """
        if not self.is_usable():
            return False
        if self.max_redemptions is None:
            return True
        return self.times_redeemed + self.orders_in_checkout().count() < self.max_redemptions

    def orders_in_checkout(self) -> models.QuerySet[Order]:
        opened_since = timezone.now() - timedelta(minutes=settings.CHECKOUT_SESSION_MINUTES)
        return self.order_set.filter(
            paid_at__isnull=True, failed_at__isnull=True, created_at__gt=opened_since
        )

    def record_redemption(self) -> bool:
        """Count one paid use. The payment is honoured even when the coupon expired
        or filled up meanwhile; only the count stops at the limit (False then)."""
        taken = (
            Coupon.objects.filter(pk=self.pk)
            .filter(Q(max_redemptions__isnull=True) | Q(times_redeemed__lt=F("max_redemptions")))
            .update(times_redeemed=F("times_redeemed") + 1)
        )
        return taken == 1


class ProductFile(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="files")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def current_version(self) -> FileVersion | None:
        versions = list(self.versions.all())
        return max(versions, key=lambda v: (v.created_at, v.pk)) if versions else None


def version_upload_to(instance: FileVersion, filename: str) -> str:
    return f"products/{instance.product_file_id}/{secrets.token_hex(8)}-{filename}"


class FileVersion(models.Model):
    product_file = models.ForeignKey(ProductFile, on_delete=models.CASCADE, related_name="versions")
    label = models.CharField(max_length=40, help_text="e.g. 'v2' or 'March 2026'.")
    notes = models.TextField(blank=True, help_text="What changed; emailed to past buyers.")
    file = models.FileField(storage=private_storage, upload_to=version_upload_to, max_length=300)
    filename = models.CharField(max_length=200, help_text="The name buyers download it as.")
    created_at = models.DateTimeField(default=timezone.now)
    announced_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.product_file} {self.label}"

    @property
    def is_pdf(self) -> bool:
        return self.filename.lower().endswith(".pdf")

    def claim_announcement(self) -> bool:
        """True once: the caller owns telling past buyers about this version."""
        claimed = FileVersion.objects.filter(pk=self.pk, announced_at__isnull=True).update(
            announced_at=timezone.now()
        )
        return claimed == 1


# --- Orders -------------------------------------------------------------------


def new_order_number() -> str:
    return f"{timezone.now():%y%m}-{secrets.token_hex(4).upper()}"


class OrderQuerySet(models.QuerySet["Order"]):
    def owned_by(self, user: Any) -> OrderQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        PAID = "paid", "Paid"
        FAILED = "failed", "Payment failed"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partly refunded"
        DISPUTED = "disputed", "Disputed"
        # The payment did not match the order (amount, currency or mode): never fulfilled.
        HELD = "held", "Held"

    class Dispute(models.TextChoices):
        NONE = "", "None"
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    number = models.CharField(max_length=20, unique=True, default=new_order_number)
    email = models.EmailField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="store_orders",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    currency = models.CharField(max_length=3, default="gbp")
    subtotal = models.PositiveIntegerField(default=0)
    discount = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    amount_refunded = models.PositiveIntegerField(default=0)
    dispute = models.CharField(max_length=5, choices=Dispute.choices, blank=True, default="")
    coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.PROTECT)
    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    policy_snapshot = models.JSONField(default=dict, blank=True)
    refund_window_days = models.PositiveIntegerField(default=0)
    business_name = models.CharField(max_length=200, blank=True)
    business_address = models.TextField(blank=True)
    tax_id = models.CharField(max_length=60, blank=True)
    refund_requested_at = models.DateTimeField(null=True, blank=True)
    refund_request_reason = models.TextField(blank=True)
    # Taken when the payment is recorded (store.accounting): gap-free per year.
    invoice_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    invoice_sequence = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # Stripe Tax on at checkout: the tax inside `total`, as Stripe reported it.
    automatic_tax = models.BooleanField(default=False)
    tax_amount = models.PositiveIntegerField(default=0)
    # Orders started outside the store (a paid booking) send the buyer back there.
    return_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    hold_reason = models.TextField(blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="order_user_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total=F("subtotal") - F("discount")), name="order_total_adds_up"
            ),
            models.UniqueConstraint(
                fields=["invoice_year", "invoice_sequence"], name="invoice_number_once"
            ),
            models.CheckConstraint(
                condition=Q(tax_amount__lte=F("total")), name="tax_within_total"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("store:order", args=[self.number])

    def money(self, amount: int) -> str:
        return format_money(amount, self.currency)

    @property
    def total_display(self) -> str:
        return self.money(self.total)

    @property
    def discount_display(self) -> str:
        return self.money(self.discount)

    @property
    def refunded_display(self) -> str:
        return self.money(self.amount_refunded)

    @property
    def payment_plan(self) -> PaymentPlan | None:
        try:
            return self.plan
        except PaymentPlan.DoesNotExist:
            return None

    @property
    def charged_at_checkout(self) -> int:
        """What Checkout takes: the total, or a plan's first instalment."""
        plan = self.payment_plan
        return plan.instalments.get(number=1).amount if plan is not None else self.total

    @property
    def amount_paid(self) -> int:
        """Money received so far (a plan's paid instalments), refunds not deducted."""
        if self.paid_at is None:
            return 0
        plan = self.payment_plan
        return plan.amount_paid if plan is not None else self.total

    @property
    def refundable(self) -> int:
        """What can still go back: all paid so far (a plan's paid instalments) less
        what already did."""
        return max(self.amount_paid - self.amount_refunded, 0)

    @property
    def invoice_number(self) -> str:
        if self.invoice_year is None or self.invoice_sequence is None:
            return ""
        return invoice_label("INV", self.invoice_year, self.invoice_sequence)

    @property
    def tax_display(self) -> str:
        return self.money(self.tax_amount)

    def assign_invoice_number(self) -> bool:
        """Number a paid order's invoice once; call with the order row locked, inside
        the transaction that records the payment (a rollback returns the number)."""
        if self.invoice_sequence is not None or self.paid_at is None or self.total == 0:
            return False
        self.invoice_year = self.paid_at.year
        self.invoice_sequence = DocumentCounter.take_next(
            DocumentCounter.Series.INVOICE, self.invoice_year
        )
        self.save(update_fields=["invoice_year", "invoice_sequence"])
        return True

    def issue_credit_note(
        self, amount: int, *, reason: str = "", instalment: Instalment | None = None
    ) -> CreditNote:
        """The credit note for `amount` just refunded, numbered in its own series; its
        tax is that share of the refunded charge's own tax (an instalment's, or the
        order's)."""
        now = timezone.now()
        if instalment is not None:
            tax = instalment.tax_amount * amount // instalment.amount
        else:
            tax = self.tax_amount * amount // self.total if self.total else 0
        return CreditNote.objects.create(
            order=self,
            amount=amount,
            tax_amount=tax,
            year=now.year,
            sequence=DocumentCounter.take_next(DocumentCounter.Series.CREDIT_NOTE, now.year),
            reason=reason[:200],
            created_at=now,
        )

    @property
    def grants_access(self) -> bool:
        """Paid, not refunded in full, not lost in a dispute: what it bought is usable."""
        if self.paid_at is None or self.dispute == self.Dispute.LOST:
            return False
        if self.amount_refunded == 0:
            return True
        # In full: all that was paid (a plan's instalments so far) came back.
        return not (self.total > 0 and self.amount_refunded >= self.amount_paid)

    @property
    def refund_deadline(self) -> Any:
        return self.paid_at + timedelta(days=self.refund_window_days) if self.paid_at else None

    def can_request_refund(self) -> bool:
        """A buyer may ask while the order still grants access and nothing was refunded;
        past the window the coach decides (a product without a window takes none)."""
        return (
            self.grants_access
            and self.refund_requested_at is None
            and self.amount_refunded == 0
            and self.refund_window_days > 0
        )

    @property
    def inside_refund_window(self) -> bool:
        deadline = self.refund_deadline
        return deadline is not None and timezone.now() <= deadline

    def was_used(self) -> bool:
        """A file downloaded or a coaching credit spent: what "unused" refunds exclude."""
        return (
            self.entitlements.filter(first_download_at__isnull=False).exists()
            or self.credit_grants.filter(used__gt=0).exists()
        )

    def refunds_at_once(self) -> bool:
        """Whether a request now is paid without the coach, by the policy the buyer
        agreed to (copied at checkout: a later change to the product never applies)."""
        rule = self.policy_snapshot.get("automatic_refunds", Product.AutomaticRefunds.NEVER)
        if not self.can_request_refund() or not self.inside_refund_window:
            return False
        if rule == Product.AutomaticRefunds.ANY:
            return True
        return rule == Product.AutomaticRefunds.UNUSED and not self.was_used()

    def _derive_status(self) -> str:
        # One status from facts that arrive in any order, so event order never matters.
        if self.total > 0 and self.amount_refunded >= self.total:
            return self.Status.REFUNDED
        if self.paid_at and self.amount_refunded and self.amount_refunded >= self.amount_paid:
            return self.Status.REFUNDED  # a plan's instalments so far all came back
        if self.dispute in (self.Dispute.OPEN, self.Dispute.LOST):
            return self.Status.DISPUTED
        if self.amount_refunded > 0:
            return self.Status.PARTIALLY_REFUNDED
        if self.paid_at:
            return self.Status.PAID
        if self.held_at:
            return self.Status.HELD
        if self.failed_at:
            return self.Status.FAILED
        return self.Status.PENDING

    def _save_state(self, *fields: str) -> None:
        self.status = self._derive_status()
        self.save(update_fields=[*fields, "status"])

    def mark_paid(self, *, payment_intent: str) -> bool:
        if self.paid_at is not None:
            return False
        self.paid_at = timezone.now()
        self.stripe_payment_intent_id = payment_intent or self.stripe_payment_intent_id
        self._save_state("paid_at", "stripe_payment_intent_id")
        self.assign_invoice_number()
        return True

    def hold(self, reason: str) -> bool:
        """Stop an unpaid order from being fulfilled until the coach has looked."""
        if self.paid_at is not None or self.held_at is not None:
            return False
        self.held_at = timezone.now()
        self.hold_reason = reason
        self._save_state("held_at", "hold_reason")
        return True

    def mark_failed(self) -> bool:
        if self.paid_at is not None or self.failed_at is not None:
            return False
        self.failed_at = timezone.now()
        self._save_state("failed_at")
        return True

    def record_refunded_total(self, amount_refunded: int) -> bool:
        """Stripe reports the charge's cumulative refunds; keep the largest seen."""
        amount = min(amount_refunded, self.total)
        if amount <= self.amount_refunded:
            return False
        self.amount_refunded = amount
        self._save_state("amount_refunded")
        return True

    def record_dispute(self, state: str) -> bool:
        if self.dispute == state or self.dispute == self.Dispute.LOST:
            return False
        self.dispute = state
        self._save_state("dispute")
        return True

    def mark_fulfilled(self) -> bool:
        if self.fulfilled_at is not None:
            return False
        self.fulfilled_at = timezone.now()
        self.save(update_fields=["fulfilled_at"])
        return True

    def request_refund(self, reason: str) -> bool:
        if not self.can_request_refund():
            return False
        self.refund_requested_at = timezone.now()
        self.refund_request_reason = reason[:2000]
        self.save(update_fields=["refund_requested_at", "refund_request_reason"])
        return True


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    title = models.CharField(max_length=200)
    unit_amount = models.PositiveIntegerField()
    quantity = models.PositiveSmallIntegerField(default=1)

    def __str__(self) -> str:
        return self.title

    @property
    def amount_display(self) -> str:
        return format_money(self.unit_amount * self.quantity, self.order.currency)


class Refund(models.Model):
    """One refund we asked Stripe for; its primary key makes the idempotency key."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    # The instalment whose own charge this refunds (an order paid in instalments).
    instalment = models.ForeignKey(
        Instalment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
    )
    amount = models.PositiveIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive")]

    def __str__(self) -> str:
        return f"{self.order.number}: {self.amount}"

    @property
    def idempotency_key(self) -> str:
        return f"store-refund-{self.pk}"


# --- What an order grants -------------------------------------------------------
# (Session credits live in store.credits and stamped PDFs in store.stamps, imported
# above with the payment plans and invoice numbering: every store model is
# importable from store.models.)


class EntitlementQuerySet(models.QuerySet["Entitlement"]):
    def active(self) -> EntitlementQuerySet:
        return self.filter(status=Entitlement.Status.ACTIVE)

    def for_library(self, user: Any) -> EntitlementQuerySet:
        return (
            self.active()
            .filter(user=user)
            .exclude(product__kind=Product.Kind.BUNDLE)
            .select_related("product")
            .order_by("-created_at")
        )


class Entitlement(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        REVOKED = "revoked"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entitlements"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="entitlements")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="entitlements")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The first download of one of its files: an "unused" refund policy reads it.
    first_download_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = EntitlementQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="entitlement_once_per_order")
        ]
        indexes = [models.Index(fields=["user", "status"], name="entitlement_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.product}"

    def get_absolute_url(self) -> str:
        return reverse("store:library-item", args=[self.pk])

    @classmethod
    def record_download(cls, *, user: Any, product_id: int) -> None:
        cls.objects.active().filter(
            user=user, product_id=product_id, first_download_at__isnull=True
        ).update(first_download_at=timezone.now())

    def revoke(self) -> bool:
        if self.status == self.Status.REVOKED:
            return False
        self.status = self.Status.REVOKED
        self.revoked_at = timezone.now()
        self.save(update_fields=["status", "revoked_at"])
        return True


class StripeEvent(models.Model):
    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="stripe_event_pending_idx",
                condition=Q(processed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"

    @property
    def data_object(self) -> dict[str, Any]:
        data: dict[str, Any] = self.payload.get("data", {}).get("object", {})
        return data
