"""Interactive guides: the corpus's "14 layers" page parsed, imported and shown in parts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from guides.access import ReadingRights
from guides.interactive import import_interactive, parse_interactive
from guides.models import Guide, GuidePart
from tests.guides.factories import GuideFactory

STACK = "the-14-layers-of-the-ai-stack.md"
LAYERS = [
    "Raw Materials", "Semiconductor Fabrication", "AI Accelerators", "Networking & Interconnect",
    "Data Centers & Power", "GPU Programming & Systems Software", "ML Frameworks & Compilers",
    "Distributed Training", "Training Data", "Model Architectures", "Training & Alignment",
    "Inference & Serving", "Integration & Middleware", "Applications",
]  # fmt: skip

SMALL = """Opening words that are not the summary.

## Three Steps at a Glance

1. Find the problem.
2. Shape the answer.
3. Ship it.

## Step 1: Find

Look around. <script>alert("x")</script> <instructions>obey</instructions>

| Metric | Value | Source Year |
|---|---|---|
| Problems found | 12 | 2025 |

## Step 2: Shape

| Company | HQ |
|---|---|
| **Acme** | Here |

## Step 3: Ship

Done.

## Afterwards

Closing thoughts.
"""


def data_parts(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-part="(\d+)"', html)]


@pytest.fixture
def stack_markdown(corpus_dir: Path) -> str:
    return (corpus_dir / "articles" / STACK).read_text(encoding="utf-8")


def test_the_corpus_stack_parses_into_its_fourteen_layers_in_order(stack_markdown):
    parsed = parse_interactive(stack_markdown)
    assert [part.title for part in parsed.parts] == LAYERS
    assert [part.number for part in parsed.parts] == list(range(1, 15))
    assert parsed.overview_title == "The 14 Layers at a Glance"
    assert len(parsed.overview) == 14
    assert parsed.parts[0].summary.startswith("The physical foundation.")
    assert parsed.parts[13].summary.startswith("Where AI meets humans.")
    assert parsed.parts[0].body.startswith("The physical foundation of the entire AI stack.")
    assert "## Layer" not in "".join(part.body for part in parsed.parts)
    assert parsed.closing.startswith("## Across the Stack")
    assert "Global silicon wafer market: ~$14.5 billion (2025)" in parsed.parts[0].key_figures
    assert parsed.parts[0].key_players.splitlines()[0] == "Shin-Etsu Chemical"
    # Two tables written back to back: the second's header is not a player.
    assert parsed.parts[8].key_players.splitlines()[-1] == "Together AI"
    assert "~$2T+ (public)" not in parsed.parts[13].key_players  # a row that lost its name


def test_a_small_guide_parses_with_figures_players_and_a_closing_section():
    parsed = parse_interactive(SMALL)
    assert [(p.number, p.title, p.summary) for p in parsed.parts] == [
        (1, "Find", "Find the problem."),
        (2, "Shape", "Shape the answer."),
        (3, "Ship", "Ship it."),
    ]
    assert parsed.intro == "Opening words that are not the summary."
    assert parsed.parts[0].key_figures == "Problems found: 12 (2025)"
    assert parsed.parts[1].key_players == "Acme"
    assert parsed.closing == "## Afterwards\n\nClosing thoughts."


@pytest.mark.django_db
def test_importing_the_corpus_makes_an_interactive_guide_of_fourteen_parts_once(
    corpus_dir, tmp_path, capsys
):
    (tmp_path / STACK).write_text((corpus_dir / "articles" / STACK).read_text(encoding="utf-8"))
    call_command("import_guides", str(tmp_path))
    guide = Guide.objects.get(slug="the-14-layers-of-the-ai-stack")
    assert guide.kind == Guide.Kind.INTERACTIVE
    assert list(guide.parts.values_list("title", flat=True)) == LAYERS
    assert guide.body.startswith("## Across the Stack")
    assert "Shin-Etsu" in guide.body_text  # readers' search covers the parts
    call_command("import_guides", str(tmp_path))
    assert "created 0, updated 0, unchanged 1, rejected 0" in capsys.readouterr().out
    assert guide.parts.count() == 14
    assert guide.revisions.count() == 0


@pytest.mark.django_db
def test_the_stack_page_shows_every_part_in_order_and_reads_without_javascript(
    client, stack_markdown
):
    guide = GuideFactory(kind="interactive", summary="From the rare earth mines up.")
    import_interactive(guide, stack_markdown)
    html = client.get(guide.get_absolute_url()).content.decode()
    assert data_parts(html) == list(range(1, 15))
    positions = [html.index(f'>{title.replace("&", "&amp;")}<a class="anchor"') for title in LAYERS]
    assert positions == sorted(positions)
    # Without JavaScript: the overview and each part's next link are plain in-page links,
    # and the script-only bar stays hidden.
    for n in range(1, 15):
        assert f'id="part-{n}"' in html and f'href="#part-{n}"' in html
    assert re.search(r'class="stack-indicator" hidden', html)
    assert "js/stack.js" in html and "css/stack.css" in html
    # The contents beside the text list the parts, then the closing sections.
    contents = re.findall(r'class="toc-level-2"><a href="#([^"]+)"', html)
    assert contents == [f"part-{n}" for n in range(1, 15)] + ["across-the-stack"]
    assert "&lt;instructions&gt;" in html and "<instructions>" not in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "every id on the page is unique"


@pytest.mark.django_db
def test_no_script_the_coach_writes_in_a_part_reaches_the_page(client):
    guide = GuideFactory(kind="interactive")
    import_interactive(guide, SMALL)
    GuidePart.objects.create(
        guide=guide,
        position=9,
        title="Sneaky",
        body='<img src=x onerror="alert(1)">\n\n[x](javascript:alert(1))',
    )
    html = client.get(guide.get_absolute_url()).content.decode()
    assert data_parts(html) == [1, 2, 3, 4]
    sneaky = html[
        html.index('data-part="4"') : html.index("</section>", html.index('data-part="4"'))
    ]
    assert "<img" not in sneaky and 'href="javascript' not in sneaky
    assert "&lt;img src=x onerror" in sneaky  # shown as the text it is
    first = html[html.index('data-part="1"') : html.index("</section>")]
    assert "<script" not in first and "&lt;script&gt;" in first
    assert "Closing thoughts." in html


@pytest.mark.django_db
def test_a_paid_interactive_guide_shows_its_parts_only_to_those_entitled(
    client, candidate, entitle
):
    guide = GuideFactory(kind="interactive", visibility="paid")
    import_interactive(guide, SMALL)
    visitor = client.get(guide.get_absolute_url()).content.decode()
    assert data_parts(visitor) == []
    assert "Look around." not in visitor and "Problems found" not in visitor
    assert "Unlock the full guide" in visitor and "In this guide: 3 parts" in visitor
    assert not ReadingRights(members=True).can_read(guide.visibility, guide.pk)
    client.force_login(candidate)
    assert data_parts(client.get(guide.get_absolute_url()).content.decode()) == []
    entitle(candidate, guide)
    assert ReadingRights(entitled=frozenset({guide.pk})).can_read(guide.visibility, guide.pk)
    buyer = client.get(guide.get_absolute_url()).content.decode()
    assert data_parts(buyer) == [1, 2, 3]
    assert "Look around." in buyer


@pytest.mark.django_db
def test_a_visitor_never_finds_a_paid_part_by_searching_but_a_buyer_does(
    client, candidate, entitle
):
    guide = GuideFactory(kind="interactive", visibility="paid", title="Stack guide")
    import_interactive(guide, SMALL.replace("Look around.", "Look around for quokkas."))
    assert "search-hit" not in client.get("/search/?q=quokkas").content.decode()
    entitle(candidate, guide)
    client.force_login(candidate)
    assert "search-hit" in client.get("/search/?q=quokkas").content.decode()


@pytest.mark.django_db
def test_the_coach_edits_the_parts_inline_on_the_guide_admin_page(coach_client: Any):
    guide = GuideFactory(kind="interactive")
    import_interactive(guide, SMALL)
    response = coach_client.get(f"/admin/guides/guide/{guide.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="parts-TOTAL_FORMS" value="3"' in html
    assert "Problems found: 12 (2025)" in html
    article = GuideFactory()
    assert (
        "parts-TOTAL_FORMS"
        not in coach_client.get(f"/admin/guides/guide/{article.pk}/change/").content.decode()
    )


@pytest.mark.django_db
def test_a_part_the_coach_edits_in_the_admin_shows_on_the_page_and_in_the_contents(
    coach_client: Any, client: Any, django_capture_on_commit_callbacks: Any
):
    guide = GuideFactory(kind="interactive", body="Closing words.\n")
    import_interactive(guide, SMALL)
    client.get(guide.get_absolute_url())  # the page is cached before the edit
    first, second, third = guide.parts.all()
    form = {
        "title": guide.title, "slug": guide.slug, "summary": guide.summary,
        "category": guide.category_id, "body": guide.body, "status": "published",
        "published_at_0": "2026-01-01", "published_at_1": "10:00:00", "visibility": "public",
        "kind": "interactive", "level": "", "read_time_minutes": "5",
        "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0",
        "placements-TOTAL_FORMS": "0", "placements-INITIAL_FORMS": "0",
        "parts-TOTAL_FORMS": "4", "parts-INITIAL_FORMS": "3",
    }  # fmt: skip
    rows = [
        (first, "Find the real problem", "Look **closer**.", "Problems found: 13"),
        (second, second.title, second.body, ""),
        (third, third.title, third.body, ""),
        (None, "Measure", "Count what changed.", ""),
    ]
    for index, (part, title, body, figures) in enumerate(rows):
        prefix = f"parts-{index}-"
        form |= {
            prefix + "id": part.pk if part else "",
            prefix + "guide": guide.pk,
            prefix + "position": index + 1,
            prefix + "title": title,
            prefix + "summary": part.summary if part else "What changed.",
            prefix + "body": body,
            prefix + "key_figures": figures,
            prefix + "key_players": part.key_players if part else "",
        }
    form["parts-2-DELETE"] = "on"
    with django_capture_on_commit_callbacks(execute=True):  # what makes cached pages stale
        response = coach_client.post(f"/admin/guides/guide/{guide.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(guide.parts.values_list("title", flat=True)) == [
        "Find the real problem",
        "Shape",
        "Measure",
    ]
    html = client.get(guide.get_absolute_url()).content.decode()
    assert data_parts(html) == [1, 2, 3]
    assert "Look <strong>closer</strong>." in html and "Problems found: 13" not in html
    assert "<dd>13</dd>" in html and "Count what changed." in html and "Ship it" not in html
    contents = re.findall(r'class="toc-level-2"><a href="#([^"]+)">([^<]+)<', html)
    assert contents[:3] == [
        ("part-1", "Find the real problem"),
        ("part-2", "Shape"),
        ("part-3", "Measure"),
    ]
    assert "Measure" in Guide.objects.get(pk=guide.pk).body_text


@pytest.mark.django_db
def test_the_contents_keep_the_parts_when_only_the_body_is_saved(client):
    from guides.services import save_guide

    guide = GuideFactory(kind="interactive")
    import_interactive(guide, SMALL)
    guide.body = "## A new ending\n\nThe end.\n"
    save_guide(guide=guide)  # as restoring an earlier version does: the body alone
    html = client.get(guide.get_absolute_url()).content.decode()
    contents = re.findall(r'class="toc-level-2"><a href="#([^"]+)"', html)
    assert contents == ["part-1", "part-2", "part-3", "a-new-ending"]
