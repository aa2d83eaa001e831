"""What a shared link and a search engine read: Open Graph and Twitter card values,
canonical addresses and schema.org JSON-LD, built from plain values so every app
describes its pages the same way."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

SCHEMA = "https://schema.org"


def absolute(url: str) -> str:
    """An address as a full URL: link previews and JSON-LD need the host."""
    if not url or url.startswith(("http://", "https://")):
        return url
    return f"{settings.SITE_URL.rstrip('/')}/{url.lstrip('/')}"


def share(
    *, title: str, description: str, path: str, image: str = "", kind: str = "website"
) -> dict[str, str]:
    """The values of a page's og:* and twitter:* tags and its canonical address."""
    return {
        "title": title,
        "description": " ".join(description.split())[:300],
        "url": absolute(path),
        "image": absolute(image),
        "type": kind,
    }


def breadcrumbs(trail: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": absolute(path)}
            for n, (name, path) in enumerate(trail, start=1)
        ],
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def article(
    *,
    headline: str,
    description: str,
    url: str,
    image: str,
    published: datetime | None,
    modified: datetime | None,
    author: str,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@type": "Article",
        "headline": headline[:110],
        "description": description,
        "url": absolute(url),
        "mainEntityOfPage": absolute(url),
        "image": [absolute(image)] if image else [],
        "datePublished": _iso(published),
        "dateModified": _iso(modified or published),
        "author": {"@type": "Person", "name": author} if author else None,
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME},
    }
    return {key: value for key, value in data.items() if value not in (None, [], "")}


def video(
    *, name: str, description: str, url: str, thumbnail: str, uploaded: datetime | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@type": "VideoObject",
        "name": name,
        "description": description or name,
        "thumbnailUrl": [absolute(thumbnail)] if thumbnail else [],
        "uploadDate": _iso(uploaded),
        "embedUrl": url,
    }
    return {key: value for key, value in data.items() if value not in (None, [], "")}


def json_ld(*items: dict[str, Any]) -> SafeString:
    """One <script type="application/ld+json"> holding `items` as a graph.

    json.dumps makes it valid JSON; <, > and & become \\u escapes so a title holding
    "</script>" cannot end the element early (the same escaping as json_script).
    """
    text = json.dumps({"@context": SCHEMA, "@graph": list(items)}, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308
