"""The site's content for the topology check, run inside the topology's own environment.

`python -m tests.production.seed site` makes the coach, a paid guide sold as a
product with a PDF, the discovery call and a buyer's account; `campaign N`
subscribes N readers and presses send (the service the admin's button calls).
Each prints one JSON line for the orchestrator.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from typing import Any

import django


def site(password: str) -> dict[str, object]:
    from allauth.account.models import EmailAddress
    from django.utils import timezone

    from coaching.models import CoachProfile, User
    from guides.models import Category, Guide
    from tests.bookings.factories import make_event_type
    from tests.newsletter.factories import MailingListFactory
    from tests.store.factories import ProductFactory, add_pdf

    coach = User.objects.create_superuser("coach@example.com", password, name="Alex Morgan")
    EmailAddress.objects.create(user=coach, email=coach.email, verified=True, primary=True)
    CoachProfile.objects.create(
        name="Alex Morgan", headline="Coach", bio="Bio", email="coach@example.com",
        time_zone="Europe/London",
    )  # fmt: skip
    category = Category.objects.create(name="Interviews", slug="interviews")
    guide = Guide.objects.create(
        title="Salary negotiation",
        slug="salary-negotiation",
        summary="What to say when the offer comes.",
        category=category,
        body="## The offer\n\nRead it twice.\n\n<!-- more -->\n\nThe paid part.",
        visibility="paid",
        status="published",
        published_at=timezone.now() - timedelta(days=1),
    )
    for n in range(3):
        Guide.objects.create(
            title=f"Free guide {n}", slug=f"free-guide-{n}", summary="A free guide.",
            category=category, body=f"## Part {n}\n\nText.", visibility="public",
            status="published", published_at=timezone.now() - timedelta(days=1),
        )  # fmt: skip
    product: Any = ProductFactory(slug="salary-guide", title="Salary negotiation guide", price=2900)
    product.guides.add(guide)
    add_pdf(product)
    buyer = User.objects.create_user("candidate@example.com", password, name="Casey Candidate")
    EmailAddress.objects.create(user=buyer, email=buyer.email, verified=True, primary=True)
    event_type = make_event_type(coach, slug="discovery-call")
    MailingListFactory()
    return {
        "product_path": product.get_absolute_url(),
        "product_title": product.title,
        "guide_path": guide.get_absolute_url(),
        "event_type": event_type.slug,
        "buyer": buyer.email,
    }


def campaign(recipients: int) -> dict[str, object]:
    from newsletter import services
    from newsletter.models import Campaign, MailingList
    from tests.newsletter.factories import subscribe_many

    weekly = MailingList.objects.get(slug="weekly")
    subscribe_many(weekly, recipients, prefix="reader")
    letter = Campaign.objects.create(
        subject="Prodcheck issue 1", body="Hello,\n\nThis week: offers.", mailing_list=weekly
    )
    assert services.start_campaign(campaign=letter)
    return {"campaign": letter.pk}


def main(argv: list[str]) -> None:
    django.setup()
    command = argv[0]
    if command == "site":
        result = site(argv[1])
    elif command == "campaign":
        result = campaign(int(argv[1]))
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
