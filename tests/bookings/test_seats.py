"""Group sessions: the seat race (first without the guard, then with it), one seat per
person, moves and cancellations that touch nobody else, the seat waitlist's timed hold,
the coach's time blocked against one-to-one slots, attendance and the note to all."""

from __future__ import annotations

import time as clock
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from bookings import seats
from bookings.availability import slots_for
from bookings.models import Booking, GroupSession, Seat, WaitlistEntry
from bookings.services import SlotTaken, book_slot
from tests.bookings.factories import london, make_event_type, next_weekday
from tests.bookings.test_race import run_in_threads

RACERS = 50


def make_workshop(coach: Any, **fields: Any) -> Any:
    defaults = {
        "name": "Salary negotiation workshop",
        "slug": "negotiation-workshop",
        "summary": "Ninety minutes on the offer stage, in a small group.",
        "duration_minutes": 90,
        "seats": 8,
        "meeting_url": "https://meet.example.com/negotiation",
        "minimum_notice_minutes": 0,
        "weekdays": [],
    }
    defaults.update(fields)
    return make_event_type(coach, **defaults)


def make_session(workshop: Any, *, hour: int = 14, days_ahead: int = 5, **fields: Any) -> Any:
    start = london(next_weekday(days_ahead), hour)
    return seats.schedule_group_session(event_type=workshop, start=start, **fields)


@pytest.fixture
def wide_pool() -> Iterator[None]:
    """A connection per racer: the project's pool (4 by default) would queue the threads
    at the database and hide the race. Restored afterwards."""
    pool = connection.settings_dict["OPTIONS"].get("pool")
    if not isinstance(pool, dict):  # no pool configured: every thread connects anyway
        yield
        return
    postgres: Any = connection  # the PostgreSQL backend, which has a pool to close
    postgres.close()
    postgres.close_pool()
    postgres.settings_dict["OPTIONS"]["pool"] = {**pool, "max_size": RACERS + 2}
    try:
        yield
    finally:
        postgres.close()
        postgres.close_pool()
        postgres.settings_dict["OPTIONS"]["pool"] = pool


def count_then_insert(session: GroupSession, index: int) -> str:
    """What a seated-event scheduler without the guard does: count, then insert."""
    with transaction.atomic():
        taken = Seat.objects.filter(session=session).filter(status__in=Seat.TAKING).count()
        if taken >= session.capacity:
            return "full"
        # The request's other work between the count and the insert; long enough that
        # fifty threads opening connections on two cores all count before one inserts.
        clock.sleep(0.3)
        Seat.objects.create(
            session=session, name=f"Racer {index}", email=f"racer{index}@example.com",
            time_zone="UTC",
        )  # fmt: skip
    return "booked"


@pytest.mark.django_db(transaction=True)
def test_without_the_guard_fifty_people_counting_then_inserting_overbook_the_last_seat(
    coach: Any, coach_profile: Any, wide_pool: None
) -> None:
    session = make_session(make_workshop(coach), capacity=1)
    results = Counter(run_in_threads(lambda i: count_then_insert(session, i), RACERS))
    attendees = Seat.objects.filter(session=session, status__in=Seat.TAKING).count()
    assert attendees > 1, f"expected the race to overbook, results: {results}"


@pytest.mark.django_db(transaction=True)
def test_with_the_guard_fifty_people_racing_for_the_last_seat_leave_the_session_at_capacity(
    coach: Any, coach_profile: Any, wide_pool: None
) -> None:
    session = make_session(make_workshop(coach, seats=8))
    for index in range(7):
        seats.book_seat(
            session=session, name=f"Early {index}", email=f"early{index}@example.com",
            time_zone="UTC",
        )  # fmt: skip

    def race(index: int) -> str:
        try:
            seats.book_seat(
                session=GroupSession.objects.get(pk=session.pk), name=f"Racer {index}",
                email=f"racer{index}@example.com", time_zone="UTC",
            )  # fmt: skip
        except seats.SessionFull:
            return "full"
        return "booked"

    results = Counter(run_in_threads(race, RACERS))
    assert results == {"booked": 1, "full": RACERS - 1}, results
    session.refresh_from_db()
    assert Seat.objects.filter(session=session).filter(status__in=Seat.TAKING).count() == 8
    assert session.seats_taken == 8 and session.seats_left == 0


@pytest.mark.django_db
def test_the_database_refuses_a_seat_count_above_capacity_whatever_writes_it(
    coach: Any, coach_profile: Any
) -> None:
    session = make_session(make_workshop(coach), capacity=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        GroupSession.objects.filter(pk=session.pk).update(seats_taken=3)


@pytest.mark.django_db
def test_one_person_cannot_hold_two_seats_in_one_session(coach: Any, coach_profile: Any) -> None:
    session = make_session(make_workshop(coach))
    seats.book_seat(session=session, name="Casey", email="casey@example.com", time_zone="UTC")
    with pytest.raises(seats.AlreadyBooked):
        seats.book_seat(session=session, name="Casey", email="Casey@Example.com", time_zone="UTC")
    session.refresh_from_db()
    assert session.seats_taken == 1  # the refused seat did not keep a place
    with pytest.raises(IntegrityError), transaction.atomic():
        Seat.objects.create(session=session, name="C", email="CASEY@example.com", time_zone="UTC")


@pytest.mark.django_db
def test_each_attendee_gets_one_invitation_with_the_shared_link_and_an_ics(
    coach: Any, coach_profile: Any, django_capture_on_commit_callbacks: Any
) -> None:
    session = make_session(make_workshop(coach))
    with django_capture_on_commit_callbacks(execute=True):
        for who in ("ana", "ben"):
            seats.book_seat(session=session, name=who, email=f"{who}@example.com", time_zone="UTC")
    invitations = [m for m in mail.outbox if "Your seat" in m.subject]
    assert sorted(m.to[0] for m in invitations) == ["ana@example.com", "ben@example.com"]
    for message in invitations:
        assert "https://meet.example.com/negotiation" in message.body
        assert message.attachments[0][0] == "invite.ics"
        assert "METHOD:REQUEST" in message.attachments[0][1]


@pytest.mark.django_db
def test_an_attendee_cancels_their_seat_and_nobody_elses_changes(
    coach: Any, coach_profile: Any
) -> None:
    session = make_session(make_workshop(coach))
    (mine,) = seats.book_seat(session=session, name="A", email="a@example.com", time_zone="UTC")
    (theirs,) = seats.book_seat(session=session, name="B", email="b@example.com", time_zone="UTC")
    seats.cancel_seat(seat=mine)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    session.refresh_from_db()
    assert mine.status == Seat.Status.CANCELLED
    assert theirs.status == Seat.Status.CONFIRMED and theirs.sequence == 0
    assert session.seats_taken == 1
    # The place is free again: the same person may book it back.
    seats.book_seat(session=session, name="A", email="a@example.com", time_zone="UTC")


@pytest.mark.django_db
def test_an_attendee_moves_their_seat_to_another_date_of_the_same_workshop(
    coach: Any, coach_profile: Any
) -> None:
    workshop = make_workshop(coach, seats=2)
    first = make_session(workshop, days_ahead=5)
    second = make_session(workshop, days_ahead=12)
    (mine,) = seats.book_seat(session=first, name="A", email="a@example.com", time_zone="UTC")
    (theirs,) = seats.book_seat(session=first, name="B", email="b@example.com", time_zone="UTC")
    seats.move_seat(seat=mine, to=second)
    first.refresh_from_db()
    second.refresh_from_db()
    mine.refresh_from_db()
    assert mine.session == second and mine.sequence == 1
    assert (first.seats_taken, second.seats_taken) == (1, 1)
    assert Seat.objects.get(pk=theirs.pk).session == first


@pytest.mark.django_db
def test_a_seat_cannot_move_to_a_full_date_or_another_workshop(
    coach: Any, coach_profile: Any
) -> None:
    workshop = make_workshop(coach, seats=2)
    first = make_session(workshop, days_ahead=5)
    full = make_session(workshop, days_ahead=12, capacity=1)
    seats.book_seat(session=full, name="X", email="x@example.com", time_zone="UTC")
    other = make_session(make_workshop(coach, slug="cv-clinic", name="CV clinic"), days_ahead=20)
    (mine,) = seats.book_seat(session=first, name="A", email="a@example.com", time_zone="UTC")
    with pytest.raises(seats.SessionFull):
        seats.move_seat(seat=mine, to=full)
    with pytest.raises(seats.PolicyError):
        seats.move_seat(seat=mine, to=other)
    mine.refresh_from_db()
    first.refresh_from_db()
    assert mine.session == first and first.seats_taken == 1


@pytest.mark.django_db
def test_a_freed_seat_is_held_for_the_first_person_waiting_and_passes_on_when_the_hold_runs_out(
    coach: Any, coach_profile: Any
) -> None:
    session = make_session(make_workshop(coach, waitlist_hold_minutes=60), capacity=1)
    (seat,) = seats.book_seat(session=session, name="A", email="a@example.com", time_zone="UTC")
    with pytest.raises(seats.SessionFull):
        seats.book_seat(session=session, name="W1", email="w1@example.com", time_zone="UTC")
    first = seats.join_seat_waitlist(session=session, name="W1", email="w1@example.com",
                                     time_zone="UTC")  # fmt: skip
    second = seats.join_seat_waitlist(session=session, name="W2", email="w2@example.com",
                                      time_zone="UTC")  # fmt: skip

    seats.cancel_seat(seat=seat)
    held = Seat.objects.get(session=session, status=Seat.Status.HELD)
    assert held.email == "w1@example.com" and held.from_waitlist == first
    assert held.hold_expires_at is not None
    session.refresh_from_db()
    assert session.seats_taken == 1  # the held seat keeps the place: a stranger cannot take it
    with pytest.raises(seats.SessionFull):
        seats.book_seat(session=session, name="S", email="s@example.com", time_zone="UTC")

    later = held.hold_expires_at + timedelta(seconds=1)
    assert seats.expire_seat_holds(now=later) == 1
    held.refresh_from_db()
    assert held.status == Seat.Status.EXPIRED
    passed = Seat.objects.get(session=session, status=Seat.Status.HELD)
    assert passed.email == "w2@example.com"
    assert WaitlistEntry.objects.get(pk=first.pk).status == WaitlistEntry.Status.WITHDRAWN

    seats.claim_held_seat(seat=passed, now=later)
    passed.refresh_from_db()
    assert passed.status == Seat.Status.CONFIRMED
    assert WaitlistEntry.objects.get(pk=second.pk).status == WaitlistEntry.Status.BOOKED


@pytest.mark.django_db
def test_a_group_session_blocks_the_coachs_time_for_one_to_one_slots(
    coach: Any, coach_profile: Any
) -> None:
    call = make_event_type(coach, minimum_notice_minutes=0)
    day = next_weekday(5)
    session = seats.schedule_group_session(event_type=make_workshop(coach), start=london(day, 10))
    now = timezone.now()
    offered = slots_for(call, start=london(day, 0), end=london(day, 23), now=now)
    assert london(day, 9) in offered and london(day, 11, 30) in offered
    assert not {london(day, 10), london(day, 10, 30), london(day, 11)} & set(offered)
    with pytest.raises(SlotTaken):
        book_slot(event_type=call, start=london(day, 11), name="C", email="c@example.com",
                  time_zone="UTC")  # fmt: skip
    assert session.time_block is not None
    assert Booking.objects.blocking().filter(pk=session.time_block.pk).exists()


@pytest.mark.django_db
def test_a_group_session_cannot_be_scheduled_over_a_one_to_one_call(
    coach: Any, coach_profile: Any
) -> None:
    call = make_event_type(coach, minimum_notice_minutes=0)
    day = next_weekday(5)
    book_slot(event_type=call, start=london(day, 10), name="C", email="c@example.com",
              time_zone="UTC")  # fmt: skip
    with pytest.raises(SlotTaken):
        seats.schedule_group_session(event_type=make_workshop(coach), start=london(day, 9, 30))
    assert not GroupSession.objects.exists()


@pytest.mark.django_db
def test_the_coach_marks_attendance_per_person_and_emails_all_attendees_once(
    coach: Any, coach_profile: Any, django_capture_on_commit_callbacks: Any
) -> None:
    session = make_session(make_workshop(coach))
    (ana,) = seats.book_seat(session=session, name="Ana", email="ana@example.com", time_zone="UTC")
    (ben,) = seats.book_seat(session=session, name="Ben", email="ben@example.com", time_zone="UTC")
    (cat,) = seats.book_seat(session=session, name="Cat", email="cat@example.com", time_zone="UTC")
    seats.cancel_seat(seat=cat)
    seats.mark_attendance(seat=ana, status=Seat.Status.ATTENDED)
    seats.mark_attendance(seat=ben, status=Seat.Status.NO_SHOW)
    assert Seat.objects.get(pk=ana.pk).status == "attended"
    assert Seat.objects.get(pk=ben.pk).status == "no_show"
    with pytest.raises(seats.PolicyError):
        seats.mark_attendance(seat=cat, status=Seat.Status.ATTENDED)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert seats.email_attendees(session=session, subject="Slides", message="Here they are.")
        seats.email_attendees(session=session, subject="Slides", message="Here they are.")
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@example.com", "ben@example.com"]


@pytest.mark.django_db
def test_a_cohort_seat_takes_a_place_in_every_session_or_in_none(
    coach: Any, coach_profile: Any
) -> None:
    from bookings.models import Cohort

    workshop = make_workshop(coach, slug="job-search-cohort", series_length=3, seats=2)
    cohort = Cohort.objects.create(event_type=workshop, name="Spring")
    sessions = [make_session(workshop, days_ahead=5 + 7 * i, cohort=cohort) for i in range(3)]
    GroupSession.objects.filter(pk=sessions[2].pk).update(capacity=1)
    seats.take_seat(session=sessions[2], name="X", email="x@example.com", time_zone="UTC")
    with pytest.raises(seats.SessionFull):
        seats.book_seat(session=sessions[0], name="B", email="b@example.com", time_zone="UTC")
    # B got nothing: the full third session refused, and the first two rolled back.
    assert not Seat.objects.filter(email="b@example.com").exists()
    assert [GroupSession.objects.get(pk=s.pk).seats_taken for s in sessions] == [0, 0, 1]

    GroupSession.objects.filter(pk=sessions[2].pk).update(capacity=2)
    booked = seats.book_seat(session=sessions[0], name="A", email="a@example.com", time_zone="UTC")
    assert [seat.session_id for seat in booked] == [s.pk for s in sessions]
    assert [GroupSession.objects.get(pk=s.pk).seats_taken for s in sessions] == [1, 1, 2]


@pytest.mark.django_db
def test_a_seat_puts_its_attendee_in_the_crm_with_the_booking_and_the_register_on_the_timeline(
    coach: Any, coach_profile: Any
) -> None:
    from clients.models import Contact

    session = make_session(make_workshop(coach))
    (seat,) = seats.book_seat(session=session, name="Ana Attendee", email="ana@example.com",
                              time_zone="UTC")  # fmt: skip
    seats.mark_attendance(seat=seat, status=Seat.Status.ATTENDED)
    contact = Contact.objects.get(email="ana@example.com")
    titles = list(contact.timeline.values_list("title", flat=True))
    assert any(t.startswith("Seat in Salary negotiation workshop") for t in titles)
    assert "Salary negotiation workshop: attended" in titles
