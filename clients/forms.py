"""Forms of the workspace: they validate; the views and services save."""

from __future__ import annotations

from django import forms

from clients.models import Note, Outcome, Stage, Task

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
        fields = ["kind", "company", "role", "level", "compensation_band", "occurred_on", "notes"]
        labels = {"occurred_on": "Date", "compensation_band": "Compensation band"}
        widgets = {
            "kind": forms.Select(attrs={"class": INPUT}),
            "company": forms.TextInput(attrs={"class": INPUT}),
            "role": forms.TextInput(attrs={"class": INPUT}),
            "level": forms.TextInput(attrs={"class": INPUT}),
            "compensation_band": forms.TextInput(attrs={"class": INPUT}),
            "occurred_on": forms.DateInput(attrs={"type": "date", "class": INPUT}),
            "notes": forms.Textarea(attrs={"rows": 2, "class": INPUT}),
        }


class GiveBackForm(forms.Form):
    reason = forms.CharField(max_length=300)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with a header row: email, name, time_zone, company, "
                           "source, source_detail, pipeline, stage.")  # fmt: skip
    dry_run = forms.BooleanField(
        required=False, initial=True, label="Dry run: show what would change, write nothing"
    )
