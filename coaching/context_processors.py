from typing import Any

from django.conf import settings
from django.http import HttpRequest

# The header's links: (label, path, the section it marks as current). Signed-in people get
# their own pages and a way out instead of "Sign in".
PUBLIC_LINKS = [
    ("Guides", "/guides/", "/guides/"),
    ("Store", "/store/", "/store/"),
    ("Newsletter", "/newsletter/subscribe/", "/newsletter/"),
]
SIGNED_IN_LINKS = [("Library", "/library/", "/library/"), ("Portal", "/portal/", "/portal/")]
SIGNED_OUT_LINKS = [("Sign in", "/accounts/login/", "/accounts/login/")]


def site(request: HttpRequest) -> dict[str, Any]:
    # The lower-case pair is what templates/emails/_layout.html reads, so the
    # emails allauth renders with the request (sign-in codes) share the frame.
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
    }


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    links = PUBLIC_LINKS + (SIGNED_IN_LINKS if signed_in else SIGNED_OUT_LINKS)
    return {
        "nav_links": [
            {"label": label, "path": path, "current": request.path.startswith(section)}
            for label, path, section in links
        ],
        "nav_signed_in": signed_in,
    }
