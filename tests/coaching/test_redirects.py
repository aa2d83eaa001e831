"""Old addresses from the coach's previous site: 301s that never hide a live page."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from coaching.models import Page, Redirect
from coaching.redirects import import_redirects, read_csv
from tests.guides.factories import GuideFactory

pytestmark = pytest.mark.django_db


def make(old, new):
    redirect = Redirect(old_path=old, new_path=new)
    redirect.full_clean()
    redirect.save()
    return redirect


def test_an_old_address_answers_301_to_its_new_place(client):
    make("/papers.html", "/guides/")
    response = client.get("/papers.html")
    assert response.status_code == 301
    assert response["Location"] == "/guides/"


def test_an_old_address_matches_with_or_without_its_trailing_slash(client):
    make("https://old.example.com/training/", "/coaching/")
    assert client.get("/training").status_code == 301
    assert client.get("/training/")["Location"] == "/coaching/"


def test_a_chain_of_redirects_is_followed_to_its_end_in_one_hop(client):
    make("/a-old/", "/b-old/")
    make("/b-old/", "/guides/")
    assert client.get("/a-old/")["Location"] == "/guides/"


def test_a_redirect_that_would_hide_a_live_page_or_guide_is_refused(db):
    Page.objects.create(title="Speaking", slug="speaking", body="x")
    GuideFactory(slug="live-guide")
    for old in ["/speaking/", "/guides/live-guide/", "/about/", "/contact", "/guides/"]:
        with pytest.raises(ValidationError) as error:
            make(old, "/coaching/")
        assert "old_path" in error.value.message_dict, old


def test_a_redirect_for_a_missing_guide_or_unpublished_page_is_allowed(db):
    Page.objects.create(title="Soon", slug="soon", body="x", is_published=False)
    make("/guides/deleted-guide/", "/guides/")
    make("/soon/", "/coaching/")


def test_a_page_published_after_its_redirect_was_saved_still_wins(client):
    make("/media/", "/guides/")
    Page.objects.create(title="Media", slug="media", body="On the radio.")
    response = client.get("/media/")
    assert response.status_code == 200
    assert "On the radio." in response.content.decode()


def test_a_loop_is_refused_directly_and_through_a_chain(db):
    make("/one/", "/two/")
    with pytest.raises(ValidationError) as error:
        make("/two/", "/one/")
    assert "loop" in str(error.value)
    make("/two/", "/three/")
    with pytest.raises(ValidationError):
        make("/three/", "/one")
    with pytest.raises(ValidationError):
        make("/self/", "/self")


def test_post_requests_and_answered_pages_never_read_the_table(client):
    make("/old-form/", "/contact/")
    assert client.post("/old-form/").status_code != 301


def test_a_csv_imports_every_row_or_nothing_with_the_row_numbers_of_errors(tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text("old_path,new_path\n/papers.html,/guides/\n/talks/,/speaking/,From 2019\n")
    call_command("import_redirects", str(good), "--dry-run")
    assert Redirect.objects.count() == 0
    call_command("import_redirects", str(good))
    assert dict(Redirect.objects.values_list("old_path", "new_path")) == {
        "/papers.html": "/guides/",
        "/talks": "/speaking/",
    }
    bad = tmp_path / "bad.csv"
    bad.write_text("/x/,/y/\n/only-one-column\n/y/,/x/\n/guides/,/coaching/\n")
    with pytest.raises(CommandError):
        call_command("import_redirects", str(bad))
    errors = capsys.readouterr().err
    assert "Row 2:" in errors
    assert "Row 3:" in errors and "loop" in errors
    assert "Row 4:" in errors
    assert "Row 1:" not in errors
    assert not Redirect.objects.filter(old_path="/x").exists()


def test_reimporting_a_row_updates_its_target():
    import_redirects(read_csv("/old/,/guides/\n"))
    result = import_redirects(read_csv("/old/,/coaching/\n"))
    assert (result.created, result.updated, result.errors) == (0, 1, [])
    assert Redirect.objects.get().new_path == "/coaching/"


def test_the_coach_imports_a_csv_in_the_admin(coach_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("r.csv", b"/papers.html,/guides/\n", content_type="text/csv")
    response = coach_client.post(
        "/admin/coaching/redirect/import/", {"file": upload, "dry_run": ""}
    )
    assert response.status_code == 302
    assert Redirect.objects.filter(old_path="/papers.html").exists()
    page = coach_client.get("/admin/coaching/redirect/")
    assert "Import CSV" in page.content.decode()


def test_an_old_address_with_a_query_string_is_matched_whole(client):
    make("https://old.example.com/index.php?p=12", "/guides/")
    assert client.get("/index.php?p=12")["Location"] == "/guides/"
    assert client.get("/index.php?p=13").status_code == 404
