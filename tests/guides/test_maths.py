import pytest

from guides.rendering import render_body

pytestmark = pytest.mark.django_db


def test_inline_and_display_maths_in_a_guide_become_mathml():
    html = render_body("Width $d_{model}$.\n\n$$\\frac{QK^T}{\\sqrt{d_k}}$$\n").html
    assert "d_{model}" not in html
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">' in html
    assert "<msub><mi>d</mi>" in html
    assert 'display="block"' in html
    assert "<mfrac>" in html and "<msqrt>" in html


def test_dollar_amounts_and_code_stay_as_written():
    html = render_body("It costs $5 or $6 a month.\n\n`$x$` and\n\n```\n$y$\n```\n").html
    assert "<math" not in html
    assert "$5 or $6" in html
    assert "<code>$x$</code>" in html


def test_latex_the_converter_cannot_read_is_shown_as_typed():
    html = render_body("Broken $\\frac{a}{$ here.").html
    assert "<math" not in html
    assert "Broken" in html


def test_a_saved_guide_keeps_its_maths_rendered(db):
    from tests.guides.factories import GuideFactory

    guide = GuideFactory(body="Attention scales by $\\sqrt{d_k}$.")
    assert "<msqrt>" in guide.body_html


def test_maths_never_carries_a_script_through():
    html = render_body("$\\text{<script>alert(1)</script>}$ and $\\href{javascript:x}{y}$").html
    assert "<script" not in html
    assert "javascript:" not in html


def test_the_migration_renders_maths_in_guides_saved_before_it_was_supported(db):
    import importlib

    from django.apps import apps

    from guides.models import Guide
    from tests.guides.factories import GuideFactory

    guide = GuideFactory(body="Each head has $d_k$ dimensions.")
    Guide.objects.filter(pk=guide.pk).update(body_html="<p>Each head has $d_k$ dimensions.</p>")
    migration = importlib.import_module("guides.migrations.0004_render_maths")

    migration.render_maths(apps, None)

    guide.refresh_from_db()
    assert "<msub><mi>d</mi><mi>k</mi></msub>" in guide.body_html
    assert "$d_k$" not in guide.body_html


def test_latex_typed_without_dollars_renders_as_maths_and_the_prose_around_it_stays():
    html = render_body(
        "Scaling by \\sqrt{d_k}. Cost (O(n \\log n) or O(n)), files in C:\\temp stay.\n\n"
        "```\nprint('\\sqrt{x}')\n```\n\nAlready $\\sqrt{y}$ and `\\frac{a}{b}` stay.\n"
    ).html
    assert html.count("<msqrt>") == 2
    assert "\\sqrt{x}" in html  # fenced code is never maths
    assert "<code>\\frac{a}{b}</code>" in html
    assert "C:\\temp stay" in html
    assert 'Scaling by <span class="math inline"><math' in html
    assert '</math></span>. Cost (<span class="math inline">' in html
    assert "</math></span> or O(n))" in html
