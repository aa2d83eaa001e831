from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    # The lower-case pair is what templates/emails/_layout.html reads, so the
    # emails allauth renders with the request (sign-in codes) share the frame.
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
    }
