"""Template syntax never reaches a visitor: Django's `{# #}` is single-line only."""

import re
from pathlib import Path

import pytest
from django.conf import settings

# What a visitor would see if a tag or comment were not parsed, outside code samples.
TEMPLATE_SYNTAX = re.compile(r"\{#|#\}|\{%|%\}|\{\{|\}\}")
CODE = re.compile(r"<(pre|code|script|style|textarea)\b.*?</\1>", re.DOTALL | re.IGNORECASE)


def template_files() -> list[Path]:
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    return sorted(path for folder in folders if folder.is_dir() for path in folder.rglob("*.*"))


def visible_template_syntax(html: str) -> list[str]:
    return TEMPLATE_SYNTAX.findall(CODE.sub("", html))


def test_no_template_opens_a_comment_it_closes_on_a_later_line():
    unclosed = []
    for path in template_files():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            # Django ends a {# #} comment at the line's end; a longer one is shown as text.
            if "{#" in line and "#}" not in line.split("{#", 1)[1]:
                unclosed.append(f"{path.relative_to(settings.BASE_DIR)}:{number}")
    assert template_files()
    assert unclosed == []


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", ["public", "members", "paid"])
def test_a_guide_page_shows_no_template_syntax_to_a_visitor(client, visibility):
    from tests.guides.factories import GuideFactory

    guide = GuideFactory(slug="plain-guide", visibility=visibility)
    response = client.get(guide.get_absolute_url())
    assert response.status_code == 200
    assert visible_template_syntax(response.content.decode()) == []
