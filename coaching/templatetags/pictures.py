from django import template
from django.utils.safestring import SafeString

from coaching.images import Picture, picture_html

register = template.Library()


@register.simple_tag
def picture(
    picture: Picture | None, alt: str = "", css: str = "", sizes: str = "", eager: bool = False
) -> SafeString:
    """{% picture guide.cover css="card-cover" sizes="..." %}: see coaching.images."""
    return picture_html(picture, alt=alt, css=css, sizes=sizes, eager=eager)
