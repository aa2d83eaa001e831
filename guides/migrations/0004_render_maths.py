"""Re-render guides that contain a dollar sign, so maths typed before it was supported
shows as MathML instead of raw LaTeX."""

from typing import Any

from django.db import migrations


def render_maths(apps: Any, schema_editor: Any) -> None:
    from guides.rendering import html_to_text, render_body

    Guide = apps.get_model("guides", "Guide")
    changed = False
    for guide in Guide.objects.filter(body__contains="$").iterator():
        rendered = render_body(guide.body)
        if rendered.html == guide.body_html and rendered.preview_html == guide.preview_html:
            continue
        guide.body_html = rendered.html
        guide.preview_html = rendered.preview_html
        guide.body_text = html_to_text(rendered.html)
        guide.preview_text = html_to_text(rendered.preview_html)
        guide.save(update_fields=["body_html", "preview_html", "body_text", "preview_text"])
        changed = True
    if changed:
        # Cached guide pages hold the old HTML.
        from coaching.pagecache import bump_version

        bump_version()


class Migration(migrations.Migration):
    dependencies = [("guides", "0003_body_text_stored_uncompressed")]

    operations = [migrations.RunPython(render_maths, migrations.RunPython.noop)]
