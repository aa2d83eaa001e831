from django import template
from django.utils.safestring import SafeString, mark_safe

from coaching.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    """Short coach-written Markdown (bio, offers); sanitised like every guide body."""
    return mark_safe(render_markdown(text or "")[0])  # noqa: S308 - nh3-sanitised above
