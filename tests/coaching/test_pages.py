import pytest

pytestmark = pytest.mark.django_db


def test_the_home_page_shows_the_coach_guides_testimonials_and_both_calls_to_action(
    client, demo_data
):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Land the AI role you are aiming for" in html
    assert "Book a discovery call" in html
    assert 'action="/newsletter/subscribe/"' in html
    assert "What clients say" in html
    assert html.count('class="card"') >= 3


def test_every_page_advertises_the_guide_feeds(client, demo_data):
    for path in ["/", "/about/", "/coaching/", "/guides/"]:
        html = client.get(path).content.decode()
        assert 'type="application/rss+xml"' in html, path
        assert 'type="application/atom+xml"' in html, path


def test_the_about_page_renders_the_profile_as_markdown(client, demo_data):
    html = client.get("/about/").content.decode()
    assert "<h1>About Alex Morgan</h1>" in html
    assert "Coached 150+ people" in html


def test_the_coaching_page_lists_every_published_offer(client, demo_data):
    from coaching.models import CoachingOffer

    CoachingOffer.objects.filter(slug="career-transition").update(is_published=False)
    html = client.get("/coaching/").content.decode()
    assert "Interview sprint" in html
    assert "Career transition programme" not in html


def test_pages_carry_a_strict_content_security_policy(client, demo_data):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_an_unknown_page_answers_404_with_the_site_frame(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404


def test_loading_the_demo_twice_changes_nothing(demo_data):
    from django.core.management import call_command

    from coaching.models import CoachingOffer, Testimonial, User
    from guides.models import Guide

    before = (User.objects.count(), Guide.objects.count(), Testimonial.objects.count(),
              CoachingOffer.objects.count())  # fmt: skip
    call_command("load_demo", quiet=True)
    after = (User.objects.count(), Guide.objects.count(), Testimonial.objects.count(),
             CoachingOffer.objects.count())  # fmt: skip
    assert before == after


def test_public_uploads_are_served_and_paid_files_never_are(client, settings, tmp_path):
    from pathlib import Path

    public = Path(settings.PUBLIC_MEDIA_ROOT)
    public.mkdir(parents=True, exist_ok=True)
    (public / "cover-test.txt").write_text("cover")
    private = Path(settings.MEDIA_ROOT) / "private"
    private.mkdir(parents=True, exist_ok=True)
    (private / "paid-test.txt").write_text("paid")
    try:
        assert client.get("/media/cover-test.txt").status_code == 200
        for path in ["/media/../private/paid-test.txt", "/media/%2e%2e/private/paid-test.txt"]:
            response = client.get(path)
            assert response.status_code in {400, 404}, path
            assert b"paid" not in response.content
    finally:
        (public / "cover-test.txt").unlink()
        (private / "paid-test.txt").unlink()


def header_of(html):
    return html[html.index('<header class="site-header">') : html.index("</header>")]


def test_a_signed_in_person_finds_the_library_the_portal_and_sign_out_in_the_header(
    client, candidate
):
    client.force_login(candidate)
    header = header_of(client.get("/guides/").content.decode())
    assert 'href="/library/"' in header
    assert 'href="/portal/"' in header
    assert 'action="/accounts/logout/"' in header
    assert 'href="/accounts/login/"' not in header


def test_a_visitor_finds_sign_in_in_the_header_and_no_portal(client, db):
    header = header_of(client.get("/guides/").content.decode())
    assert 'href="/accounts/login/"' in header
    assert 'href="/portal/"' not in header
    assert "logout" not in header


def test_the_home_hero_ends_the_coachs_bio_at_a_sentence_never_mid_sentence(client, demo_data):
    from coaching.models import CoachProfile

    profile = CoachProfile.current()
    profile.bio = " ".join(["One short sentence here."] * 8) + " " + "word " * 40 + "end."
    profile.save()
    html = client.get("/").content.decode()
    lede = html.split('<p class="lede">', 1)[1].split("</p>", 1)[0]
    assert lede.endswith(".")
    assert lede.count("One short sentence here.") == 8
    assert "word" not in lede
