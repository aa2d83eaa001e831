from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from guides.models import Category, Guide

pytestmark = pytest.mark.django_db

GOOD = """---
title: "A good guide"
slug: good-guide
category: "Strategic Career Planning"
summary: "A summary."
read_time_minutes: 3
kind: article
level: senior-level
source: test.txt
published: 2025-03-04
suggested_access: members
---

## 1. Start

Hello.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_it_imports_a_file_then_finds_it_unchanged_then_updated(tmp_path, capsys):
    write(tmp_path, "good-guide.md", GOOD)
    call_command("import_guides", str(tmp_path))
    guide = Guide.objects.get(slug="good-guide")
    assert (guide.visibility, guide.level, guide.read_time_minutes) == (
        "members",
        "senior-level",
        3,
    )
    assert guide.published_at.date().isoformat() == "2025-03-04"
    assert guide.category.name == "Strategic Career Planning"
    call_command("import_guides", str(tmp_path))
    write(tmp_path, "good-guide.md", GOOD.replace("Hello.", "Hello again."))
    call_command("import_guides", str(tmp_path))
    out = capsys.readouterr().out
    assert "created 1, updated 0, unchanged 0, rejected 0" in out
    assert "created 0, updated 0, unchanged 1, rejected 0" in out
    assert "created 0, updated 1, unchanged 0, rejected 0" in out
    assert Guide.objects.get(slug="good-guide").revisions.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("read_time_minutes: 3", 'read_time_minutes: "three"'), "read_time_minutes"),
        (("kind: article", "kind: podcast"), "kind"),
        (("slug: good-guide", "slug: other-name"), "slug"),
        (('title: "A good guide"\n', ""), "title"),
        (("published: 2025-03-04", "published: yesterday"), "published"),
        (("level: senior-level", "level: wizard"), "level"),
        (("suggested_access: members", "suggested_access: secret"), "suggested_access"),
        (("---\ntitle", "---\n: : [\ntitle"), "front matter"),
    ],
)
def test_a_file_with_bad_front_matter_is_rejected_naming_file_and_field(
    tmp_path, capsys, change, field
):
    write(tmp_path, "good-guide.md", GOOD.replace(*change))
    write(tmp_path, "fine.md", GOOD.replace("slug: good-guide", "slug: fine"))
    with pytest.raises(CommandError, match="1 file"):
        call_command("import_guides", str(tmp_path))
    err = capsys.readouterr().err
    assert f"rejected good-guide.md: {field}" in err
    assert not Guide.objects.filter(slug="good-guide").exists()
    assert Guide.objects.filter(slug="fine").exists()


def test_a_dry_run_reports_and_writes_nothing(tmp_path, capsys):
    write(tmp_path, "good-guide.md", GOOD)
    call_command("import_guides", str(tmp_path), "--dry-run")
    assert "would import: created 1" in capsys.readouterr().out
    assert not Guide.objects.exists() and not Category.objects.exists()


@pytest.mark.corpus
def test_the_whole_corpus_imports_renders_with_contents_and_reimports_unchanged(
    corpus_dir, capsys, client
):
    call_command("import_guides", str(corpus_dir))
    assert "created 42, updated 0, unchanged 0, rejected 0" in capsys.readouterr().out
    call_command("import_guides", str(corpus_dir))
    assert "unchanged 42" in capsys.readouterr().out
    longest = Guide.objects.get(slug="the-14-layers-of-the-ai-stack")
    assert longest.word_count > 30_000
    for guide in Guide.objects.published():  # the index's videos wait as drafts
        html = client.get(guide.get_absolute_url()).content.decode()
        assert guide.title.split()[0] in html, guide.slug
        if guide.visibility == "public":
            assert html.count('class="toc-level-') == len(guide.toc), guide.slug
    # A few short posts have no headings at all; every long guide has contents.
    long_guides = Guide.objects.filter(word_count__gte=2000)
    assert long_guides.count() >= 15
    assert all(len(g.toc) >= 3 for g in long_guides), [g.slug for g in long_guides if not g.toc]
    stack = client.get(longest.get_absolute_url()).content.decode()
    assert "<instructions>" not in stack  # literal tags in the corpus stay text


@pytest.mark.corpus
def test_the_paid_study_guide_of_the_corpus_shows_only_its_preview(corpus_dir, client):
    call_command("import_guides", str(corpus_dir))
    study = Guide.objects.get(kind="study-guide")
    assert study.visibility == "paid"
    html = client.get(study.get_absolute_url()).content.decode()
    last_words = study.body_text[-200:]
    assert last_words not in html
    assert "Unlock the full guide" in html
