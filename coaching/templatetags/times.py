"""{% local_time dt zone %} and {% local_datetime dt zone %}: coaching/times.py in templates.

Django's own |date and |time filters would show the site's zone (UTC); these
show the reader's, with the zone named.
"""

from datetime import datetime

from django import template

from coaching import times

register = template.Library()


@register.simple_tag
def local_time(moment: datetime | None, zone_name: str) -> str:
    return times.local_time(moment, zone_name) if moment else ""


@register.simple_tag
def local_datetime(moment: datetime | None, zone_name: str) -> str:
    return times.local_datetime(moment, zone_name) if moment else ""
