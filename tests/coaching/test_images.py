"""Pictures: uploads become sized renditions; everything without one gets a drawn cover."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from PIL import Image, features

from coaching.covers import cover_digest, cover_svg
from coaching.images import encodable_formats
from tests.guides.factories import CategoryFactory, GuideFactory
from tests.store.factories import ProductFactory

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


@pytest.fixture(autouse=True)
def public_media(settings: Any, tmp_path: Path) -> Path:
    """Uploads and renditions go to a folder of this test's own."""
    folder = tmp_path / "public"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder), "base_url": "/media/"},
        },
    }
    return folder


def photo(width: int, height: int, *, name: str = "upload.jpg") -> SimpleUploadedFile:
    """A JPEG such as a phone makes: with EXIF naming the camera and where it was."""
    image = Image.new("RGB", (width, height), (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"  # Make
    exif.get_ifd(GPS_IFD)[2] = (51.0, 30.0, 0.0)  # GPSLatitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def title_of(svg: str | bytes) -> str:
    spans = ElementTree.fromstring(svg).iter("{http://www.w3.org/2000/svg}tspan")
    return " ".join(span.text or "" for span in spans)


def published_guide(**fields: Any) -> Any:
    from django.utils import timezone

    return GuideFactory(status="published", published_at=timezone.now(), **fields)


def test_an_uploaded_cover_becomes_each_width_in_each_format_without_exif(public_media):
    guide = published_guide(cover_image=photo(2000, 1400))

    files = guide.cover_renditions["files"]
    assert set(files) == set(encodable_formats()) >= {"webp", "jpeg"}
    assert features.check("avif") == ("avif" in files)
    for fmt, widths in files.items():
        assert sorted(widths, key=int) == ["400", "800", "1200"], fmt
        for width, name in widths.items():
            with Image.open(public_media / name) as rendition:
                # Cropped to the cover's 1200 x 630 shape, then resized.
                assert rendition.size == (int(width), round(int(width) * 630 / 1200))
                assert not rendition.getexif(), f"{name} keeps EXIF"
                assert "exif" not in rendition.info and "xmp" not in rendition.info
    assert (guide.cover_renditions["width"], guide.cover_renditions["height"]) == (1200, 630)


def test_a_small_upload_is_never_upscaled():
    guide = published_guide(cover_image=photo(600, 315))

    assert sorted(guide.cover_renditions["files"]["jpeg"], key=int) == ["400"]
    assert guide.cover.width == 400


def test_replacing_a_cover_replaces_its_renditions_and_deletes_the_old_ones(public_media):
    guide = published_guide(cover_image=photo(1300, 700, name="first.jpg"))
    old = [public_media / name for name in guide.cover_renditions["files"]["jpeg"].values()]

    guide.cover_image = photo(1300, 700, name="second.jpg")
    guide.save()

    assert "second" in guide.cover_renditions["source"]
    assert not any(path.exists() for path in old)
    guide.refresh_from_db()
    assert "second" in guide.cover.src


def test_saving_a_guide_again_does_not_redo_its_renditions(public_media):
    guide = published_guide(cover_image=photo(1300, 700))
    before = dict(guide.cover_renditions)

    guide.summary = "Changed."
    guide.save()

    assert guide.cover_renditions == before


def test_a_file_that_is_not_an_image_leaves_the_drawn_cover():
    guide = published_guide(
        cover_image=SimpleUploadedFile("fake.jpg", b"not a picture", content_type="image/jpeg")
    )

    assert guide.cover_renditions == {}
    assert guide.cover.src.endswith(".svg")


def test_the_picture_tag_sizes_every_picture_and_loads_it_lazily_unless_told():
    guide = published_guide(cover_image=photo(1300, 700))
    template = Template(
        '{% load pictures %}{% picture guide.cover css="card-cover" %}|'
        '{% picture guide.cover eager=True alt="A cover" %}'
    )

    lazy, eager = template.render(Context({"guide": guide})).split("|")

    assert lazy.startswith("<picture><source type=")
    assert 'type="image/webp"' in lazy
    assert 'width="1200" height="630"' in lazy
    assert 'loading="lazy"' in lazy and 'class="card-cover"' in lazy
    assert re.search(r'srcset="/media/renditions/[^" ]+-400\.jpg 400w, ', lazy)
    assert "loading=" not in eager and 'alt="A cover"' in eager


def test_a_guide_without_a_cover_shows_one_drawn_from_its_category_and_title(client):
    guide = published_guide(title="Transformers & <attention>", category=CategoryFactory())
    digest = cover_digest(guide.category.name, guide.title)
    assert guide.cover.src == f"/guides/{guide.slug}/cover-{digest}.svg"
    assert (guide.cover.width, guide.cover.height) == (1200, 630)

    response = client.get(guide.cover.src)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "sandbox" in response["Content-Security-Policy"]
    assert title_of(response.content) == "Transformers & <attention>"


def test_a_cover_asked_for_by_an_old_digest_is_the_current_one_briefly_cached(client):
    guide = published_guide(title="Old title")
    old_url = guide.cover.src
    guide.title = "New title"
    guide.save()

    response = client.get(old_url)

    assert response.status_code == 200
    assert b"New title" in response.content
    assert response["Cache-Control"] == "public, max-age=300"


def test_a_drafts_cover_is_not_shown_to_visitors(client):
    guide = GuideFactory(status="draft", title="Unannounced plan")

    assert client.get(guide.cover.src).status_code == 404


@pytest.mark.parametrize(
    "title",
    [
        '</text><script>alert("x")</script>',
        "Quotes \" and ' and & ampersands",
        "Control\x00characters\x0b are\x1f dropped",
        "A" * 400,
        "",
    ],
)
def test_a_drawn_cover_is_well_formed_svg_whatever_the_title(title):
    svg = ElementTree.fromstring(cover_svg("Interviews <&>", title))

    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert not svg.findall(".//{http://www.w3.org/2000/svg}script")
    lines = list(svg.iter("{http://www.w3.org/2000/svg}tspan"))
    assert 1 <= len(lines) <= 4
    if "script" in title:
        # Wrapped across lines, but every character is there as text, none as markup.
        assert title_of(cover_svg("Interviews", title)).replace(" ", "") == title
    assert "INTERVIEWS <&>" in "".join(svg.itertext())


def test_the_covers_of_a_category_share_colours_and_differ_in_shape():
    first, second = cover_svg("Interviews", "One"), cover_svg("Interviews", "Two")
    other = cover_svg("Offers", "One")

    def colours(svg: str) -> list[str]:
        return re.findall(r'stop-color="(#[0-9a-f]+)"', svg)

    assert colours(first) == colours(second) != colours(other)
    assert first.replace("One", "") != second.replace("Two", "")


def test_the_hub_the_store_and_home_show_a_cover_on_every_card(client):
    guide = published_guide(is_featured=True)
    product = ProductFactory()

    for path, item in [("/guides/", guide), ("/", guide), ("/store/", product)]:
        page = client.get(path).content.decode()
        assert f'src="{item.cover.src}"' in page, path
        assert 'width="1200" height="630"' in page

    assert client.get(product.cover.src)["Content-Type"] == "image/svg+xml"


def test_a_guide_page_shows_its_uploaded_cover_but_not_a_drawn_one_above_the_text(client):
    drawn = published_guide()
    uploaded = published_guide(cover_image=photo(1300, 700))

    assert drawn.cover.src not in client.get(drawn.get_absolute_url()).content.decode()
    page = client.get(uploaded.get_absolute_url()).content.decode()
    assert re.search(r'<img src="/media/renditions/[^"]+-800\.jpg"[^>]+class="guide-cover"', page)


def test_an_inactive_products_cover_is_not_served(client):
    product = ProductFactory(is_active=False)

    assert client.get(product.cover.src).status_code == 404


def test_the_coach_uploads_a_portrait_and_home_shows_it_square_and_sized(client, public_media):
    from coaching.models import CoachProfile

    profile = CoachProfile.objects.create(
        name="The Coach", headline="Coaching", bio="Bio.", email="c@example.com",
        photo=photo(900, 1200, name="portrait.jpg"),
    )  # fmt: skip

    jpeg = profile.photo_renditions["files"]["jpeg"]
    assert sorted(jpeg, key=int) == ["160", "320", "640"]
    with Image.open(public_media / jpeg["640"]) as rendition:
        assert rendition.size == (640, 640)
    page = client.get("/").content.decode()
    img = re.search(r"<img [^>]*portrait[^>]*>", page)
    assert img is not None
    assert 'width="640" height="640"' in img.group(0)
    assert 'alt="The Coach"' in img.group(0)
    # On the first screen: not lazy.
    assert "loading=" not in img.group(0)


def test_the_coach_uploads_a_portrait_in_the_admin(coach_client, public_media):
    from coaching.models import CoachProfile

    profile = CoachProfile.objects.create(
        name="The Coach", headline="Coaching", bio="Bio.", email="c@example.com"
    )
    fields = {
        "name": profile.name, "headline": profile.headline, "bio": profile.bio,
        "email": profile.email, "time_zone": "Europe/London",
        "photo": photo(800, 800, name="me.jpg"),
    }  # fmt: skip

    response = coach_client.post(f"/admin/coaching/coachprofile/{profile.pk}/change/", fields)

    assert response.status_code == 302, response.content.decode()[:3000]
    profile.refresh_from_db()
    assert sorted(profile.photo_renditions["files"]["webp"], key=int) == ["160", "320", "640"]
    assert profile.portrait is not None


def test_the_product_form_in_the_admin_takes_a_cover(coach_client):
    product = ProductFactory()

    page = coach_client.get(f"/admin/store/product/{product.pk}/change/").content.decode()

    assert 'name="cover_image"' in page
    assert 'enctype="multipart/form-data"' in page
