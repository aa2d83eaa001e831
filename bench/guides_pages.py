"""W1 and W2 (shared/peers/WORKLOADS.md) beside Wagtail, plus the hub and search at 1,000 guides.

    .venv/bin/python -m bench.guides_pages        (BENCH_SECONDS, BENCH_ROUNDS to shorten)
    .venv/bin/python -m bench.guides_pages ten-thousand    (search at 10,000 guides only)

Data: the 50 copies of the 10,034-word article from data/article.json (the peer's
exact text), then the content corpus replicated to more than 1,000 guides for the
hub and search figures. Servers: ours and both Wagtail variants under gunicorn
with 4 sync workers; wrk at 16 connections through loadgen.sh, alternating sides.
"""

from __future__ import annotations

import hashlib
import json
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import (
    PEERS,
    ROOT,
    ROUNDS,
    app_server,
    emit,
    loadgen,
    median,
    peer_server,
    peers_ready,
    sequential_latency,
    setup_django,
)

W1_SLUG = "ai-engineer"
REPLICA_PREFIX = "corpus-copy-"
SEARCH_QUERIES = [
    "transformer interview", "forward deployed engineer", "rag evaluation",
    "system design", "career strategy", "agentic context", "salary negotiation",
    "transfomer architecture", "data engineering pipeline", "mlops",
]  # fmt: skip
# Plain-language questions too, for the 10,000-guide search: the meaning side
# does its most work for these.
QUESTIONS = ["how do I negotiate an AI job offer", "do research roles need a PhD"]


def article_markdown() -> tuple[dict[str, Any], str]:
    article = json.loads((PEERS / "data" / "article.json").read_text())
    parts: list[str] = []
    for section in article["sections"]:
        parts.append("#" * (section["level"] + 1) + " " + section["heading"])
        parts.extend(section["paragraphs"])
    return article, "\n\n".join(parts) + "\n"


def load_w1_guides() -> None:
    """Exactly the peer's 50 articles, and nothing else, for W1 and W2."""
    from guides.models import Category, Guide

    article, body = article_markdown()
    category, _ = Category.objects.get_or_create(
        slug="ai-engineering", defaults={"name": "AI Engineering"}
    )
    slugs = [W1_SLUG] + [f"{W1_SLUG}-{n}" for n in range(2, 51)]
    drop_corpus_copies()
    Guide.objects.exclude(slug__in=slugs).delete()
    digest = hashlib.sha256(body.encode()).hexdigest()[:12]
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    for index, slug in enumerate(slugs):
        existing = Guide.objects.filter(slug=slug).first()
        if existing and existing.seo_description == digest:
            continue
        title = article["title"] if index == 0 else f"{article['title']} ({index + 1})"
        Guide.objects.update_or_create(
            slug=slug,
            defaults={
                "title": title,
                "summary": article["intro"][:300],
                "body": body,
                "category": category,
                "status": Guide.Status.PUBLISHED,
                "published_at": start + timedelta(days=index),
                "read_time_minutes": 44,
                "seo_description": digest,
            },
        )


def drop_corpus_copies() -> None:
    """The corpus's copies and their passages, in two statements: through the ORM's
    cascade, 10,000 guides and their 400,000 passages took more than ten minutes."""
    from django.db import connection, transaction

    pattern = f"{REPLICA_PREFIX}%"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "delete from guides_guidepassage p using guides_guide g "
            "where g.id = p.guide_id and g.slug like %s",
            [pattern],
        )
        cursor.execute("delete from guides_guide where slug like %s", [pattern])


def load_corpus_copies(target: int = 1000) -> int:
    """The corpus imported once, then copied row by row until there are `target`+ guides."""
    from django.db import connection

    from guides.importer import import_directory
    from guides.models import Guide

    corpus = ROOT.parent / "shared" / "content" / "articles"
    import_directory(corpus)
    originals = list(Guide.objects.exclude(slug__startswith=W1_SLUG).exclude(
        slug__startswith=REPLICA_PREFIX).values_list("pk", flat=True))  # fmt: skip
    copies = max(0, -(-(target - 50 - len(originals)) // len(originals)))
    columns = [f.column for f in Guide._meta.concrete_fields if f.column not in {"id", "slug"}]
    column_list = ", ".join(columns)
    with connection.cursor() as cursor:
        for n in range(1, copies + 1):
            cursor.execute(
                f"insert into guides_guide (slug, {column_list}) "  # noqa: S608 - our columns
                f"select '{REPLICA_PREFIX}{n}-' || slug, {column_list} from guides_guide "
                "where id = any(%s) on conflict (slug) do nothing",
                [originals],
            )
        # Semantic search's passages: the originals embedded as a save would,
        # the copies given their original's rows.
        from guides.semantic import embed_guide_passages

        for pk in Guide.objects.filter(pk__in=originals, passages__isnull=True).values_list(
            "pk", flat=True
        ):
            embed_guide_passages(pk)
        cursor.execute(
            "insert into guides_guidepassage "
            "(guide_id, position, public, text, vector, created_at) "
            "select c.id, p.position, p.public, p.text, p.vector, p.created_at "
            "from guides_guide c "
            "join guides_guide o on substring(c.slug from "
            f"'^{REPLICA_PREFIX}[0-9]+-(.*)$') = o.slug "
            "join guides_guidepassage p on p.guide_id = o.id "
            "where o.id = any(%s) on conflict do nothing",
            [originals],
        )
        # As autovacuum would soon after such a load: no dead rows, fresh statistics.
        cursor.execute("VACUUM ANALYZE guides_guide")
        cursor.execute("VACUUM ANALYZE guides_guidepassage")
    return Guide.objects.count()


def signed_in_cookie(*, personal: bool = False) -> str:
    """A reader's session; `personal` keeps their pages out of every cache (as a guest
    buyer's are), so a figure measures the page's own work."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from coaching.models import User
    from coaching.pagecache import PERSONAL_SESSION_KEY
    from coaching.sessions import SessionStore

    user, _ = User.objects.get_or_create(email="reader@example.com")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if personal:
        session[PERSONAL_SESSION_KEY] = True
    session.create()
    return f"sessionid={session.session_key}"


def run_side_by_side() -> None:
    from coaching.pagecache import bump_version

    load_w1_guides()
    bump_version()
    cookie = signed_in_cookie()
    with (
        app_server() as app,
        peer_server("wagtail") as wagtail,
        peer_server("wagtail-cached") as cached,
    ):
        figures: dict[str, list[dict]] = {}
        plan = [
            ("w1_wagtail", f"{wagtail}/guides/{W1_SLUG}/", None),
            ("w1_cached", f"{cached}/guides/{W1_SLUG}/", None),
            ("w1_ours", f"{app}/guides/{W1_SLUG}/", None),
            ("w1_ours_signed_in", f"{app}/guides/{W1_SLUG}/", {"Cookie": cookie}),
            ("w2_wagtail", f"{wagtail}/guides/", None),
            ("w2_cached", f"{cached}/guides/", None),
            ("w2_ours", f"{app}/guides/", None),
            ("w2_ours_signed_in", f"{app}/guides/", {"Cookie": cookie}),
        ]
        for _ in range(ROUNDS):
            for key, url, headers in plan:
                result = loadgen(url, headers=headers)
                if result.get("errors"):
                    print(json.dumps({"warning": f"{key} had errors", **result}), file=sys.stderr)
                figures.setdefault(key, []).append(result)

    def rps(key: str) -> float:
        return median([r["rps"] for r in figures[key]])

    def p99(key: str) -> float:
        return median([r["p99_ms"] for r in figures[key]])

    size = figures["w1_ours"][0].get("bytes_per_req")
    note = f"median of {ROUNDS} rounds; ours {size} B/req"
    emit("guides.w1_page_anonymous_vs_cached_wagtail", rps("w1_ours"), "req/s",
         peer=rps("w1_cached"), peer_name="wagtail-cached", target=">= 1.5x",
         met=rps("w1_ours") >= 1.5 * rps("w1_cached"), note=note)  # fmt: skip
    emit("guides.w1_page_anonymous_vs_wagtail", rps("w1_ours"), "req/s",
         peer=rps("w1_wagtail"), peer_name="wagtail", target=">= 10x",
         met=rps("w1_ours") >= 10 * rps("w1_wagtail"), note=note)  # fmt: skip
    emit("guides.w1_page_anonymous_p99", p99("w1_ours"), "ms", peer=p99("w1_cached"),
         peer_name="wagtail-cached", better="lower", target="< 100 ms at 16 connections",
         met=p99("w1_ours") < 100)  # fmt: skip
    emit("guides.w1_page_signed_in_vs_wagtail", rps("w1_ours_signed_in"), "req/s",
         peer=rps("w1_wagtail"), peer_name="wagtail", target=">= 5x",
         met=rps("w1_ours_signed_in") >= 5 * rps("w1_wagtail"),
         note="readers' pages per access class, each with its own token")  # fmt: skip
    emit("guides.w1_page_signed_in_p99", p99("w1_ours_signed_in"), "ms", better="lower",
         target="< 100 ms at 16 connections", met=p99("w1_ours_signed_in") < 100)  # fmt: skip
    w2_size = figures["w2_ours"][0].get("bytes_per_req")
    w2_note = f"median of {ROUNDS} rounds; ours {w2_size} B/req"
    emit("guides.w2_list_anonymous_vs_cached_wagtail", rps("w2_ours"), "req/s",
         peer=rps("w2_cached"), peer_name="wagtail-cached", note=w2_note)  # fmt: skip
    emit("guides.w2_list_anonymous_vs_wagtail", rps("w2_ours"), "req/s",
         peer=rps("w2_wagtail"), peer_name="wagtail", note=w2_note)  # fmt: skip
    emit("guides.w2_list_signed_in_vs_wagtail", rps("w2_ours_signed_in"), "req/s",
         peer=rps("w2_wagtail"), peer_name="wagtail", target=">= 3x",
         met=rps("w2_ours_signed_in") >= 3 * rps("w2_wagtail"))  # fmt: skip
    emit("guides.w2_list_signed_in_p99", p99("w2_ours_signed_in"), "ms", better="lower",
         target="< 100 ms at 16 connections", met=p99("w2_ours_signed_in") < 100)  # fmt: skip


def run_thousand() -> None:
    from coaching.pagecache import bump_version

    total = load_corpus_copies(1000)
    bump_version()
    cookie = {"Cookie": signed_in_cookie(personal=True)}
    with app_server() as app:
        hub = sequential_latency(f"{app}/guides/", headers=cookie)
        hub_filtered = sequential_latency(
            f"{app}/guides/?category=strategic-career-planning&sort=most-read", headers=cookie
        )
        timings: list[float] = []
        uncached: list[float] = []
        for query in SEARCH_QUERIES + QUESTIONS:
            url = f"{app}/search/?q={query.replace(' ', '+')}"
            timings.append(sequential_latency(url, requests=30)["p95_ms"])
            # Signed in: never from the page cache, so every request searches.
            uncached.append(sequential_latency(url, requests=30, headers=cookie)["p95_ms"])
        api = sequential_latency(f"{app}/api/guides/search/?q=transformer+interview")
    emit("guides.hub_p95_at_1000_guides", hub["p95_ms"], "ms", better="lower",
         target="< 50 ms", met=hub["p95_ms"] < 50,
         note=f"{total} guides, rendered per request (a session kept out of caches), "
              "one client")  # fmt: skip
    emit("guides.hub_filtered_p95_at_1000_guides", hub_filtered["p95_ms"], "ms",
         better="lower", target="< 50 ms", met=hub_filtered["p95_ms"] < 50)  # fmt: skip
    note = (
        f"worst p95 of {len(SEARCH_QUERIES) + len(QUESTIONS)} queries "
        f"({len(QUESTIONS)} questions, one misspelled), 30 requests each"
    )
    emit("guides.search_p95_at_1000_guides", max(timings), "ms", better="lower",
         target="< 30 ms", met=max(timings) < 30,
         note=note + "; anonymous: the page cache answers after the first")  # fmt: skip
    emit("guides.search_uncached_p95_at_1000_guides", max(uncached), "ms", better="lower",
         target="< 30 ms", met=max(uncached) < 30,
         note=note + "; signed in, so every request runs the search")  # fmt: skip
    emit("guides.search_api_p95_at_1000_guides", api["p95_ms"], "ms", better="lower",
         target="< 30 ms", met=api["p95_ms"] < 30)  # fmt: skip


def run_ten_thousand() -> None:
    """Search at 10,000 guides (the corpus copied: about 420,000 passages), every request
    searching: the API as a visitor, the page signed in; the query's embedding included."""
    from coaching.pagecache import bump_version
    from guides.models import GuidePassage

    total = load_corpus_copies(10_000)
    passages = GuidePassage.objects.count()
    bump_version()
    cookie = {"Cookie": signed_in_cookie(personal=True)}
    queries = SEARCH_QUERIES + QUESTIONS
    with app_server() as app:
        # Each worker loads the passage matrix on its first search: seconds at this
        # size, so it happens here, not in the timings.
        for _ in range(12):
            urllib.request.urlopen(f"{app}/api/guides/search/?q=warm", timeout=120).read()  # noqa: S310
        api: list[float] = []
        page: list[float] = []
        for query in queries:
            q = query.replace(" ", "+")
            api.append(sequential_latency(f"{app}/api/guides/search/?q={q}", requests=30)["p95_ms"])
            page.append(
                sequential_latency(f"{app}/search/?q={q}", requests=30, headers=cookie)["p95_ms"]
            )
    note = (
        f"{total} guides, {passages} passages; worst p95 of {len(queries)} queries "
        f"({len(QUESTIONS)} questions, one misspelled), 30 requests each"
    )
    emit("guides.search_api_p95_at_10000_guides", max(api), "ms", better="lower",
         target="< 50 ms", met=max(api) < 50, note=note)  # fmt: skip
    emit("guides.search_uncached_p95_at_10000_guides", max(page), "ms", better="lower",
         target="< 50 ms", met=max(page) < 50, note=note + "; signed in")  # fmt: skip


def main() -> int:
    parts = set(sys.argv[1:]) or {"side-by-side", "thousand"}
    setup_django()
    if "side-by-side" in parts and peers_ready("wagtail"):
        run_side_by_side()
    elif "side-by-side" in parts:
        emit("guides.w1_page_anonymous_vs_cached_wagtail", None, "req/s",
             note="Wagtail peer not set up: run ../shared/peers/setup.sh wagtail")  # fmt: skip
    if "thousand" in parts:
        run_thousand()
    if "ten-thousand" in parts:
        run_ten_thousand()
    load_w1_guides()  # leave the W1 data set as the next run expects it
    return 0


if __name__ == "__main__":
    sys.exit(main())
