"""Holds, payment, policy, reminders, waitlist and the invitations they send."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from bookings import services
from bookings.models import Booking, BookingReminder, WaitlistEntry
from tests.bookings.factories import london, next_weekday

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run on-commit work (the outbox sender) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def book(event_type: Any, hour: int = 10, **extra: Any) -> Booking:
    return services.book_slot(
        event_type=event_type,
        start=london(next_weekday(days_ahead=extra.pop("days_ahead", 5)), hour),
        name="Casey",
        email=extra.pop("email", "casey@example.com"),
        time_zone="America/New_York",
        answers={"goal": "A plan"},
        **extra,
    )


def invitations(to: str) -> list[Calendar]:
    found = []
    for message in mail.outbox:
        if message.to == [to]:
            for _name, content, mimetype in message.attachments:
                assert mimetype.startswith("text/calendar")
                found.append(Calendar.from_ical(content))
    return found


def event_of(calendar: Calendar) -> Any:
    return next(iter(calendar.walk("VEVENT")))


def test_an_invitation_parses_and_a_cancellation_matches_its_uid(
    event_type: Any, commit: Any
) -> None:
    with commit():
        booking = book(event_type)
    with commit():
        services.cancel_booking(booking=booking)
    request, cancel = invitations("casey@example.com")
    assert str(request["method"]) == "REQUEST" and str(cancel["method"]) == "CANCEL"
    first, last = event_of(request), event_of(cancel)
    assert str(first["uid"]) == str(last["uid"]) == booking.ics_uid
    assert int(last["sequence"]) > int(first["sequence"])
    assert first.decoded("dtstart") == booking.start
    assert str(last["status"]) == "CANCELLED"


def test_the_email_gives_both_zones(event_type: Any, commit: Any) -> None:
    with commit():
        book(event_type)
    message = next(m for m in mail.outbox if m.to == ["casey@example.com"])
    assert "(America/New_York)" in message.body and "(Europe/London)" in message.body
    assert "/bookings/" in message.body and "&lt;" not in message.body


def test_rescheduling_raises_the_sequence_and_moves_the_reminders(
    event_type: Any, commit: Any
) -> None:
    with commit():
        booking = book(event_type)
    old_start = booking.start
    new_start = booking.start + timedelta(hours=3)
    with commit():
        services.reschedule_booking(booking=booking, start=new_start)
    booking.refresh_from_db()
    assert booking.start == new_start and booking.sequence == 1 and booking.reschedule_count == 1
    reminders = BookingReminder.objects.filter(booking=booking, status="pending")
    assert {r.for_start for r in reminders} == {new_start}
    assert sorted(r.due_at for r in reminders) == sorted(
        [new_start - timedelta(minutes=1440), new_start - timedelta(minutes=60),
         new_start - timedelta(minutes=60)]
    )  # fmt: skip
    moved = invitations("casey@example.com")[-1]
    assert int(event_of(moved)["sequence"]) == 1
    assert event_of(moved).decoded("dtstart") == new_start != old_start


def test_a_cancelled_booking_gets_no_reminder(event_type: Any, commit: Any) -> None:
    booking = book(event_type)
    services.cancel_booking(booking=booking)
    mail.outbox.clear()
    with commit():
        sent = services.send_due_reminders(now=booking.start - timedelta(minutes=30))
    assert sent == 0
    assert mail.outbox == []


def test_a_moved_booking_gets_no_stale_reminder_but_its_new_one(
    event_type: Any, commit: Any
) -> None:
    booking = book(event_type)
    old_start = booking.start
    # A stale row for the old time, as a worker racing the reschedule might have left it.
    booking = services.reschedule_booking(booking=booking, start=old_start + timedelta(days=1))
    BookingReminder.objects.create(
        booking=booking, kind="candidate", offset_minutes=60, for_start=old_start,
        due_at=old_start - timedelta(minutes=60),
    )  # fmt: skip
    mail.outbox.clear()
    with commit():
        services.send_due_reminders(now=old_start - timedelta(minutes=59))
    assert mail.outbox == []
    assert BookingReminder.objects.get(for_start=old_start).status == "skipped"
    with commit():
        sent = services.send_due_reminders(now=booking.start - timedelta(minutes=59))
    assert sent == 3  # 24 h and 1 h to the candidate, the prep brief to the coach
    subjects = sorted(m.subject for m in mail.outbox)
    assert any(s.startswith("Prep brief") for s in subjects)
    assert sum(s.startswith("Reminder") for s in subjects) == 2


def test_reminders_are_sent_once_when_the_task_runs_twice(event_type: Any, commit: Any) -> None:
    booking = book(event_type)
    mail.outbox.clear()
    with commit():
        services.send_due_reminders(now=booking.start - timedelta(minutes=30))
        services.send_due_reminders(now=booking.start - timedelta(minutes=30))
    assert len(mail.outbox) == 3


@pytest.fixture
def bought_section() -> Iterator[None]:
    """A receiver of prep_brief_requested adding a section, as the clients app does."""
    from bookings.signals import prep_brief_requested

    def bought(booking: Any, **extra: Any) -> list[tuple[str, list[str]]]:
        return [("Bought", ["Interview sprint"])]

    prep_brief_requested.connect(bought, dispatch_uid="test-bought")
    yield
    prep_brief_requested.disconnect(dispatch_uid="test-bought")


def test_the_prep_brief_carries_the_intake_answers_and_the_sections_other_apps_add(
    event_type: Any, commit: Any, bought_section: None
) -> None:
    booking = book(event_type)
    mail.outbox.clear()
    with commit():
        services.send_due_reminders(now=booking.start - timedelta(minutes=30))
    brief = next(m for m in mail.outbox if m.subject.startswith("Prep brief"))
    assert brief.to == ["coach@example.com"]
    assert "A plan" in brief.body and "Interview sprint" in brief.body


def test_the_policy_is_snapshotted_and_enforced(event_type: Any) -> None:
    booking = book(event_type)
    event_type.max_reschedules = 0
    event_type.save()
    booking.refresh_from_db()
    assert booking.policy["max_reschedules"] == 2
    services.reschedule_booking(booking=booking, start=booking.start + timedelta(hours=1))
    services.reschedule_booking(booking=booking, start=booking.start + timedelta(hours=2))
    with pytest.raises(services.PolicyError):
        services.reschedule_booking(booking=booking, start=booking.start + timedelta(hours=3))


def test_it_refuses_to_reschedule_inside_the_cutoff(event_type: Any) -> None:
    booking = book(event_type)
    with pytest.raises(services.PolicyError):
        services.reschedule_booking(
            booking=booking,
            start=booking.start + timedelta(hours=1),
            now=booking.start - timedelta(hours=2),
        )


def test_a_cancellation_inside_the_cutoff_is_late(event_type: Any) -> None:
    booking = book(event_type)
    services.cancel_booking(booking=booking, now=booking.start - timedelta(hours=2))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.LATE_CANCEL


def test_an_unpaid_hold_expires_and_frees_the_slot(event_type: Any) -> None:
    event_type.kind = "paid"
    event_type.price_amount = 150
    event_type.save()
    booking = book(event_type)
    assert booking.status == Booking.Status.PENDING_PAYMENT
    later = timezone.now() + timedelta(minutes=event_type.payment_window_minutes + 1)
    with time_machine.travel(later, tick=False):
        other = book(event_type, email="other@example.com")
    assert other.status == Booking.Status.PENDING_PAYMENT
    booking.refresh_from_db()
    assert booking.status == Booking.Status.EXPIRED
    with pytest.raises(services.SlotTaken):
        services.confirm_paid_booking(booking_id=booking.pk)


def test_the_store_confirms_a_paid_booking_once(event_type: Any, commit: Any) -> None:
    event_type.kind = "paid"
    event_type.price_amount = 150
    event_type.save()
    booking = book(event_type)
    with commit():
        services.confirm_paid_booking(booking_id=booking.pk, payment_reference="pi_123")
        services.confirm_paid_booking(booking_id=booking.pk, payment_reference="pi_123")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and booking.payment_reference == "pi_123"
    assert len([m for m in mail.outbox if m.to == ["casey@example.com"]]) == 1


def test_the_sweeper_expires_holds(event_type: Any) -> None:
    hold = services.hold_slot(
        event_type=event_type, start=london(next_weekday(5), 10), time_zone="UTC"
    )
    assert services.expire_holds(now=timezone.now() + timedelta(minutes=11)) == 1
    hold.refresh_from_db()
    assert hold.status == Booking.Status.EXPIRED


def test_a_cancelled_slot_is_held_for_the_first_person_on_the_waitlist(
    event_type: Any, commit: Any
) -> None:
    booking = book(event_type)
    first = services.join_waitlist(
        event_type=event_type, name="Wendy", email="wendy@example.com", time_zone="Asia/Tokyo"
    )
    services.join_waitlist(
        event_type=event_type, name="Will", email="will@example.com", time_zone="UTC"
    )
    mail.outbox.clear()
    with commit():
        services.cancel_booking(booking=booking)
    first.refresh_from_db()
    assert first.status == WaitlistEntry.Status.OFFERED
    hold = Booking.objects.get(status="held")
    assert hold.start == booking.start and hold.email == "wendy@example.com"
    assert hold.hold_expires_at > timezone.now() + timedelta(minutes=100)
    offer = next(m for m in mail.outbox if m.to == ["wendy@example.com"])
    assert "earlier" in offer.subject and "/bookings/" in offer.body
    services.complete_hold(
        booking=hold, name="Wendy", email="wendy@example.com", answers={}, time_zone="Asia/Tokyo"
    )
    first.refresh_from_db()
    assert first.status == WaitlistEntry.Status.BOOKED


def test_the_slot_engine_blocks_exactly_the_bookings_that_the_blocking_query_returns(
    event_type: Any,
) -> None:
    from bookings.availability import busy_for, rules_for

    now = timezone.now()
    day = next_weekday()
    cases = [
        ("confirmed", None),
        ("held", now + timedelta(minutes=5)),
        ("held", now - timedelta(minutes=5)),
        ("pending_payment", now + timedelta(minutes=5)),
        ("pending_payment", now - timedelta(minutes=5)),
        ("cancelled", None),
        ("completed", None),
        ("no_show", None),
    ]
    for hour, (status, hold_expires_at) in enumerate(cases, start=9):
        booking = Booking(event_type=event_type, coach=event_type.coach, time_zone="UTC")
        booking.place(london(day, hour))
        booking.status, booking.hold_expires_at = status, hold_expires_at
        booking.save()
    rules = rules_for(event_type)
    start = london(day, 0)
    busy, per_day = busy_for(event_type, rules, start=start, end=start + timedelta(days=1), now=now)
    expected = Booking.objects.blocking(now).filter(start__date=day)
    assert sorted(busy) == sorted((b.during.lower, b.during.upper) for b in expected)
    assert len(busy) == 3  # confirmed, and the two holds that have not run out
    assert per_day == {day: 3}


def test_which_bookings_block_time_is_the_same_rule_in_the_orm_and_in_the_slot_sql(
    event_type: Any,
) -> None:
    from django.db import connection

    now = timezone.now()
    day = next_weekday()
    for hour, status in enumerate(Booking.Status.values, start=9):
        for minutes, expires in ((0, now - timedelta(minutes=1)), (30, now + timedelta(minutes=5))):
            booking = Booking(
                event_type=event_type,
                coach_id=event_type.coach_id,
                name="R",
                email="r@example.com",
                time_zone="Europe/London",
                status=status,
                hold_expires_at=expires,
            )
            booking.place(london(day, hour, minutes))
            booking.save()

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT b.id FROM bookings_booking b WHERE {Booking.BLOCKING_SQL}",  # noqa: S608
            Booking.blocking_sql_params(now),
        )
        in_sql = {row[0] for row in cursor.fetchall()}
    in_orm = set(Booking.objects.blocking(now).values_list("pk", flat=True))

    assert in_sql == in_orm
    assert Booking.objects.count() == 2 * len(Booking.Status.values)
    assert 0 < len(in_orm) < Booking.objects.count()
