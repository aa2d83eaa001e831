from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from coaching.money import format_money
from store.models import Order, Product
from store.plans import split_amount


class BuyForm(forms.Form):
    email = forms.EmailField(
        label="Email for your receipt and library",
        help_text="You sign in with a code sent here: no password to remember.",
    )
    amount = forms.DecimalField(
        label="Pay what you want",
        required=False,
        min_value=Decimal("0"),
        max_digits=8,
        decimal_places=2,
    )
    coupon = forms.CharField(label="Coupon code", required=False, max_length=40)
    business_name = forms.CharField(label="Business name", required=False, max_length=200)
    business_address = forms.CharField(
        label="Billing address", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    tax_id = forms.CharField(label="VAT or tax ID", required=False, max_length=60)

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.product = product
        if not product.pay_what_you_want:
            del self.fields["amount"]
        else:
            price = product.price
            self.fields["amount"].help_text = (
                f"Minimum {product.minimum_amount / 100:.2f}"
                + (f", suggested {price.display}" if price else "")
                + "."
            )
            if price and "amount" not in self.initial:
                self.initial["amount"] = Decimal(price.amount) / 100
        price = product.price
        if product.offers_instalments and price and not product.pay_what_you_want:
            count = product.instalments
            parts = split_amount(price.amount, count)
            every = product.instalment_interval_days
            self.fields["plan"] = forms.TypedChoiceField(
                label="How to pay",
                coerce=int,
                choices=[
                    (1, f"In full: {price.display}"),
                    (
                        count,
                        f"In {count} instalments, one every {every} days: "
                        f"{format_money(parts[0], price.currency)} now"
                        + (
                            f", the last {format_money(parts[-1], price.currency)}"
                            if parts[-1] != parts[0]
                            else ""
                        ),
                    ),
                ],
                initial=1,
                help_text="With instalments, your card is kept to take the later ones when due.",
            )
            # Right after the email, before the folded coupon and invoice details.
            order = ["email", "plan", *[n for n in self.fields if n not in ("email", "plan")]]
            self.fields = {name: self.fields[name] for name in order}

    def instalments(self) -> int:
        return int(self.cleaned_data.get("plan") or 1)

    def amount_minor(self) -> int | None:
        value = self.cleaned_data.get("amount")
        return int(value * 100) if value is not None else None


class RefundRequestForm(forms.Form):
    reason = forms.CharField(
        label="Anything you would like to tell us (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RefundForm(forms.Form):
    """The admin's refund: a full refund by default, or any smaller amount."""

    amount = forms.DecimalField(min_value=Decimal("0.01"), max_digits=10, decimal_places=2)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        remaining = order.refundable
        self.fields["amount"].initial = Decimal(remaining) / 100
        self.fields["amount"].help_text = f"At most {order.money(remaining)}."

    def clean_amount(self) -> int:
        value = int(self.cleaned_data["amount"] * 100)
        if value > self.order.refundable:
            raise forms.ValidationError("That is more than what is left to refund.")
        return value
