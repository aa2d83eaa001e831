import re

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone

from guides.models import Category, Guide, Placement
from guides.structure import SHOWN_PER_SECTION, read_time_label, split_tags
from tests.guides.factories import CategoryFactory, GuideFactory

pytestmark = pytest.mark.django_db

DOUBLE_LISTED = "the-definitive-guide-to-forward-deployed-engineer-interviews-in-2026"


def _hub_sections(html: str) -> list[tuple[str, list[str]]]:
    """Each hub section's title and the titles of its cards, in page order."""
    found = []
    for block in html.split('<section class="hub-section"')[1:]:
        block = block.split("</section>")[0]
        title = re.search(r"<h2[^>]*><a[^>]*>(.*?)</a></h2>", block, re.S)[1]
        cards = re.findall(r'<h3><a href="[^"]+">(.*?)</a></h3>', block)
        found.append((title, cards))
    return found


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


@pytest.mark.corpus
def test_the_whole_corpus_with_its_index_is_arranged_as_the_coach_listed_it(
    corpus_dir, client, capsys
):
    index = yaml.safe_load((corpus_dir / "index.yaml").read_text())
    call_command("import_guides", str(corpus_dir))
    capsys.readouterr()

    videos = Guide.objects.filter(kind="video")
    assert videos.count() == 7
    assert set(videos.values_list("status", flat=True)) == {"draft"}
    # The coach pastes one video's address and publishes it: its section fills.
    advice = videos.get(slug="ai-career-advice")
    advice.video_url = "https://youtu.be/dQw4w9WgXcQ"
    advice.status, advice.published_at = "published", timezone.now()
    advice.save()

    html = _unescape(client.get("/guides/").content.decode())
    sections = _hub_sections(html)
    assert [name for name, _ in sections[:4]] == [c["name"] for c in index["categories"]]
    live = set(Guide.objects.published().values_list("title", flat=True))
    for (name, cards), category in zip(sections, index["categories"], strict=False):
        wanted = [e["title"] for e in category["entries"] if e["title"] in live]
        # The first guides in the index's order (guides only the front matter puts in a
        # section follow them); a longer section links to all of its guides.
        shown = wanted[:SHOWN_PER_SECTION]
        assert cards[: len(shown)] == shown, name
        if len(wanted) > SHOWN_PER_SECTION:
            assert f"guides in {name}</a>" in html, name
    fde = Guide.objects.get(slug=DOUBLE_LISTED)
    assert fde.title in sections[0][1] and fde.title in sections[1][1]
    primary = Placement.objects.get(guide=fde, is_primary=True)
    assert primary.category.name == fde.category.name == "Emerging AI Roles (2025)"
    assert fde.sections.count() == 2
    technical = Category.objects.get(name="Technical AI Interview Mastery")
    assert fde.title in _unescape(
        client.get(f"/guides/?category={technical.slug}").content.decode()
    )

    study = Guide.objects.get(kind="study-guide")
    assert study.body_html.count("<math") > 100
    transformer = Guide.objects.get(slug__startswith="the-transformer-revolution")
    assert transformer.body_html.count("<math") >= 15
    for guide in (study, transformer):
        # No maths left in dollars; the study guide's "$$$$" price column is text.
        assert not re.findall(r"\$[A-Za-z\\{]", guide.body_text)
        assert not re.findall(r"\\(?:frac|sqrt|text|bar|infty|log|Theta)\b", guide.body_text)

    # The interactive stack page: its 14 parts in order, and the overview that jumps to them.
    stack = Guide.objects.get(kind="interactive")
    page = client.get(stack.get_absolute_url()).content.decode()
    parts = [int(n) for n in re.findall(r'data-part="(\d+)"', page)]
    assert parts == list(range(1, 15))
    assert 'href="#part-1"' in page and 'href="#part-14"' in page

    # Published dates of the front matter are kept; ranges and tags come from the index.
    dated = Guide.objects.get(slug="forward-deployed-engineer")
    assert dated.published_at.date().isoformat() == "2025-08-19"
    assert fde.read_time_label == "45-60 min read" and fde.level == "senior-level"
    assert transformer.read_time_label == "2-3 hour read"
    blueprint = Guide.objects.get(slug__startswith="genai-career-blueprint-mastering")
    assert list(blueprint.tags.values_list("name", flat=True)) == [
        "Essential career planning resource"
    ]

    call_command("import_guides", str(corpus_dir))
    assert "unchanged 42, rejected 0, index changes 0" in capsys.readouterr().out
    assert Guide.objects.filter(kind="video").count() == 7
    assert Guide.objects.get(slug="ai-career-advice").status == "published"


@pytest.mark.corpus
def test_a_dry_run_of_the_corpus_reports_the_index_changes_and_writes_nothing(corpus_dir, capsys):
    call_command("import_guides", str(corpus_dir), "--dry-run")
    out = capsys.readouterr().out
    assert "would import: created 42" in out
    assert "would create video 'how-to-become-an-ai-engineer' as a draft" in out
    assert f"would place '{DOUBLE_LISTED}' in 'Technical AI Interview Mastery' at 1" in out
    assert not Guide.objects.exists() and not Category.objects.exists()


def test_an_index_tag_is_a_read_time_range_a_level_or_a_free_tag():
    tags = split_tags(["45-60 min read", "senior-level", "For research-track roles"])
    assert tags.read_time == (45, 60) and tags.level == "senior-level"
    assert tags.free == ["For research-track roles"]
    assert split_tags(["2-3 hour read"]).read_time == (120, 180)


def test_read_time_reads_as_a_range_when_the_coach_gives_one():
    assert read_time_label(None, 12) == "12 min read"
    assert read_time_label(45, 60) == "45-60 min read"
    assert read_time_label(120, 180) == "2-3 hour read"
    assert read_time_label(60, 60) == "60 min read"


def _import_index(tmp_path, categories):
    (tmp_path / "articles").mkdir(exist_ok=True)
    (tmp_path / "index.yaml").write_text(yaml.safe_dump({"categories": categories}))
    call_command("import_guides", str(tmp_path))


def test_cards_show_their_tags_and_the_hub_filters_by_one(client, tmp_path):
    tagged = GuideFactory(title="Tagged guide", slug="tagged")
    GuideFactory(title="Untagged guide")
    entry = {"title": "Tagged guide", "slug": "tagged", "kind": "article",
             "tags": ["30-45 min read", "Critical for offer evaluation"]}  # fmt: skip
    _import_index(tmp_path, [{"name": tagged.category.name, "entries": [entry]}])

    hub = client.get("/guides/").content.decode()
    assert '<a href="/guides/?tag=critical-for-offer-evaluation">' in hub
    assert "30-45 min read" in hub
    html = client.get("/guides/?tag=critical-for-offer-evaluation").content.decode()
    assert "Tagged guide" in html and "Untagged guide" not in html
    assert "Tagged “Critical for offer evaluation”" in html
    assert client.get("/guides/?tag=<script>").status_code == 200


def test_a_sub_section_shows_under_its_parent_and_a_bad_index_is_rejected(client, tmp_path):
    parent = CategoryFactory(name="Interviews", slug="interviews")
    child = CategoryFactory(name="System design", slug="system-design", parent=parent)
    GuideFactory(title="Top guide", category=parent)
    GuideFactory(title="Nested guide", category=child)
    html = client.get("/guides/").content.decode()
    sections = html[html.index('<section class="hub-section"') :]
    assert sections.index("Top guide") < sections.index("System design")
    assert sections.index("System design") < sections.index("Nested guide")

    (tmp_path / "index.yaml").write_text("categories: nope\n")
    (tmp_path / "articles").mkdir()
    with pytest.raises(Exception, match="rejected"):
        call_command("import_guides", str(tmp_path))


def _admin_form(guide, **extra):
    form = {
        "title": guide.title, "slug": guide.slug, "summary": guide.summary,
        "category": guide.category_id, "body": guide.body, "status": "published",
        "published_at_0": "2026-01-01", "published_at_1": "10:00:00", "visibility": "public",
        "kind": "article", "level": "", "read_time_minutes": "0",
        "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0",
        "placements-TOTAL_FORMS": "0", "placements-INITIAL_FORMS": "0",
    }  # fmt: skip
    form.update(extra)
    return form


def test_in_the_admin_a_guide_is_placed_in_a_second_section_and_keeps_one_primary(coach_client):
    guide = GuideFactory()
    second = CategoryFactory(name="Interviews", slug="interviews")
    url = f"/admin/guides/guide/{guide.pk}/change/"
    two = {
        "placements-TOTAL_FORMS": "1",
        "placements-0-category": second.pk, "placements-0-position": "3",
        "placements-0-is_primary": "on",
    }  # fmt: skip

    # Ticked primary while its category is the first: refused with a message, not a 500.
    response = coach_client.post(
        url,
        _admin_form(guide, **{**two, "placements-TOTAL_FORMS": "2",
                              "placements-1-category": guide.category_id,
                              "placements-1-position": "1", "placements-1-is_primary": "on"}),
    )  # fmt: skip
    assert response.status_code == 200
    assert "one primary section" in response.content.decode()

    response = coach_client.post(url, _admin_form(guide, **two))
    assert response.status_code == 302
    guide.refresh_from_db()
    # The primary section the coach ticked becomes the guide's category.
    assert guide.category == second
    assert list(guide.placements.values_list("category__slug", "is_primary")) == [
        ("interviews", True)
    ]


def test_in_the_admin_the_primary_section_moves_from_one_row_to_another_in_one_save(
    coach_client,
):
    guide = GuideFactory()
    second = CategoryFactory(name="Interviews", slug="interviews")
    first = Placement.objects.create(guide=guide, category=guide.category, is_primary=True)
    other = Placement.objects.create(guide=guide, category=second, position=2)
    rows = {
        "placements-TOTAL_FORMS": "2", "placements-INITIAL_FORMS": "2",
        "placements-0-id": first.pk, "placements-0-guide": guide.pk,
        "placements-0-category": guide.category_id, "placements-0-position": "0",
        "placements-1-id": other.pk, "placements-1-guide": guide.pk,
        "placements-1-category": second.pk, "placements-1-position": "2",
        "placements-1-is_primary": "on",
    }  # fmt: skip
    response = coach_client.post(
        f"/admin/guides/guide/{guide.pk}/change/", _admin_form(guide, **rows)
    )
    assert response.status_code == 302
    guide.refresh_from_db()
    assert guide.category == second
    assert guide.placements.get(is_primary=True).category == second
    assert guide.placements.count() == 2


def test_a_big_section_shows_its_first_guides_and_links_to_all_of_them(client):
    from guides.structure import SHOWN_PER_SECTION

    big = CategoryFactory(name="Interviews", slug="interviews")
    for n in range(SHOWN_PER_SECTION + 3):
        GuideFactory(title=f"Interview guide {n:02d}", category=big)

    html = client.get("/guides/").content.decode()

    assert html.count('class="card') >= SHOWN_PER_SECTION
    assert f"All {SHOWN_PER_SECTION + 3} guides in Interviews" in html
    assert 'href="?category=interviews"' in html
