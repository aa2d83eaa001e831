from django.contrib.postgres.operations import BtreeGistExtension, TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    """Extensions the other apps rely on: exclusion constraints and fuzzy search."""

    dependencies = [("coaching", "0001_initial")]

    operations = [BtreeGistExtension(), TrigramExtension()]
