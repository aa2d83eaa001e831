from __future__ import annotations

from typing import Any

from django import forms

from newsletter.models import MailingList, valid_time_zone


class SubscribeForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Email address")
    name = forms.CharField(max_length=150, required=False, label="First name (optional)")
    lists = forms.ModelMultipleChoiceField(
        queryset=MailingList.objects.filter(is_public=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="What would you like to get?",
    )
    time_zone = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    source = forms.CharField(max_length=120, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The list whose own page this is (?list=<slug>); joining through it earns its
        # lead magnet. Added here: a class attribute named `list` would shadow the type.
        self.fields["list"] = forms.SlugField(
            max_length=50, required=False, widget=forms.HiddenInput
        )
        self.fields["lists"].initial = list(
            MailingList.objects.filter(is_public=True, is_default=True).values_list("pk", flat=True)
        )

    def clean_time_zone(self) -> str:
        value = self.cleaned_data.get("time_zone", "")
        return value if valid_time_zone(value) else ""

    def joined_through(self) -> MailingList | None:
        """The public list whose own form was posted, if any."""
        slug = self.cleaned_data.get("list")
        return MailingList.objects.filter(is_public=True, slug=slug).first() if slug else None

    def chosen_lists(self) -> list[MailingList]:
        """A page form sends no lists: those get the default ones."""
        chosen = list(self.cleaned_data.get("lists") or [])
        if not chosen and "lists" not in self.data:
            chosen = list(MailingList.objects.filter(is_default=True))
        return chosen


class PreferencesForm(forms.Form):
    """Lists to keep or join: public ones and those already held (a private list
    cannot be joined by adding its id to the post)."""

    lists = forms.ModelMultipleChoiceField(
        queryset=MailingList.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Lists you get",
    )
    time_zone = forms.CharField(
        max_length=64,
        required=False,
        label="Your time zone",
        help_text="For example Europe/Paris or America/New_York: emails arrive in your morning.",
    )

    def __init__(self, *args: Any, subscriber: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lists"].queryset = MailingList.objects.choosable_by(subscriber)  # type: ignore[attr-defined]

    def clean_time_zone(self) -> str:
        value = self.cleaned_data.get("time_zone", "").strip()
        if value and not valid_time_zone(value):
            raise forms.ValidationError("Use a time zone name such as Europe/Paris.")
        return value
