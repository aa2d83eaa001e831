"""Demo newsletter: two lists, about thirty confirmed subscribers, two past public issues."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from newsletter.models import Campaign, MailingList, Subscriber, Subscription

LISTS = [
    ("weekly", "The weekly letter", "One email a week on AI roles, interviews and strategy.", True),
    ("announcements", "Product announcements", "New guides, courses and coaching slots.", False),
]
ZONES = ["Europe/London", "America/New_York", "Europe/Berlin", "Asia/Singapore", "America/Denver"]
FIRST_NAMES = [
    "Ada", "Ben", "Chloe", "Dev", "Ena", "Farid", "Grace", "Hugo", "Ines", "Jun",
    "Kemi", "Liam", "Maya", "Noor", "Omar", "Pia", "Quinn", "Ravi", "Sara", "Tom",
    "Uma", "Vik", "Wen", "Xavi", "Yara", "Zoe", "Ari", "Bea", "Cal", "Dina",
]  # fmt: skip

ISSUES = [
    (
        "demo-what-hiring-managers-ask-in-2025",
        "What hiring managers in AI ask for this year",
        "Three patterns from this month's interview loops.",
        "This week I sat in on six interview loops for ML and AI engineering roles. Three "
        "patterns came up again and again.\n\n"
        "## 1. Shipping beats papers\n\nEvery loop asked for a system the candidate had put in "
        "front of users, and what broke.\n\n"
        "## 2. Evaluation is the new leetcode\n\nExpect to design an evaluation for an LLM "
        "feature on a whiteboard.\n\n"
        "## 3. Cost awareness\n\nKnowing what a request costs, and how to halve it, sets people "
        "apart.\n\nReply to this email and tell me what you are preparing for.",
        28,
    ),
    (
        "demo-a-30-day-plan-for-your-ai-job-search",
        "A 30-day plan for your AI job search",
        "Week by week, what to do first.",
        "A plan you can start on Monday.\n\n"
        "- **Week 1:** pick two target roles and rewrite your story for them.\n"
        "- **Week 2:** one portfolio project with a written evaluation.\n"
        "- **Week 3:** ten conversations with people in the roles.\n"
        "- **Week 4:** applications, with a referral for at least half.\n\n"
        "More in the [guides](/guides/).",
        14,
    ),
]


def load(command: Any) -> str:
    lists = {}
    for position, (slug, name, description, default) in enumerate(LISTS):
        lists[slug], _ = MailingList.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "is_default": default,
                "position": position,
            },
        )
    now = timezone.now()
    for n, first in enumerate(FIRST_NAMES, start=1):
        email = f"{first.lower()}.reader{n:02d}@example.com"
        joined = now - dt.timedelta(days=3 * n)
        subscriber, _ = Subscriber.objects.get_or_create(
            email_lower=email,
            defaults={
                "email": email,
                "name": first,
                "time_zone": ZONES[n % len(ZONES)],
                "status": Subscriber.Status.CONFIRMED,
                "created_at": joined,
                "confirmed_at": joined,
                "last_engaged_at": now - dt.timedelta(days=n),
                "consent_at": joined,
                "consent_source": "demo",
                "consent_text": "Demo data",
            },
        )
        Subscription.objects.get_or_create(subscriber=subscriber, mailing_list=lists["weekly"])
        if n % 3 == 0:
            Subscription.objects.get_or_create(
                subscriber=subscriber, mailing_list=lists["announcements"]
            )
    for slug, subject, preheader, body, days_ago in ISSUES:
        sent = now - dt.timedelta(days=days_ago)
        Campaign.objects.update_or_create(
            slug=slug,
            defaults={
                "subject": subject,
                "preheader": preheader,
                "body": body,
                "mailing_list": lists["weekly"],
                "status": Campaign.Status.SENT,
                "is_public": True,
                "started_at": sent,
                "finished_at": sent,
            },
        )
    return f"{len(LISTS)} lists, {len(FIRST_NAMES)} subscribers, {len(ISSUES)} past issues"
