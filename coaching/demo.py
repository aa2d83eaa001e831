"""Demo data for the site itself: the coach, the profile, offers and testimonials.

Written for this project; the coach's real content stays in ../shared.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings

from coaching.models import CoachingOffer, CoachProfile, MenuItem, Page, Testimonial, User

COACH_EMAIL = os.environ.get("COACH_EMAIL", "coach@example.com")
LOGIN_FILE = Path(settings.DATA_DIR) / "coach-login.json"

PROFILE = {
    "name": "Alex Morgan",
    "headline": "Land the AI role you are aiming for, with a plan that fits your background",
    "bio": (
        "I help software engineers, data scientists and researchers move into AI roles: "
        "machine learning engineer, applied scientist, AI engineer and the leadership roles "
        "around them. I spent ten years building and hiring for ML teams before I started "
        "coaching full time.\n\n"
        "My guides are free to read. When you want a second pair of eyes on your story, your "
        "interview preparation or an offer, book a discovery call and we will work out what "
        "would help most."
    ),
    "email": "coach@example.com",
    "time_zone": "Europe/London",
    "linkedin_url": "https://www.linkedin.com/",
    "credentials": (
        "Ten years building machine learning products\n"
        "Hired and managed ML teams of up to 25 people\n"
        "Sat on more than 400 technical interview loops\n"
        "Coached 150+ people into AI roles since 2021"
    ),
}

OFFERS = [
    {
        "slug": "discovery-call",
        "title": "Discovery call",
        "summary": "Twenty minutes to look at where you are, where you want to be and whether "
        "coaching is the right next step.",
        "description": "We look at your background and your target roles, and you leave with "
        "two or three concrete next steps whether or not we work together.",
        "price_label": "Free",
        "duration_label": "20 minutes",
        "call_to_action": "Book a discovery call",
        "link": "/book/",
    },
    {
        "slug": "interview-sprint",
        "title": "Interview sprint",
        "summary": "Three sessions in three weeks: your story, a technical mock interview and a "
        "system design mock, each with written feedback.",
        "description": "For people with interviews already on the calendar.\n\n"
        "- Session 1: your story and the roles you are targeting\n"
        "- Session 2: a technical mock interview in the format of your target company\n"
        "- Session 3: an ML system design mock and a review of your plan",
        "price_label": "£450",
        "duration_label": "3 sessions",
        "call_to_action": "See the package",
        "link": "/store/",
    },
    {
        "slug": "career-transition",
        "title": "Career transition programme",
        "summary": "Six sessions over three months to plan and make a move into an AI role, "
        "from positioning to negotiating the offer.",
        "description": "For engineers and scientists planning a move over the next few months."
        "\n\nWe build your positioning, a portfolio project plan, a target company list, "
        "interview preparation and an offer negotiation plan, one session at a time.",
        "price_label": "£850",
        "duration_label": "6 sessions",
        "call_to_action": "See the package",
        "link": "/store/",
    },
]

TESTIMONIALS = [
    ("I had been applying for ML roles for a year with no offers. Three sessions later I "
     "knew exactly which story to tell, and I accepted an offer seven weeks after that.",
     "Priya S.", "ML Engineer, fintech", "Offer in 7 weeks"),
    ("The system design mock was harder than the real interview. That was the point, and "
     "it worked.", "Daniel K.", "Senior Applied Scientist", "Senior offer"),
    ("Clear, honest and practical. The negotiation plan alone paid for the package many "
     "times over.", "Marta L.", "AI Engineer", "+18% on the first offer"),
    ("I moved from backend engineering into an AI platform team without a second degree. "
     "The guides got me started; the coaching got me over the line.", "Sam O.",
     "AI Platform Engineer", "Career switch"),
]  # fmt: skip


# Which offer each testimonial above speaks of (its page shows it).
TESTIMONIAL_OFFERS = ["interview-sprint", "interview-sprint", "career-transition",
                      "career-transition"]  # fmt: skip

PAGES = [
    {
        "slug": "speaking",
        "title": "Speaking",
        "description": "Talks and workshops on hiring, interviewing and careers in AI.",
        "body": "I speak at meetups, conferences and company events about moving into AI "
        "roles and about hiring for them.\n\n"
        "## Talks\n\n"
        "- **What an ML interview loop really tests**: the five signals interviewers look "
        "for, and how candidates can show them.\n"
        "- **From software engineer to AI engineer**: the skills that carry over and the "
        "ones to learn first.\n\n"
        "## Booking a talk\n\n"
        "Write through the [contact page](/contact/) with the date, the audience and the "
        "format you have in mind.",
    },
    {
        "slug": "papers",
        "title": "Papers",
        "description": "Research and writing from before coaching.",
        "body": "Before coaching I worked on applied machine learning; a selection of "
        "that work is listed here.\n\n"
        "1. *Evaluating ranking models offline*: a workshop paper on metrics that agree "
        "with online tests.\n"
        "2. *Interviewing for ML roles*: notes from sitting on hundreds of loops.\n\n"
        "Newer writing lives in the [guides](/guides/).",
    },
]

# The footer as the coach arranged it in the demo; the header keeps its built-in links.
FOOTER_MENU = [
    ("All guides", "/guides/", None),
    ("Coaching", "/coaching/", None),
    ("Workshops", "/workshops/", None),
    ("Results", "/results/", None),
    ("About", "/about/", None),
    ("", "", "speaking"),
    ("", "", "papers"),
    ("Contact", "/contact/", None),
    ("Newsletter archive", "/newsletter/archive/", None),
    ("RSS feed", "/feeds/guides/", None),
]


def _coach_login() -> dict[str, str]:
    """The demo coach's password and TOTP secret, made once and kept in .data/."""
    if LOGIN_FILE.exists():
        data: dict[str, str] = json.loads(LOGIN_FILE.read_text())
        return data
    from allauth.mfa.totp.internal.auth import generate_totp_secret

    data = {
        "email": COACH_EMAIL,
        "password": os.environ.get("COACH_PASSWORD") or secrets.token_urlsafe(12),
        "totp_secret": generate_totp_secret(),
    }
    LOGIN_FILE.parent.mkdir(parents=True, exist_ok=True)
    LOGIN_FILE.write_text(json.dumps(data))
    LOGIN_FILE.chmod(0o600)
    return data


def ensure_coach() -> User:
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    login = _coach_login()
    coach = User.objects.filter(email__iexact=login["email"]).first()
    if coach is None:
        coach = User.objects.create_superuser(login["email"], login["password"], name="Alex Morgan")
    EmailAddress.objects.update_or_create(
        user=coach, email=coach.email, defaults={"verified": True, "primary": True}
    )
    if not Authenticator.objects.filter(user=coach, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(coach, login["totp_secret"])
    return coach


def describe_login() -> str:
    login = _coach_login()
    return (
        "\n  The coach's workspace: /admin/\n"
        f"    email     {login['email']}\n"
        f"    password  {login['password']}\n"
        f"    TOTP      secret {login['totp_secret']} (add it to an authenticator app;\n"
        "              `make totp` prints the current code)\n"
    )


def load(command: Any) -> str:
    ensure_coach()
    CoachProfile.objects.update_or_create(pk=1, defaults=PROFILE)
    for position, offer in enumerate(OFFERS):
        CoachingOffer.objects.update_or_create(
            slug=offer["slug"], defaults={**offer, "position": position}
        )
    offers = {offer.slug: offer for offer in CoachingOffer.objects.all()}
    for position, (quote, author, role, outcome) in enumerate(TESTIMONIALS):
        Testimonial.objects.update_or_create(
            author=author,
            defaults={
                "quote": quote,
                "role": role,
                "outcome": outcome,
                "position": position,
                "is_featured": position < 3,
                "offer": offers.get(TESTIMONIAL_OFFERS[position]),
            },
        )
    pages = {}
    for page in PAGES:
        pages[page["slug"]], _ = Page.objects.update_or_create(slug=page["slug"], defaults=page)
    for position, (label, url, slug) in enumerate(FOOTER_MENU):
        page_row = pages[slug] if slug else None
        MenuItem.objects.update_or_create(
            menu=MenuItem.Menu.FOOTER,
            label=label,
            url=url,
            page=page_row,
            defaults={"position": position},
        )
    return (
        f"coach, profile, {len(OFFERS)} offers, {len(TESTIMONIALS)} testimonials, "
        f"{len(PAGES)} pages, {len(FOOTER_MENU)} footer links"
    )
