from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from coaching import pagecache

# The header's links: (label, path, the section it marks as current). Signed-in people get
# their own pages and a way out instead of "Sign in".
PUBLIC_LINKS = [
    ("Guides", "/guides/", "/guides/"),
    ("Store", "/store/", "/store/"),
    ("Newsletter", "/newsletter/subscribe/", "/newsletter/"),
]
SIGNED_IN_LINKS = [("Library", "/library/", "/library/"), ("Portal", "/portal/", "/portal/")]
SIGNED_OUT_LINKS = [("Sign in", "/accounts/login/", "/accounts/login/")]
# The footer's links while the coach has not arranged the footer menu.
FOOTER_LINKS = [
    ("All guides", "/guides/"),
    ("Coaching", "/coaching/"),
    ("About", "/about/"),
    ("Contact", "/contact/"),
    ("Newsletter archive", "/newsletter/archive/"),
    ("RSS feed", "/feeds/guides/"),
]


def site(request: HttpRequest) -> dict[str, Any]:
    # The lower-case pair is what templates/emails/_layout.html reads, so the
    # emails allauth renders with the request (sign-in codes) share the frame.
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
    }


def _menus() -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """The coach's header and footer menus (admin: Menu items); the built-in links
    stand in for a menu with no items, so an empty table keeps today's site."""
    from coaching.models import MenuItem

    nav: list[tuple[str, str, str]] = []
    footer: list[tuple[str, str]] = []
    for item in MenuItem.objects.shown():
        if item.menu == MenuItem.Menu.NAV:
            nav.append((item.text, item.href, item.href))
        else:
            footer.append((item.text, item.href))
    return nav or PUBLIC_LINKS, footer or FOOTER_LINKS


def _is_current(path: str, section: str) -> bool:
    # "/" would mark every page; addresses on other sites mark none.
    return section.startswith("/") and section != "/" and path.startswith(section)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    # Lazy: the menus are read only by pages that show them (not the admin's).
    # Remembered per content version: a signed-in page (never shared) reads no table
    # for them; editing a menu item or page bumps the version (coaching/apps.py).
    menus = SimpleLazyObject(lambda: pagecache.remember("menus", "all", _menus))

    def nav_links() -> list[dict[str, Any]]:
        links = menus[0] + (SIGNED_IN_LINKS if signed_in else SIGNED_OUT_LINKS)
        return [
            {"label": label, "path": path, "current": _is_current(request.path, section)}
            for label, path, section in links
        ]

    def footer_links() -> list[dict[str, str]]:
        return [{"label": label, "path": path} for label, path in menus[1]]

    return {
        "nav_links": SimpleLazyObject(nav_links),
        "footer_links": SimpleLazyObject(footer_links),
        "nav_signed_in": signed_in,
    }


def csrf_for_reader_pages(request: HttpRequest) -> dict[str, Any]:
    """While a reader page is rendered to be shared (coaching/pagecache.py, tier 4),
    `{% csrf_token %}` writes a placeholder that each request fills with its own token."""
    if getattr(request, pagecache.RENDERING_READER_PAGE, False):
        return {"csrf_token": pagecache.CSRF_PLACEHOLDER}
    return {}
