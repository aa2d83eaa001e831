"""Forms of the workspace: they validate; the views and services save."""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.core import signing

from clients.models import Engagement, Note, Outcome, Stage, Task

INPUT = "cl-input"


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(queryset=Stage.objects.all())
    reason = forms.CharField(max_length=300, required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        stage = data.get("stage")
        if isinstance(stage, Stage) and stage.is_lost and not (data.get("reason") or "").strip():
            self.add_error("reason", f"Moving to “{stage.name}” needs a reason.")
        return data


class NoteForm(forms.ModelForm):
    class Meta:
        model = Note
        fields = ["body", "is_shared"]
        labels = {"body": "Note", "is_shared": "Share with the client (shown in their portal)"}
        widgets = {"body": forms.Textarea(attrs={"rows": 3, "class": INPUT})}


class TaskForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = ["title", "due_on"]
        labels = {"title": "Follow-up", "due_on": "Due on"}
        widgets = {
            "title": forms.TextInput(attrs={"class": INPUT}),
            "due_on": forms.DateInput(attrs={"type": "date", "class": INPUT}),
        }


class OutcomeForm(forms.ModelForm):
    class Meta:
        model = Outcome
        fields = [
            "kind", "company", "role", "level", "compensation_band", "currency", "base_salary",
            "bonus", "equity", "total", "before_role", "before_salary", "engagement", "service",
            "occurred_on", "notes",
        ]  # fmt: skip
        labels = {
            "occurred_on": "Date",
            "compensation_band": "Compensation band",
            "base_salary": "Base (per year)",
            "engagement": "Package",
        }
        widgets = {
            "currency": forms.TextInput(attrs={"class": INPUT, "maxlength": 3}),
            "base_salary": forms.NumberInput(attrs={"class": INPUT}),
            "bonus": forms.NumberInput(attrs={"class": INPUT}),
            "equity": forms.NumberInput(attrs={"class": INPUT}),
            "total": forms.NumberInput(attrs={"class": INPUT}),
            "before_role": forms.TextInput(attrs={"class": INPUT}),
            "before_salary": forms.NumberInput(attrs={"class": INPUT}),
            "engagement": forms.Select(attrs={"class": INPUT}),
            "service": forms.Select(attrs={"class": INPUT}),
            "kind": forms.Select(attrs={"class": INPUT}),
            "company": forms.TextInput(attrs={"class": INPUT}),
            "role": forms.TextInput(attrs={"class": INPUT}),
            "level": forms.TextInput(attrs={"class": INPUT}),
            "compensation_band": forms.TextInput(attrs={"class": INPUT}),
            "occurred_on": forms.DateInput(attrs={"type": "date", "class": INPUT}),
            "notes": forms.Textarea(attrs={"rows": 2, "class": INPUT}),
        }

    def __init__(self, *args: Any, contact: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only this client's packages: another client's would mislabel the result.
        self.fields["currency"].required = False
        engagements = self.fields["engagement"]
        assert isinstance(engagements, forms.ModelChoiceField)
        engagements.queryset = (
            contact.engagements.all() if contact is not None else Engagement.objects.none()
        )

    def clean_currency(self) -> str:
        """Three letters, upper case; empty means the coach's usual GBP."""
        value = (self.cleaned_data.get("currency") or "GBP").strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise forms.ValidationError("Use a three-letter currency code, e.g. GBP or USD.")
        return value


class GiveBackForm(forms.Form):
    reason = forms.CharField(max_length=300)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with a header row: email, name, time_zone, company, "
                           "source, source_detail, pipeline, stage.")  # fmt: skip
    dry_run = forms.BooleanField(
        required=False, initial=True, label="Dry run: show what would change, write nothing"
    )


# --- The public contact form ---------------------------------------------------------

# A person needs a few seconds to fill in four fields; a script posting at once does not.
CONTACT_MIN_SECONDS = 3
# A form left open longer than this asks to be sent again (its token has expired).
CONTACT_MAX_AGE = 2 * 24 * 3600
CONTACT_SALT = "clients.contact-form"
CONTACT_TOPICS = [
    ("", "Choose a topic"),  # a required select starts on an empty choice (HTML's rule)
    ("coaching", "Coaching"),
    ("training", "Training for a team"),
    ("consulting", "Consulting"),
    ("speaking", "Speaking or a podcast"),
    ("media", "Press and media"),
    ("other", "Something else"),
]


def contact_form_token() -> str:
    """The signed moment the form was shown; checked when it comes back."""
    return signing.TimestampSigner(salt=CONTACT_SALT).sign(f"{time.time():.3f}")


class ContactForm(forms.Form):
    name = forms.CharField(
        label="Your name", max_length=150, error_messages={"required": "Tell the coach your name."}
    )
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        error_messages={
            "required": "Give an address the coach can reply to.",
            "invalid": "This does not look like an email address (name@example.com).",
        },
    )
    topic = forms.ChoiceField(label="What is it about?", choices=CONTACT_TOPICS)
    message = forms.CharField(
        label="Your message",
        max_length=5000,
        widget=forms.Textarea,
        error_messages={"required": "Write your message."},
    )
    # A field people never see (hidden by CSS, skipped by the keyboard and screen
    # readers); form-filling scripts fill it in.
    website = forms.CharField(required=False, max_length=200)
    started = forms.CharField(widget=forms.HiddenInput)

    def clean_message(self) -> str:
        message = self.cleaned_data["message"].strip()
        if len(message) < 2:
            raise forms.ValidationError("Write a few words so the coach knows how to help.")
        return message

    def clean_started(self) -> float | None:
        """Seconds since the form was shown, or None for a token that is not ours."""
        signer = signing.TimestampSigner(salt=CONTACT_SALT)
        token = self.cleaned_data["started"]
        try:
            shown_at = float(signer.unsign(token, max_age=CONTACT_MAX_AGE))
        except signing.SignatureExpired as error:
            raise forms.ValidationError(
                "This form was open for a long time; please send it again."
            ) from error
        except (signing.BadSignature, ValueError):
            return None
        return time.time() - shown_at

    @property
    def looks_automated(self) -> bool:
        """Filled the hidden field, came back too fast or with a forged token: the
        sender is thanked as usual and nothing is recorded (telling a script why
        would teach it)."""
        started = self.cleaned_data.get("started")
        return bool(self.cleaned_data.get("website")) or (
            started is None or started < CONTACT_MIN_SECONDS
        )


YES_NO = [("yes", "Yes"), ("no", "No")]


class TestimonialForm(forms.Form):
    """The client's words and three explicit choices: nothing is ticked for them."""

    quote = forms.CharField(
        label="In a few sentences: what changed for you?",
        max_length=1200,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    name_shown = forms.ChoiceField(
        label="Show my name as",
        choices=[("full", "My full name"), ("initials", "My initials only")],
        widget=forms.RadioSelect,
    )
    show_company = forms.ChoiceField(
        label="Name the company that made the offer?", choices=YES_NO, widget=forms.RadioSelect
    )
    show_figures = forms.ChoiceField(
        label="Show the figures (pay rise, salary, time to offer)?",
        choices=YES_NO,
        widget=forms.RadioSelect,
    )
