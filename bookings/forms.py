"""Forms for the booking pages; the intake form is built from the coach's questions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from unfold.widgets import UnfoldAdminPasswordToggleWidget

from bookings.models import CALENDAR_URL_MESSAGE, BusyCalendar, EventType
from bookings.slots import BadZone, zone


def clean_zone(value: str) -> str:
    try:
        zone(value)
    except BadZone as error:
        raise forms.ValidationError(str(error)) from None
    return value


class IntakeForm(forms.Form):
    """Name, email and the event type's own questions (text, choice or URL)."""

    name = forms.CharField(max_length=150, label="Your name")
    email = forms.EmailField(label="Your email", help_text="The invitation goes here.")
    time_zone = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, event_type: EventType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = [q for q in event_type.intake_questions or [] if q.get("key")]
        for question in self.questions:
            self.fields[f"q_{question['key']}"] = _question_field(question)

    def clean_time_zone(self) -> str:
        return clean_zone(self.cleaned_data["time_zone"])

    def answers(self) -> dict[str, str]:
        return {
            q["key"]: str(self.cleaned_data.get(f"q_{q['key']}") or "")
            for q in self.questions
            if self.cleaned_data.get(f"q_{q['key']}")
        }


def _question_field(question: dict[str, Any]) -> forms.Field:
    label = str(question.get("label") or question["key"])
    required = bool(question.get("required", False))
    kind = question.get("kind", "text")
    help_text = str(question.get("help", ""))
    if kind == "choice":
        choices = [("", "Choose one")] + [(str(c), str(c)) for c in question.get("choices", [])]
        return forms.ChoiceField(
            label=label, required=required, choices=choices, help_text=help_text
        )
    if kind == "url":
        return forms.URLField(
            label=label,
            required=required,
            help_text=help_text or "A link, e.g. your LinkedIn or CV.",
            assume_scheme="https",
        )
    return forms.CharField(
        label=label, required=required, max_length=2000, help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip


def intake_errors(event_type: EventType, answers: dict[str, Any]) -> tuple[dict[str, str], dict]:
    """Validate API answers with the same fields as the page: (clean answers, errors)."""
    data = {f"q_{key}": value for key, value in (answers or {}).items()}
    form = IntakeForm(
        {"name": "x", "email": "x@example.com", "time_zone": "UTC", **data}, event_type=event_type
    )
    if form.is_valid():
        return form.answers(), {}
    errors = {key.removeprefix("q_"): [str(e) for e in value] for key, value in form.errors.items()}
    return {}, errors


class WaitlistForm(forms.Form):
    name = forms.CharField(max_length=150, label="Your name")
    email = forms.EmailField(label="Your email")
    time_zone = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def clean_time_zone(self) -> str:
        return clean_zone(self.cleaned_data["time_zone"])


class BusyCalendarForm(forms.ModelForm):
    """The coach's calendar address: http(s) only; a webcal:// link is read as https://."""

    url = forms.CharField(
        label="Secret address",
        max_length=2000,
        # A secret: hidden unless the coach asks to see it.
        widget=UnfoldAdminPasswordToggleWidget(render_value=True),
        help_text="The calendar's secret iCal address (Google: Settings > 'Secret address in "
        "iCal format'; Apple and Outlook: 'Publish' or 'Share' a calendar). Only the times of "
        "events are kept; titles and descriptions are never stored.",
    )

    class Meta:
        model = BusyCalendar
        fields = ["coach", "name", "url", "is_active"]

    def clean_url(self) -> str:
        value = self.cleaned_data["url"].strip()
        scheme, separator, rest = value.partition("://")
        if separator and scheme.lower() in {"webcal", "webcals"}:
            value = f"https://{rest}"
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise forms.ValidationError(CALENDAR_URL_MESSAGE) from None
        return value
