"""The spelling dictionary gets each word's English stem and its frequency.

Its words now come from the whole public text of guides (a public guide's
body, not only its preview), so the dictionary is rebuilt once here. The SQL
is a frozen copy of guides.search.PUBLIC_TEXT and its word filter as they were
when this migration was written.
"""

from django.db import migrations, models

REBUILD = """
DELETE FROM guides_searchterm;
INSERT INTO guides_searchterm (word, stem, weight)
SELECT word, coalesce((ts_lexize('english_stem', word))[1], word), nentry
  FROM ts_stat($$SELECT to_tsvector('simple', title || ' ' || summary || ' ' ||
       CASE WHEN visibility = 'public' THEN body_text ELSE preview_text END)
       FROM guides_guide WHERE status = 'published'$$)
 WHERE length(word) BETWEEN 3 AND 100 AND word ~ '^[a-z][a-z0-9''-]*$';
"""


class Migration(migrations.Migration):
    dependencies = [("guides", "0004_render_maths")]

    operations = [
        migrations.AddField(
            model_name="searchterm",
            name="stem",
            field=models.CharField(db_index=True, default="", max_length=100),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="searchterm",
            name="weight",
            field=models.IntegerField(default=0),
        ),
        migrations.RunSQL(REBUILD, migrations.RunSQL.noop),
    ]
