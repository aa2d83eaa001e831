"""Who may open what: every object URL of every app, as each kind of visitor.

One table, one test. Each row names a URL (by its URL name, so a row whose
app has not shipped that page yet is skipped with the reason), the method, and
the answer expected for each visitor:

- owner: `candidate`, who bought the study guide, booked a call and subscribes;
- other: `stranger`, a signed-in user with nothing of their own here;
- client: a signed-in coaching client who bought something else;
- staff: the coach (superuser, TOTP set up), who works from the admin, not from
  buyers' library URLs;
- team_coach: staff in the "Coach" group (every permission), not a superuser;
- assistant: staff in the "Assistant" group (coaching/roles.py): calendar, contacts,
  notes and tasks; no money, no exports, no campaigns, no guide editing;
- anon: nobody signed in.

An expected answer is a status code, or LOGIN (a redirect to the sign-in page).
`secret` rows also say who may see a string in the page: paid text must never
leave the server to someone not entitled (DESIGN.md rule 1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from coaching.models import Page
from tests.conftest import make_user
from tests.security.conftest import World

pytestmark = pytest.mark.django_db

LOGIN = "login"
ROLES = ("owner", "other", "client", "staff", "team_coach", "assistant", "anon")
STAFF = ("staff", "team_coach", "assistant")


@dataclass(frozen=True)
class Row:
    name: str
    url: Callable[[World], str]
    expect: dict[str, int | str]
    method: str = "get"
    secret: str = ""
    sees_secret: tuple[str, ...] = ()
    data: dict[str, str] | None = None


def named(name: str, **kwargs: Callable[[World], Any]) -> Callable[[World], str]:
    def build(world: World) -> str:
        return reverse(name, kwargs={key: value(world) for key, value in kwargs.items()})

    build.url_name = name  # type: ignore[attr-defined]
    return build


def same(status: int | str) -> dict[str, int | str]:
    return dict.fromkeys(ROLES, status)


def only_owner(owner: int | str, others: int = 404) -> dict[str, int | str]:
    return {**dict.fromkeys(ROLES, others), "owner": owner, "anon": LOGIN}


def tampered(token: str) -> str:
    """The same token with its signature's last character changed."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def order_number(w: World) -> str:
    return str(w.order.number)


def booking_token(w: World) -> str:
    return w.booking_token


ADMIN_LOGIN = "admin login"
# Non-staff reach the admin's sign-in page, which itself hands over to the site's sign-in.
ADMIN = dict.fromkeys(ROLES, ADMIN_LOGIN) | dict.fromkeys(STAFF, 200)


def admin(status: int, *, assistant: int | None = None) -> dict[str, int | str]:
    """An admin page: non-staff are sent to sign in; both coaches get `status`, the
    Assistant `assistant` (403 where the page needs a permission the role lacks)."""
    answers = dict.fromkeys(ROLES, ADMIN_LOGIN) | dict.fromkeys(STAFF, status)
    return answers | {"assistant": status if assistant is None else assistant}


def url(name: str, *args: str) -> Callable[[World], str]:
    """An admin URL whose arguments are ids kept in `world.urls` (made by the test)."""

    def build(world: World) -> str:
        return reverse(name, args=[world.urls.get(arg, arg) for arg in args])

    build.url_name = name  # type: ignore[attr-defined]
    return build


TABLE: list[Row] = [
    # members: the pricing page is public; each account sees only its own membership.
    Row("pricing page", named("members:pricing"), same(200)),
    Row(
        "membership page (each account's own)",
        named("members:account"),
        same(200) | {"anon": LOGIN},
    ),
    Row("update card without a membership", named("members:card"), same(404) | {"anon": LOGIN}),
    # guides: the page always answers; only the entitled see the paid text.
    Row(
        "paid guide page",
        named("guides:detail", slug=lambda w: w.paid_guide.slug),
        same(200),
        secret="SECRET PAID PARAGRAPH",
        sees_secret=("owner", "staff", "team_coach"),
    ),
    Row(
        "comments on a paid guide (they may quote it)",
        named("comments:thread", slug=lambda w: w.paid_guide.slug),
        same(200),
        secret="COMMENT QUOTING",
        sees_secret=("owner", "staff", "team_coach"),
    ),
    Row(
        "search hits of a paid guide",
        lambda w: reverse("guides:search") + "?q=paragraph",
        same(200),
        secret="SECRET PAID",
        sees_secret=("owner", "staff", "team_coach"),
    ),
    Row(
        "guide search API hits of a paid guide",
        lambda w: reverse("guides:api-search") + "?q=paragraph",
        same(200),
        secret="SECRET PAID",
        sees_secret=("owner", "staff", "team_coach"),
    ),
    Row(
        "RSS feed never carries paid text",
        named("guides:feed-rss"),
        same(200),
        secret="SECRET PAID PARAGRAPH",
    ),  # fmt: skip
    # store: the buyer's records and files are the buyer's alone.
    Row(
        "library",
        named("store:library"),
        {**same(200), "anon": LOGIN},
        secret="Study guide",
        sees_secret=("owner",),
    ),  # fmt: skip
    Row(
        "library item", named("store:library-item", pk=lambda w: w.entitlement.pk), only_owner(200)
    ),  # fmt: skip
    Row(
        "file status",
        named("store:file-status", file_pk=lambda w: w.product_file.pk),
        only_owner(200),
    ),  # fmt: skip
    Row(
        "download", named("store:download", file_pk=lambda w: w.product_file.pk), only_owner(302)
    ),  # fmt: skip
    Row("signed file link (owner's)", lambda w: w.urls["signed"], only_owner(200)),
    Row(
        "signed file link, tampered",
        lambda w: tampered(w.urls["signed"].rstrip("/")) + "/",
        {**only_owner(404)},
    ),  # fmt: skip
    Row("order", named("store:order", number=order_number), only_owner(200)),
    Row("invoice", named("store:invoice", number=order_number), only_owner(200)),
    Row(
        "refund request",
        named("store:refund-request", number=order_number),
        only_owner(302),
        method="post",
    ),  # fmt: skip
    Row(
        "checkout success page of the owner's session",
        lambda w: (
            reverse("store:checkout-success") + f"?session_id={w.order.stripe_checkout_session_id}"
        ),
        same(200),
        secret="candidate@example.com",
        sees_secret=("owner",),
    ),
    # bookings: the signed link is the credential; an edited one finds nothing.
    Row("booking manage link", named("bookings:manage", token=booking_token), same(200)),
    Row(
        "booking manage link, tampered",
        named("bookings:manage", token=lambda w: tampered(w.booking_token)),
        same(404),
    ),  # fmt: skip
    Row(
        "booking cancel, tampered token",
        named("bookings:cancel", token=lambda w: tampered(w.booking_token)),
        same(404),
        method="post",
    ),  # fmt: skip
    Row(
        "booking reschedule, tampered token",
        named("bookings:reschedule", token=lambda w: tampered(w.booking_token)),
        same(404),
        method="post",
    ),  # fmt: skip
    Row(
        "booking invitation, tampered token",
        named("bookings:invite", token=lambda w: tampered(w.booking_token)),
        same(404),
    ),  # fmt: skip
    Row(
        "booking details, forged token",
        named("bookings:details", token=lambda w: "1234:abcd"),
        same(404),
    ),  # fmt: skip
    Row(
        "coach calendar feed, guessed key",
        named("bookings:coach-feed", key=lambda w: "1-abc"),
        same(404),
    ),  # fmt: skip
    # newsletter: signed tokens; a bad one is a clear 400 page.
    Row(
        "newsletter preferences",
        named("newsletter:preferences", token=lambda w: w.subscriber_token),
        same(200),
    ),  # fmt: skip
    Row(
        "newsletter preferences, bad token",
        named("newsletter:preferences", token=lambda w: tampered(w.subscriber_token)),
        same(400),
    ),  # fmt: skip
    Row(
        "newsletter preferences, another subscriber's id unsigned",
        named("newsletter:preferences", token=lambda w: str(w.subscriber.pk)),
        same(400),
    ),  # fmt: skip
    Row(
        "newsletter unsubscribe, bad token",
        named("newsletter:unsubscribe", token=lambda w: tampered(w.subscriber_token)),
        same(400),
        method="post",
    ),  # fmt: skip
    Row(
        "newsletter confirm, bad token",
        named("newsletter:confirm", token=lambda w: tampered(w.subscriber_token)),
        same(400),
        method="post",
    ),  # fmt: skip
    Row(
        "newsletter click, bad token",
        named("newsletter:click", token=lambda w: "1-1.bad"),
        same(400),
    ),  # fmt: skip
    # the coach's workspace
    Row("admin index", named("admin:index"), ADMIN),
    Row(
        "admin: the order",
        named("admin:store_order_change", object_id=lambda w: w.order.pk),
        admin(200, assistant=403),
    ),
    Row(
        "admin: the booking",
        named("admin:bookings_booking_change", object_id=lambda w: w.booking.pk),
        ADMIN,
    ),  # fmt: skip
    Row(
        "admin: subscribers",
        named("admin:newsletter_subscriber_changelist"),
        admin(200, assistant=403),
    ),
    Row("admin: users", named("admin:coaching_user_changelist"), admin(200, assistant=403)),
    # the clients app: the portal shows each signed-in person their own; object pages
    # belong to the client (`client` here), and answer 404 to everyone else.
    Row(
        "client portal",
        named("clients:portal"),
        {**same(200), "anon": LOGIN},
        secret="Shared with Cleo",
        sees_secret=("client",),
    ),  # fmt: skip
    Row(
        "client portal: a shared note",
        named("clients:portal-note", pk=lambda w: w.urls["note"]),
        {**same(404), "client": 200},
        secret="Shared with Cleo",
        sees_secret=("client",),
    ),  # fmt: skip
    Row(
        "client portal: a private note",
        named("clients:portal-note", pk=lambda w: w.urls["private-note"]),
        same(404),
    ),  # fmt: skip
    Row(
        "client portal: the package",
        named("clients:portal-engagement", pk=lambda w: w.urls["engagement"]),
        {**same(404), "client": 200},
    ),  # fmt: skip
    # privacy: each signed-in person exports their own data; the coach any contact's.
    Row("privacy: the policy page", named("clients:privacy"), same(200)),
    Row("privacy: your data", named("clients:portal-privacy"), {**same(200), "anon": LOGIN}),
    Row(
        "privacy: export",
        named("clients:portal-privacy-export"),
        {**same(200), "anon": LOGIN},
    ),  # fmt: skip
    Row(
        "admin: a contact's data export",
        named("admin:clients_contact_export_data", pk=lambda w: w.urls["contact"]),
        admin(200, assistant=403),
    ),  # fmt: skip
    Row(
        "admin: a contact's erase page",
        named("admin:clients_contact_erase", pk=lambda w: w.urls["contact"]),
        admin(200, assistant=403),
    ),  # fmt: skip
    Row("admin: contacts", named("admin:clients_contact_changelist"), ADMIN),
    Row("admin: contact import", named("admin:clients_contact_import"), ADMIN),
    # The admin's own pages (not ModelAdmin's): each checks the model permission of
    # what it shows or changes, so the Assistant meets 403 where money, exports,
    # campaigns or guide editing begin (coaching/roles.py).
    Row(
        "admin: the contact's workspace",
        url("admin:clients_contact_change", "contact"),
        ADMIN,
        secret="Credits left",
        sees_secret=("staff", "team_coach"),
    ),
    Row("admin: pipeline board", url("admin:clients_contact_board"), ADMIN),
    Row(
        "admin: export contacts",
        url("admin:clients_contact_export", "contacts"),
        admin(200, assistant=403),
    ),
    Row(
        "admin: export orders",
        url("admin:clients_contact_export", "orders"),
        admin(200, assistant=403),
    ),
    Row(
        "admin: export subscribers",
        url("admin:clients_contact_export", "subscribers"),
        admin(200, assistant=403),
    ),
    Row(
        "admin: prep brief",
        url("admin:clients_contact_brief", "booking"),
        ADMIN,
        secret="Credits left",
        sees_secret=("staff", "team_coach"),
    ),
    Row("admin: move", url("admin:clients_contact_move", "contact"), admin(302), method="post"),
    Row("admin: note", url("admin:clients_contact_note", "contact"), admin(302), method="post"),
    Row("admin: task", url("admin:clients_contact_task", "contact"), admin(302), method="post"),
    Row(
        "admin: task done",
        url("admin:clients_contact_task_done", "contact", "task"),
        admin(302),
        method="post",
    ),
    Row(
        "admin: career outcome",
        url("admin:clients_contact_outcome", "contact"),
        admin(302, assistant=403),
        method="post",
    ),
    Row(
        "admin: give a credit back",
        url("admin:clients_contact_give_back", "contact", "session"),
        admin(302, assistant=403),
        method="post",
    ),
    Row(
        "admin: session attendance",
        url("admin:clients_contact_session_outcome", "contact", "session"),
        admin(302),
        method="post",
    ),
    Row("admin: bookings calendar", url("admin:bookings_booking_calendar"), ADMIN),
    Row(
        "admin: refund an order",
        url("admin:store_order_refund", "order"),
        admin(200, assistant=403),
    ),
    Row(
        "admin: guide Markdown preview",
        url("admin:guides_guide_markdown_preview"),
        admin(200, assistant=403),
        method="post",
    ),
    Row(
        "admin: guide preview as a buyer",
        url("admin:guides_guide_preview", "guide", "buyer"),
        admin(200, assistant=403),
    ),
    Row(
        "admin: guide revision",
        url("admin:guides_guide_revision", "guide", "revision"),
        admin(200, assistant=403),
    ),
    Row(
        "admin: guide revision restore",
        url("admin:guides_guide_revision", "guide", "revision"),
        admin(302, assistant=403),
        method="post",
    ),
    Row(
        "admin: campaign audience count",
        url("admin:newsletter_campaign_audience"),
        admin(200, assistant=403),
        method="post",
    ),
    Row(
        "admin: campaign preview",
        url("admin:newsletter_campaign_preview", "campaign"),
        admin(200, assistant=403),
    ),
    Row(
        "admin: campaign progress",
        url("admin:newsletter_campaign_progress", "campaign"),
        admin(286, assistant=403),
    ),
    Row(
        "admin: campaign send confirmation",
        url("admin:newsletter_campaign_send", "campaign"),
        admin(200, assistant=403),
    ),
    Row(
        "admin: campaign command",
        url("admin:newsletter_campaign_command", "campaign", "pause"),
        admin(302, assistant=403),
        method="post",
    ),
    Row(
        "admin: campaign report",
        url("admin:newsletter_campaign_report", "campaign"),
        admin(200, assistant=403),
    ),
    # The site's structure: pages, menus and redirects are the coach's alone.
    Row("admin: site pages", url("admin:coaching_page_changelist"), admin(200, assistant=403)),
    Row("admin: a site page", url("admin:coaching_page_change", "page"), admin(200, assistant=403)),
    Row("admin: menus", url("admin:coaching_menuitem_changelist"), admin(200, assistant=403)),
    Row("admin: redirects", url("admin:coaching_redirect_changelist"), admin(200, assistant=403)),
    Row(
        "admin: redirect CSV import",
        url("admin:coaching_redirect_import"),
        admin(200, assistant=403),
    ),
    Row(
        "admin: redirect CSV import, posted",
        url("admin:coaching_redirect_import"),
        admin(200, assistant=403),  # the form again, asking for the file
        method="post",
    ),
    Row(
        "admin: outgoing emails",
        url("admin:coaching_outboundemail_changelist"),
        admin(200, assistant=403),
    ),
    Row(
        "admin: failed hooks",
        url("admin:coaching_hookfailure_changelist"),
        admin(200, assistant=403),
    ),
    # Comments: moderation is the coach's, in the admin and on the page.
    Row(
        "admin: comment moderation queue",
        url("admin:comments_pendingcomment_changelist"),
        admin(200, assistant=403),
    ),
    Row("admin: comments", url("admin:comments_comment_changelist"), admin(200, assistant=403)),
    Row("admin: commenters", url("admin:comments_commenter_changelist"), admin(200, assistant=403)),
    Row(
        "the coach's moderation buttons under a comment",
        url("comments:moderate", "comment"),
        admin(302, assistant=403),
        method="post",
        data={"action": "pin"},
    ),
    # Prepared (stamped) copies: the failed ones and the coach's "prepare again".
    Row(
        "admin: prepared copies",
        url("admin:store_stampedfile_changelist"),
        admin(200, assistant=403),
    ),
    Row(
        "admin: prepare failed copies again",
        url("admin:store_stampedfile_changelist"),
        admin(302, assistant=403),
        method="post",
        data={"action": "prepare_again", "_selected_action": "stamp"},
    ),
    Row(
        "the buyer's own try again on a copy",
        named("store:stamp-retry", file_pk=lambda w: w.product_file.pk),
        only_owner(302),
        method="post",
    ),
    # Memberships are money.
    Row("admin: tiers", url("admin:members_tier_changelist"), admin(200, assistant=403)),
    Row(
        "admin: memberships", url("admin:members_membership_changelist"), admin(200, assistant=403)
    ),
    Row(
        "admin: membership invoices",
        url("admin:members_membershipinvoice_changelist"),
        admin(200, assistant=403),
    ),
    Row(
        "admin: membership settings",
        url("admin:members_membershipsettings_changelist"),
        admin(200, assistant=403),
    ),
    Row(
        "admin: the dashboard's money figures",
        named("admin:index"),
        ADMIN,
        secret="Revenue this month",
        sees_secret=("staff", "team_coach"),
    ),
    # Calendar work the Assistant keeps; results are read, automations are the coach's.
    Row(
        "admin: email a workshop's attendees",
        url("admin:bookings_groupsession_email", "group-session"),
        ADMIN,
    ),
    Row("admin: results dashboard", url("admin:clients_outcome_results"), ADMIN),
    Row(
        "admin: an automation's dry run",
        url("admin:automations_rule_dry_run", "rule"),
        admin(200, assistant=403),
    ),
]


def _client_for(role: str, users: dict[str, Any]) -> Client:
    browser = Client()
    if role != "anon":
        browser.force_login(users[role])
    return browser


@pytest.fixture
def client_user(db: None, world: World) -> Any:
    """A coaching client of the coach: signed in, with a purchase of their own."""
    from tests.store.conftest import post_event, session_completed, start_order
    from tests.store.factories import ProductFactory

    user = make_user("client@example.com", name="Cleo Client")
    package = ProductFactory(slug="sprint", title="Sprint", kind="coaching", session_credits=3)
    order = start_order(package, email=user.email, user=user)
    post_event(Client(), session_completed(order))
    return user


def routed(url_name: str) -> bool:
    """Whether a namespaced URL name exists at all (whatever its arguments)."""
    from django.urls import get_resolver

    namespace, _, name = url_name.rpartition(":")
    resolver = get_resolver()
    for part in filter(None, namespace.split(":")):
        if part not in resolver.namespace_dict:
            return False
        resolver = resolver.namespace_dict[part][1]
    return name in resolver.reverse_dict


def _url_name(row: Row) -> str:
    return str(getattr(row.url, "url_name", ""))


def _check(row: Row, world: World, browsers: dict[str, Client]) -> list[str]:
    """The row's mismatches, as sentences (empty when every visitor got the expected answer)."""
    problems: list[str] = []
    url = row.url(world)
    # Posted values name ids kept in `world.urls`, as `url(...)` arguments do.
    data = {key: world.urls.get(value, value) for key, value in (row.data or {}).items()}
    for role in ROLES:
        response = getattr(browsers[role], row.method)(url, data)
        expected = row.expect[role]
        got = response.status_code
        if expected in (LOGIN, ADMIN_LOGIN):
            where = response.get("Location", "")
            prefix = "/accounts/login/" if expected == LOGIN else "/admin/login/"
            if got != 302 or not where.startswith(prefix):
                problems.append(f"{row.name} as {role}: {got} {where}, expected {expected}")
        elif got != expected:
            problems.append(f"{row.name} as {role}: {got}, expected {expected}")
        if row.secret and got == 200 and not response.streaming:
            body = re.sub(r"</?mark>", "", response.content.decode(errors="replace"))
            shown = row.secret.lower() in body.lower()
            if shown != (role in row.sees_secret):
                problems.append(
                    f"{row.name} as {role}: {row.secret!r} {'shown' if shown else 'hidden'}"
                )
    return problems


def _client_records(user: Any) -> dict[str, str]:
    """The client's contact, a shared and a private note, and a package (clients app)."""
    from clients.models import Contact, Engagement, Note

    contact = Contact.objects.for_user(user) or Contact.objects.create(
        email=user.email, user=user, name="Cleo Client"
    )
    shared = Note.objects.create(contact=contact, body="Shared with Cleo: homework", is_shared=True)
    private = Note.objects.create(contact=contact, body="Coach only: pricing thoughts")
    engagement = contact.engagements.first() or Engagement.objects.create(
        contact=contact, title="Sprint", credits_total=3
    )
    return {
        "contact": str(contact.pk),
        "note": str(shared.pk),
        "private-note": str(private.pk),
        "engagement": str(engagement.pk),
    }


def _staff_records(world: World, candidate: Any) -> dict[str, str]:
    """What the admin's own pages need: the candidate's contact with a task and a session
    that used a credit, a guide revision and a draft campaign."""
    from clients.models import Contact, Engagement, Session, Task
    from guides.models import GuideRevision
    from newsletter.models import Campaign, MailingList

    contact = Contact.objects.for_user(candidate) or Contact.objects.create(
        email=candidate.email, user=candidate, name="Casey Candidate"
    )
    task = Task.objects.create(contact=contact, title="Send the CV notes", due_on=date.today())
    engagement = Engagement.objects.create(contact=contact, title="Sprint", credits_total=3)
    session = Session.objects.create(contact=contact, engagement=engagement)
    engagement.use_credit(reason="the first call")
    Session.objects.filter(pk=session.pk).update(used_credit=True)
    revision = GuideRevision.objects.create(
        guide=world.paid_guide, title="Older title", summary="Older.", body="Older body."
    )
    campaign = Campaign.objects.create(
        subject="This week", body="Hello.", mailing_list=MailingList.objects.get(slug="weekly")
    )
    return {
        **_records_added_later(world),
        "contact": str(contact.pk),
        "task": str(task.pk),
        "session": str(session.pk),
        "booking": str(world.booking.pk),
        "order": str(world.order.pk),
        "guide": str(world.paid_guide.pk),
        "revision": str(revision.pk),
        "campaign": str(campaign.pk),
    }


def _records_added_later(world: World) -> dict[str, str]:
    """A site page, the owner's prepared copy, a workshop date, an automation rule and
    the world's comment, for the pages that came with them."""
    from comments.models import Comment
    from store.models import StampedFile
    from tests.automations.factories import make_rule
    from tests.bookings.test_seats import make_session, make_workshop

    page = Page.objects.create(title="Speaking", slug="speaking", body="Talks.")
    return {
        "page": str(page.pk),
        "stamp": str(StampedFile.objects.get(user=world.order.user).pk),
        "group-session": str(make_session(make_workshop(world.event_type.coach)).pk),
        "rule": str(make_rule("no_show").pk),
        "comment": str(Comment.objects.get(guide=world.paid_guide).pk),
    }


def test_every_object_url_answers_each_visitor_as_expected(
    world: World,
    candidate: Any,
    stranger: Any,
    coach: Any,
    client_user: Any,
    team_coach: Any,
    assistant: Any,
) -> None:
    # The owner's signed download link, minted the way the library mints it.
    owner = Client()
    owner.force_login(candidate)
    download = reverse("store:download", args=[world.product_file.pk])
    world.urls["signed"] = owner.get(download)["Location"]
    if routed("clients:portal-note"):
        world.urls.update(_client_records(client_user))
    world.urls.update(_staff_records(world, candidate))
    users = {
        "owner": candidate,
        "other": stranger,
        "client": client_user,
        "staff": coach,
        "team_coach": team_coach,
        "assistant": assistant,
    }
    browsers = {role: _client_for(role, users) for role in ROLES}
    problems: list[str] = []
    checked = 0
    for row in TABLE:
        if _url_name(row) and not routed(_url_name(row)):
            continue  # reported by the test below
        problems += _check(row, world, browsers)
        checked += 1
    assert checked >= 30
    assert not problems, "\n".join(problems)


def test_every_row_of_the_matrix_names_a_page_that_exists() -> None:
    unrouted = [row.name for row in TABLE if _url_name(row) and not routed(_url_name(row))]
    assert unrouted == []


# This project's apps: a view defined in one of them is the project's own page.
PROJECT_APPS = (
    "automations", "bookings", "clients", "coaching", "comments", "guides", "members",
    "newsletter", "store",
)  # fmt: skip
# What Django's ModelAdmin serves for every model (a project's override of one of
# these, such as the contact workspace's change view, is still that page).
STOCK_ADMIN_PAGES = re.compile(r"_(changelist|add|change|delete|history)$")


def _named_patterns() -> Iterator[tuple[str, Callable[..., Any]]]:
    """(namespaced name, view) of every named URL the site routes."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns: list[Any], namespace: str) -> Iterator[tuple[str, Callable[..., Any]]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield f"{namespace}{pattern.name}", pattern.callback

    yield from walk(get_resolver().url_patterns, "")


def custom_staff_pages() -> set[str]:
    """The admin's own pages this project added (ModelAdmin.get_urls of its apps), and
    any page anywhere guarded by a model permission (the coach's buttons on the site)."""
    found = set()
    for name, view in _named_patterns():
        own = view.__module__.split(".")[0] in PROJECT_APPS
        added_to_admin = name.startswith("admin:") and own and not STOCK_ADMIN_PAGES.search(name)
        if added_to_admin or getattr(view, "required_permissions", None):
            found.add(name)
    return found


def test_every_custom_admin_and_workspace_page_has_a_row_in_the_matrix() -> None:
    pages = custom_staff_pages()
    # The enumeration itself sees what it should: an admin page added by get_urls,
    # one added by the clients app's wrapper, and the moderation buttons off /admin/.
    assert {
        "admin:coaching_redirect_import",
        "admin:clients_contact_board",
        "comments:moderate",
    } <= pages
    assert not any(name.endswith("_changelist") for name in pages)
    rows = {_url_name(row) for row in TABLE}
    assert sorted(pages - rows) == []
