from guides.rendering import read_time, render_body


def test_headings_get_anchors_and_the_contents_list_levels_two_to_four():
    rendered = render_body(
        "## 1. First\n\ntext\n\n### 1.1 Detail\n\n#### Deep\n\n##### Deeper\n\n## 1. First\n"
    )
    assert [(h["level"], h["id"]) for h in rendered.toc] == [
        (2, "1-first"), (3, "11-detail"), (4, "deep"), (2, "1-first-2"),
    ]  # fmt: skip
    assert '<h5 id="deeper">' in rendered.html
    assert '<h2 id="1-first">' in rendered.html
    assert 'href="#1-first"' in rendered.html


def test_raw_html_in_a_body_is_shown_as_text_never_rendered():
    rendered = render_body(
        "<instructions>do this</instructions>\n\n<script>alert(1)</script>\n\n"
        '[click](javascript:alert(1)) <img src=x onerror="alert(1)">'
    )
    assert "<script" not in rendered.html
    assert "<instructions>" not in rendered.html
    assert "&lt;instructions&gt;" in rendered.html
    assert 'href="javascript' not in rendered.html
    assert "<img" not in rendered.html  # shown as text, so its onerror never runs


def test_tables_footnotes_code_and_checklists_render():
    rendered = render_body(
        "| a | b |\n|---|---|\n| 1 | 2 |\n\nNote[^1]\n\n[^1]: Source\n\n"
        "```python\nprint('x')\n```\n\n- [ ] todo\n"
    )
    assert "<table>" in rendered.html
    assert 'class="footnotes"' in rendered.html
    assert "<pre><code" in rendered.html
    assert 'type="checkbox"' in rendered.html


def test_the_more_marker_ends_the_preview_and_is_not_shown():
    rendered = render_body("Open part.\n\n<!-- more -->\n\nClosed part.\n")
    assert "Open part." in rendered.preview_html
    assert "Closed part." not in rendered.preview_html
    assert "Closed part." in rendered.html
    assert "more" not in rendered.html


def test_without_a_marker_the_preview_is_whole_paragraphs_within_a_quarter_of_the_words():
    rendered = render_body("\n\n".join(f"Paragraph {n} here." for n in range(1, 9)))
    # 24 words: at most 6 in the preview, so the first two paragraphs.
    assert "Paragraph 2 here." in rendered.preview_html
    assert "Paragraph 3" not in rendered.preview_html


def test_the_cta_marker_leaves_a_slot_for_the_call_to_action():
    rendered = render_body("Before.\n\n<!-- cta -->\n\nAfter.\n")
    assert '<div class="cta-slot"></div>' in rendered.html


def test_read_time_is_words_over_230_and_at_least_one_minute():
    assert read_time(0) == 1
    assert read_time(2300) == 10
