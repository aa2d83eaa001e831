from __future__ import annotations

from typing import Any

from django import forms

from members.models import Interval, Tier


class PlanForm(forms.Form):
    """A paid tier and its billing interval, as the pricing and account pages post them."""

    tier = forms.SlugField()
    interval = forms.ChoiceField(choices=Interval.choices)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        tier = Tier.objects.offered().filter(slug=data.get("tier", "")).first()
        if tier is None or tier.is_free:
            raise forms.ValidationError("Choose one of the plans on the pricing page.")
        if tier.amount(data.get("interval", "")) is None:
            raise forms.ValidationError(f"{tier.name} is not sold at that interval.")
        data["tier"] = tier
        return data
