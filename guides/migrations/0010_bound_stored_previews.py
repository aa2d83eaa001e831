"""Re-cut stored previews with the bound (guides.rendering.split_preview): guides
without a more marker used to show their first three paragraphs, which could be
most of a short paid guide."""

from typing import Any

from django.contrib.postgres.search import SearchVector
from django.db import migrations


def bound_previews(apps: Any, schema_editor: Any) -> None:
    from coaching.markdown import render_markdown
    from guides.rendering import CTA_MARKER, html_to_text, split_preview

    Guide = apps.get_model("guides", "Guide")
    for guide in Guide.objects.only("pk", "body", "preview_html").iterator():
        source, _ = split_preview(guide.body)
        preview_html, _ = render_markdown(CTA_MARKER.sub("", source), maths=True)
        if preview_html != guide.preview_html:
            Guide.objects.filter(pk=guide.pk).update(
                preview_html=preview_html, preview_text=html_to_text(preview_html)
            )
            Guide.objects.filter(pk=guide.pk).update(
                search_vector=SearchVector("title", weight="A", config="english")
                + SearchVector("summary", weight="B", config="english")
                + SearchVector("preview_text", weight="C", config="english")
            )


class Migration(migrations.Migration):
    dependencies = [("guides", "0009_sections_placements_tags_and_video")]

    operations = [migrations.RunPython(bound_previews, migrations.RunPython.noop)]
