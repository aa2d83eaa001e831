"""Demo catalogue: a study-guide PDF, online access to the paid guides, a bundle and
two coaching packages, priced in GBP. Keyed by slug, so loading twice changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from guides.models import Guide
from store import pdf
from store.models import FileVersion, Price, Product, ProductFile

STUDY_GUIDE_PATH = "demo/ai-engineer-study-guide-v1.pdf"

CHAPTERS = [
    (
        "1. What an AI engineer does",
        "AI engineers build products on top of models: retrieval, evaluation, prompt and "
        "tool design, serving and monitoring. This chapter maps the role against ML "
        "engineering and applied science, and lists what hiring managers test for.",
    ),
    (
        "2. The interview loop",
        "A typical loop has a coding round, an LLM system design round, a practical "
        "exercise on evaluation, and a behavioural round. Each section below gives the "
        "format, what good looks like, and a two-week preparation plan.",
    ),
    (
        "3. LLM system design",
        "Start from the user and the failure modes. Sketch retrieval, generation, guard "
        "rails and evaluation; then talk about latency, cost and how you would know the "
        "system got worse after a change.",
    ),
    (
        "4. Evaluation in practice",
        "Offline sets, human review, model-graded checks and online metrics: how to pick "
        "them, how to keep them honest, and how to talk about their limits in an interview.",
    ),
    (
        "5. Your 30-day plan",
        "A day-by-day plan: one portfolio project, ten mock questions, three system design "
        "drills and a story bank for the behavioural round.",
    ),
]

POLICY = (
    "If it is not what you hoped for, ask for a full refund from your library within 14 "
    "days of buying. No questions asked."
)


def _study_guide_file() -> str:
    path = Path(settings.MEDIA_ROOT) / "private" / STUDY_GUIDE_PATH
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pdf.study_guide("AI Engineer study guide", CHAPTERS))
    return STUDY_GUIDE_PATH


def _product(slug: str, price: int, **fields: Any) -> Product:
    product, _ = Product.objects.update_or_create(slug=slug, defaults=fields)
    Price.objects.update_or_create(
        product=product, currency="gbp", defaults={"amount": price, "is_active": True}
    )
    return product


def load(command: Any) -> str:
    paid_guides = list(Guide.objects.filter(visibility="paid"))
    study = _product(
        "ai-engineer-study-guide",
        2900,
        kind=Product.Kind.DOWNLOAD,
        title="AI Engineer study guide",
        summary="A printable study guide for AI engineer interviews: the role, the loop, "
        "LLM system design, evaluation and a 30-day plan.",
        description="Written for engineers preparing for AI engineer interviews in the next "
        "month or two. Your copy is stamped with your name and updated for free.",
        included="A PDF study guide, stamped with your name\nFree updates, emailed to you\n"
        "Online reading of the paid guides it draws on",
        preview="## 1. What an AI engineer does\n\n" + CHAPTERS[0][1],
        refund_policy=POLICY,
        refund_window_days=14,
        position=1,
    )
    study.guides.set(paid_guides[:1])
    product_file, _ = ProductFile.objects.get_or_create(
        product=study, title="AI Engineer study guide (PDF)"
    )
    if not product_file.versions.exists():
        FileVersion.objects.create(
            product_file=product_file,
            label="v1",
            notes="First edition.",
            file=_study_guide_file(),
            filename="ai-engineer-study-guide.pdf",
            announced_at=None,
        )
    else:
        _study_guide_file()
    online = _product(
        "paid-guides-online",
        1900,
        kind=Product.Kind.ONLINE,
        title="All paid guides, online",
        summary="Read every paid guide on the site, including future updates.",
        included="Online access to every paid guide\nUpdates as the guides change",
        refund_policy=POLICY,
        refund_window_days=14,
        pay_what_you_want=True,
        minimum_amount=900,
        position=2,
    )
    online.guides.set(paid_guides)
    bundle = _product(
        "interview-kit",
        3900,
        kind=Product.Kind.BUNDLE,
        title="AI interview kit",
        summary="The study guide PDF and online access to every paid guide, together.",
        included="Everything in the AI Engineer study guide\nEverything in All paid guides, online",
        refund_policy=POLICY,
        refund_window_days=14,
        position=3,
    )
    bundle.bundled.set([study, online])
    coaching_policy = (
        "Unused sessions are refundable within 30 days of buying; sessions already held are "
        "not refundable."
    )
    _product(
        "interview-sprint",
        45000,
        kind=Product.Kind.COACHING,
        title="Interview sprint: 3 sessions",
        summary="Three one-to-one sessions in three weeks: your story, a technical mock and "
        "a system design mock, each with written feedback.",
        included="3 coaching sessions of 60 minutes\nWritten feedback after each session",
        session_credits=3,
        validity_days=90,
        refund_policy=coaching_policy,
        refund_window_days=30,
        position=4,
    )
    _product(
        "career-transition",
        85000,
        kind=Product.Kind.COACHING,
        title="Career transition programme: 6 sessions",
        summary="Six sessions over three months to plan and make a move into an AI role.",
        included="6 coaching sessions of 60 minutes\nA written plan after the first session",
        session_credits=6,
        validity_days=180,
        refund_policy=coaching_policy,
        refund_window_days=30,
        position=5,
    )
    return f"5 products ({len(paid_guides)} paid guides unlocked online)"
