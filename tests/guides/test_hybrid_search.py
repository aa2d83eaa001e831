"""Hybrid search: passages embedded on save, gating of paid passages, modes, related guides."""

import pytest

from guides.models import Guide, GuidePassage
from tests.conftest import make_user
from tests.guides.factories import GuideFactory

pytestmark = pytest.mark.django_db

SECRET = (
    "Counter every salary offer: ask for equity, a signing bonus and a higher base. "
    "Recruiters expect machine learning engineers to negotiate compensation."
)
PAID_BODY = (
    "The weather in the mountains changes quickly, so pack layers.\n\n<!-- more -->\n\n"
    + SECRET
    + "\n"
)
QUESTION = "how do I negotiate a higher salary and equity in my compensation"


@pytest.fixture
def saved(django_capture_on_commit_callbacks):
    """Create guides with their on-commit work run: the Celery task embeds them (eager)."""

    def create(**fields):
        with django_capture_on_commit_callbacks(execute=True):
            return GuideFactory(**fields)

    return create


@pytest.fixture
def paid(saved):
    return saved(title="Mountain notes", summary="Packing.", body=PAID_BODY, visibility="paid")


def search(client, q, **params):
    response = client.get("/api/guides/search/", {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_saving_a_guide_embeds_its_passages_in_the_celery_task(saved):
    guide = saved(title="Interview prep", summary="How to prepare.", body="## Plan\n\nPractise.\n")
    passages = list(guide.passages.order_by("position"))
    assert [p.text for p in passages[:3]] == ["Interview prep", "How to prepare.", "Plan"]
    assert all(len(bytes(p.vector)) == 384 * 4 for p in passages)
    guide.body = "## Salary\n\nNegotiate.\n"
    guide.save()
    assert "Salary" not in [p.text for p in guide.passages.all()]  # not until commit


def test_a_save_re_embeds_on_commit(saved, django_capture_on_commit_callbacks):
    guide = saved(title="Interview prep", summary="How to prepare.", body="## Plan\n\nPractise.\n")
    with django_capture_on_commit_callbacks(execute=True):
        guide.body = "## Salary\n\nNegotiate.\n"
        guide.save()
    assert "Salary" in [p.text for p in guide.passages.all()]


def test_paid_passages_are_stored_as_not_public(paid):
    flags = {p.text: p.public for p in paid.passages.all()}
    assert flags["Mountain notes"] and flags["Packing."]
    assert not any(public for text, public in flags.items() if "equity" in text)


def test_paid_passages_never_match_or_show_for_a_visitor_who_may_not_read_them(client, paid):
    for mode in ("hybrid", "text"):
        results = search(client, QUESTION, mode=mode)
        assert paid.slug not in [r["slug"] for r in results]
        assert not any("equity" in r["snippet"].lower() for r in results)
    # Found by its public part, the snippet still comes from the public part only.
    results = search(client, "weather mountains layers")
    assert results[0]["slug"] == paid.slug and "equity" not in results[0]["snippet"]


def test_paid_passages_match_and_show_for_an_entitled_reader(client, paid, entitle):
    reader = make_user("reader@example.com")
    entitle(reader, paid)
    client.force_login(reader)
    results = search(client, QUESTION)
    assert results[0]["slug"] == paid.slug
    assert "equity" in results[0]["snippet"] and "<mark>negotiate</mark>" in results[0]["snippet"]


def test_a_question_finds_the_guide_that_text_search_alone_misses(client, saved):
    offer = saved(
        title="Negotiating your offer",
        summary="Salary, equity and bonus: what to ask for.",
        body="Anchor high and ask for equity.\n",
    )
    saved(title="Federated learning in hospitals", summary="Training without sharing data.")
    question = "how much money should I ask for when they make me an offer"
    assert search(client, question, mode="text") == []
    results = search(client, question)
    assert results[0]["slug"] == offer.slug
    assert "<mark>" in results[0]["snippet"]


def test_a_guide_without_embeddings_yet_is_found_by_its_text(client, saved):
    guide = saved(title="Vector databases compared", summary="Indexes and recall.")
    GuidePassage.objects.filter(guide=guide).delete()
    from coaching.pagecache import bump_version

    bump_version()
    assert search(client, "vector databases")[0]["slug"] == guide.slug


def test_the_second_stage_ranks_candidates_by_topic_words_in_their_public_text_only(saved, paid):
    from guides.hybrid import _any_word_ranking

    portfolio = saved(title="Portfolio reviews", summary="What hiring teams read first.")
    salary = saved(title="Salary bands", summary="What a portfolio review pays.")
    unrelated = saved(title="Federated learning", summary="Training without sharing data.")
    candidates = [paid.pk, salary.pk, unrelated.pk, portfolio.pk]
    ranked = [guide_id for guide_id, _ in _any_word_ranking(QUESTION + " portfolio", candidates)]
    # The paid guide's salary and equity words are in its paid part: no match.
    assert paid.pk not in ranked and unrelated.pk not in ranked
    assert ranked[0] == salary.pk  # two topic words, one in the title
    assert set(ranked) == {salary.pk, portfolio.pk}
    assert _any_word_ranking("how do I do it", candidates) == []  # question words only


def test_the_api_and_the_page_return_the_same_ranking(client, saved):
    saved(title="Negotiating your offer", summary="Salary, equity and bonus.")
    saved(title="Preparing for interviews", summary="Practice questions and salary talk.")
    api = [r["title"] for r in search(client, "salary")]
    html = client.get("/search/", {"q": "salary"}).content.decode()
    assert len(api) == 2
    assert html.index(api[0]) < html.index(api[1])


def test_an_unknown_mode_is_a_400_with_a_json_body(client):
    response = client.get("/api/guides/search/", {"q": "salary", "mode": "vibes"})
    assert response.status_code == 400
    assert "mode" in response.json()["fields"]


def test_the_schema_documents_the_mode(client):
    schema = client.get("/api/schema/").content.decode()
    assert "hybrid" in schema and "mode" in schema


def test_related_guides_are_the_nearest_by_meaning(client, saved):
    offer = saved(title="Negotiating your offer", summary="Salary, equity and bonus.")
    saved(title="Salary bands at AI labs", summary="What equity and bonus to expect.")
    saved(title="Federated learning in hospitals", summary="Training without sharing data.")
    from guides.semantic import similar_guides

    nearest = similar_guides(offer, limit=1)
    assert Guide.objects.get(pk=nearest[0]).title == "Salary bands at AI labs"


def test_the_model_loads_from_its_package_without_the_network(monkeypatch, tmp_path):
    import socket

    from guides import embeddings, minilm

    def refuse(*args, **kwargs):
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(minilm, "_model", None)
    vectors = embeddings.embed(["how do I negotiate an offer", "salary negotiation"])
    assert vectors.shape == (2, embeddings.DIMENSIONS)
    assert float(vectors[0] @ vectors[1]) > 0.3
    assert list(tmp_path.iterdir()) == []  # nothing cached or downloaded


def test_the_database_refuses_a_vector_of_another_models_width(saved):
    from django.db import IntegrityError, transaction

    from guides.embeddings import DIMENSIONS
    from guides.models import PASSAGE_VECTOR_BYTES

    assert PASSAGE_VECTOR_BYTES == DIMENSIONS * 4
    guide = saved(title="Interview prep", summary="How to prepare.")
    with pytest.raises(IntegrityError), transaction.atomic():
        GuidePassage.objects.create(
            guide=guide, position=99, public=True, text="x", vector=b"\0" * 1024
        )
    assert not guide.passages.filter(position=99).exists()


def test_question_words_alone_do_not_decide_the_embedding():
    from guides.embeddings import embed

    a, b, c = embed(["how do I get a job", "how do I negotiate salary", "salary negotiation"])
    assert float(b @ c) > float(a @ b)


def test_beat_embeds_the_guides_whose_task_was_lost(saved):
    from guides.semantic import stale_guide_ids
    from guides.tasks import embed_stale_guides

    fresh = saved(title="Embedded on save", summary="Done.")
    # On-commit work never ran for this one, as when the broker is down at save.
    lost = GuideFactory(title="Saved while the broker was down")
    assert stale_guide_ids() == [lost.pk]
    assert embed_stale_guides() == 1
    assert lost.passages.exists() and stale_guide_ids() == []
    assert fresh.passages.exists()
