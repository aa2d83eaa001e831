import pytest

from tests.guides.factories import GuideFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(db):
    return {
        "transformer": GuideFactory(
            title="The transformer interview guide",
            summary="Attention, positional encodings and what interviewers ask.",
            body="## 1. Attention\n\nSelf-attention lets every token look at every other token.\n",
        ),
        "resume": GuideFactory(
            title="Writing a resume for AI roles",
            summary="How to show impact.",
            body="Mention the transformer models you shipped, with numbers.\n",
        ),
        "salary": GuideFactory(title="Negotiating an offer", body="Anchors and ranges.\n"),
    }


def test_a_title_match_ranks_above_a_body_match(client, library):
    results = client.get("/api/guides/search/?q=transformer").json()["results"]
    assert [r["slug"] for r in results][:2] == [library["transformer"].slug, library["resume"].slug]


def test_a_misspelled_query_still_finds_the_guide(client, library):
    body = client.get("/api/guides/search/?q=transfomer interview").json()
    assert body["corrected"] == "transformer interview"
    assert body["results"][0]["slug"] == library["transformer"].slug
    html = client.get("/search/?q=transfomer+interview").content.decode()
    assert "Showing results for" in html and library["transformer"].title in html


def test_snippets_highlight_the_matched_words_and_escape_the_text(client, library):
    GuideFactory(title="Markup", body="Tokens like <b>bold</b> and attention.\n")
    results = client.get("/api/guides/search/?q=attention").json()["results"]
    snippets = " ".join(r["snippet"] for r in results)
    assert "<mark>attention</mark>" in snippets.lower()
    assert "<b>" not in snippets


def test_stemming_matches_other_forms_of_a_word(client, library):
    slugs = [r["slug"] for r in client.get("/api/guides/search/?q=negotiate").json()["results"]]
    assert library["salary"].slug in slugs


def test_the_api_answers_400_with_a_json_message_for_a_missing_or_huge_query(client, db):
    response = client.get("/api/guides/search/")
    assert response.status_code == 400
    assert response.json()["error"]
    assert client.get("/api/guides/search/?q=" + "a" * 500).status_code == 400
    assert client.get("/api/guides/search/?q=x&page=0").status_code == 400


def test_the_search_page_accepts_anything_without_an_error(client, library):
    for query in ["", "   ", "'; drop table guides;--", "<script>", "a" * 1000, "!!!", "ü ñ 漢字"]:
        response = client.get("/search/", {"q": query})
        assert response.status_code == 200, query
        assert "<script>" not in response.content.decode().split("<main", 1)[1]


def test_a_snippet_comes_from_deep_in_the_body_when_the_opening_does_not_match(client, db):
    filler = "Careers in applied machine learning reward steady practice. " * 150
    GuideFactory(
        title="Shipping models",
        body=f"An opening.\n\n<!-- more -->\n\n{filler}\n\nQuantization halves memory use.\n",
    )
    (hit,) = client.get("/api/guides/search/?q=quantization").json()["results"]
    assert hit["snippet"].startswith("… ")
    assert "<mark>Quantization</mark> halves memory use." in hit["snippet"]


def test_a_page_past_the_last_result_still_reports_the_total(client, db):
    for n in range(7):
        GuideFactory(title=f"Prompt design part {n}")
    second = client.get("/api/guides/search/?q=prompt&page=2&page_size=5").json()
    assert (second["total"], len(second["results"])) == (7, 2)
    beyond = client.get("/api/guides/search/?q=prompt&page=3&page_size=5").json()
    assert (beyond["total"], beyond["results"]) == (7, [])


def test_visitors_share_cached_search_results_that_a_new_guide_makes_stale(
    client, library, django_capture_on_commit_callbacks
):
    first = client.get("/search/?q=kubernetes")
    assert first["X-Page-Cache"] == "miss" and "Kubernetes for ML" not in first.content.decode()
    assert client.get("/search/?q=kubernetes")["X-Page-Cache"] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        GuideFactory(title="Kubernetes for ML engineers")
    fresh = client.get("/search/?q=kubernetes")
    assert "Kubernetes for ML engineers" in fresh.content.decode()


def test_the_next_page_of_a_corrected_query_goes_on_with_the_correction(client, db):
    for n in range(7):
        GuideFactory(title=f"Transformer interview drill {n}")
    first = client.get("/api/guides/search/?q=transfomer&page_size=5").json()
    second = client.get("/api/guides/search/?q=transfomer&page=2&page_size=5").json()
    assert first["corrected"] == second["corrected"] == "transformer"
    assert (second["total"], len(second["results"])) == (7, 2)
    slugs = [r["slug"] for r in first["results"] + second["results"]]
    assert len(set(slugs)) == 7


def test_results_are_ordered_by_rank_then_newest_and_drafts_never_show(client, db):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    older = GuideFactory(title="Feature stores", published_at=now - timedelta(days=9))
    newer = GuideFactory(title="Feature stores", published_at=now - timedelta(days=1))
    GuideFactory(title="Feature stores draft", status="draft", published_at=None)
    GuideFactory(title="Feature stores soon", published_at=now + timedelta(days=1))
    body = client.get("/api/guides/search/?q=feature+stores").json()
    assert [r["slug"] for r in body["results"]] == [newer.slug, older.slug]
    assert body["total"] == 2


def test_a_new_guide_teaches_the_spelling_correction_its_words(
    client, library, django_capture_on_commit_callbacks
):
    assert client.get("/api/guides/search/?q=kubernetis").json()["corrected"] is None
    with django_capture_on_commit_callbacks(execute=True):
        GuideFactory(title="Kubernetes for ML engineers")
    body = client.get("/api/guides/search/?q=kubernetis").json()
    assert body["corrected"] == "kubernetes" and body["total"] == 1


def test_a_misspelling_is_corrected_to_a_word_deep_in_the_body_of_a_public_guide(client, db):
    GuideFactory(title="Habits that transfer well", body="Research habits transfer.\n")
    deep = GuideFactory(
        title="Architecture interview questions",
        body="An opening.\n\n<!-- more -->\n\nDraw the transformer block and explain it.\n",
    )
    body = client.get("/api/guides/search/?q=transfomer interview").json()
    assert body["corrected"] == "transformer interview"
    assert [r["slug"] for r in body["results"]] == [deep.slug]


def test_the_more_frequent_of_two_alike_words_wins_the_correction(client, db):
    GuideFactory(title="Choosing a model", body="Pick the model. " * 10)
    GuideFactory(title="Dark mode", body="A setting.\n")
    assert client.get("/api/guides/search/?q=modle").json()["corrected"] == "model"


def test_another_form_of_a_known_word_is_not_corrected(db):
    from guides.search import correct_spelling

    GuideFactory(title="Negotiating an offer", body="Anchors.\n")
    assert correct_spelling("negotiated offers") is None


def test_paid_text_never_feeds_the_correction_and_words_leave_with_their_guide(client, db):
    from guides.models import SearchTerm

    def weight(word):
        return SearchTerm.objects.filter(word=word).values_list("weight", flat=True).first()

    paid = GuideFactory(visibility="paid", body="Opening.\n\n<!-- more -->\n\nKubernetes.\n")
    assert weight("kubernetes") is None
    assert client.get("/api/guides/search/?q=kubernetis").json()["corrected"] is None
    public = GuideFactory(body="Opening.\n\n<!-- more -->\n\nKubernetes, kubernetes.\n")
    assert weight("kubernetes") == 2
    public.body = "Opening.\n\n<!-- more -->\n\nKubernetes.\n"
    public.save()
    assert weight("kubernetes") == 1
    public.change_note = "Typo"
    public.save()
    assert weight("kubernetes") == 1
    public.visibility = "paid"
    public.save(update_fields=["visibility"])
    assert weight("kubernetes") is None
    paid.visibility = "public"
    paid.save(update_fields=["visibility"])
    assert weight("kubernetes") == 1
    paid.delete()
    assert weight("kubernetes") is None
