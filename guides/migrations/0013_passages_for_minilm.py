"""Passages embedded by the earlier model (WordLlama, 256 dimensions) are dropped.

Their vectors mean nothing to all-MiniLM-L6-v2: a guide without passages is
found by its text until beat's `embed_stale_guides` (or `manage.py
embed_guides`) writes them again, with the new model.
"""

from django.db import migrations, models
from django.db.models.functions import Length
from django.db.models.lookups import Exact


def drop_passages(apps, schema_editor):
    apps.get_model("guides", "GuidePassage").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("guides", "0012_guide_passages")]

    operations = [
        migrations.RunPython(drop_passages, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="guidepassage",
            constraint=models.CheckConstraint(
                condition=Exact(Length("vector"), 1536), name="passage_vector_width"
            ),
        ),
    ]
