"""The pipelines a fresh workspace starts with; the coach renames and reorders them freely."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

if TYPE_CHECKING:
    from clients.models import Pipeline

# (name, outcome, role)
INDIVIDUALS = [
    ("New lead", "open", "lead"),
    ("Discovery call booked", "open", "discovery"),
    ("Proposal sent", "open", ""),
    ("Client", "won", "client"),
    ("Completed", "won", "completed"),
    ("Lost", "lost", ""),
]
WORKSHOPS = [
    ("Enquiry", "open", "lead"),
    ("Scoping call", "open", "discovery"),
    ("Proposal", "open", ""),
    ("Booked", "won", "client"),
    ("Delivered", "won", "completed"),
    ("Lost", "lost", ""),
]


@transaction.atomic
def create_default_pipelines() -> Pipeline:
    """Individuals (the default) and Company workshops; returns the default. Idempotent."""
    from clients.models import Pipeline, Stage

    default = None
    for position, (name, stages, is_default) in enumerate(
        [("Individuals", INDIVIDUALS, True), ("Company workshops", WORKSHOPS, False)]
    ):
        pipeline, created = Pipeline.objects.get_or_create(
            name=name, defaults={"position": position, "is_default": is_default}
        )
        if created:
            Stage.objects.bulk_create(
                Stage(pipeline=pipeline, name=stage, position=i, outcome=outcome, role=role)
                for i, (stage, outcome, role) in enumerate(stages)
            )
        if is_default:
            default = pipeline
    assert default is not None
    return default
