from __future__ import annotations

import factory
from django.utils import timezone

from newsletter.models import Campaign, MailingList, Subscriber, Subscription


class MailingListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MailingList
        django_get_or_create = ("slug",)

    name = "The weekly letter"
    slug = "weekly"
    is_default = True


class SubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscriber

    email = factory.Sequence(lambda n: f"reader{n:05d}@example.com")
    status = Subscriber.Status.CONFIRMED
    confirmed_at = factory.LazyFunction(timezone.now)
    consent_at = factory.LazyFunction(timezone.now)
    consent_text = "test"


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    subject = factory.Sequence(lambda n: f"Issue {n}")
    body = "Hello **reader**.\n\nRead [the guides](https://example.org/guides/)."
    mailing_list = factory.SubFactory(MailingListFactory)


def subscribe_many(mailing_list: MailingList, count: int, prefix: str = "r") -> list[int]:
    """Confirmed subscribers in bulk (fast enough for thousands)."""
    now = timezone.now()
    people = Subscriber.objects.bulk_create(
        [
            Subscriber(
                email=f"{prefix}{n:05d}@example.com",
                email_lower=f"{prefix}{n:05d}@example.com",
                status=Subscriber.Status.CONFIRMED,
                confirmed_at=now,
                consent_at=now,
            )
            for n in range(count)
        ]
    )
    Subscription.objects.bulk_create(
        [Subscription(subscriber=s, mailing_list=mailing_list) for s in people]
    )
    return [s.pk for s in people]
