from __future__ import annotations

from django import forms

from comments.models import MAX_LENGTH


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Your comment",
        max_length=MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Plain text; links are fine.",
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write something first.")
        return body
