"""The one rate-limit counter every public form and endpoint uses."""

from datetime import timedelta

import pytest
from django.utils import timezone

from coaching import throttles
from coaching.models import ThrottleCounter

pytestmark = pytest.mark.django_db

THREE_A_MINUTE = throttles.Limit("test", count=3, window=60)


def test_attempts_within_the_limit_pass_and_the_next_one_is_told_how_long_to_wait():
    answers = [throttles.hit(THREE_A_MINUTE, "198.51.100.7") for _ in range(4)]
    assert answers[:3] == [None, None, None]
    assert answers[3] is not None and 1 <= answers[3] <= 60


def test_a_limit_counts_each_key_on_its_own():
    for _ in range(3):
        throttles.hit(THREE_A_MINUTE, "198.51.100.7")
    assert throttles.hit(THREE_A_MINUTE, "198.51.100.8") is None


def test_the_counter_keeps_no_address_in_the_clear():
    throttles.hit(THREE_A_MINUTE, "reader@example.com")
    (counter,) = ThrottleCounter.objects.all()
    assert "reader" not in counter.key and "example" not in counter.key


def test_a_window_that_has_ended_starts_counting_again():
    for _ in range(4):
        throttles.hit(THREE_A_MINUTE, "198.51.100.7")
    ThrottleCounter.objects.update(window_start=timezone.now() - timedelta(seconds=61))
    assert throttles.hit(THREE_A_MINUTE, "198.51.100.7") is None


def test_a_limit_holds_when_the_cache_is_down(settings):
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "coaching.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    caches._settings = None
    try:
        answers = [throttles.hit(THREE_A_MINUTE, "198.51.100.7") for _ in range(4)]
    finally:
        caches._settings = None
    assert answers[3] is not None


def test_several_limits_answer_with_the_longest_wait_and_skip_missing_keys():
    per_hour = throttles.Limit("test-hour", count=1, window=3600)
    throttles.hit_all([(per_hour, "reader@example.com")])
    wait = throttles.hit_all(
        [(THREE_A_MINUTE, "198.51.100.7"), (per_hour, "reader@example.com"), (per_hour, None)]
    )
    assert wait is not None and wait > 60


def test_the_page_answer_is_a_429_with_retry_after_and_a_sentence(rf):
    response = throttles.too_many(rf.get("/"), 90, message="Too many sign-in codes.")
    assert response.status_code == 429
    assert response["Retry-After"] == "90"
    assert "Too many sign-in codes." in response.content.decode()
    assert "2 minutes" in response.content.decode()


def test_old_windows_are_purged():
    throttles.hit(THREE_A_MINUTE, "198.51.100.7")
    ThrottleCounter.objects.update(window_start=timezone.now() - timedelta(days=3))
    assert throttles.purge_expired() == 1


@pytest.mark.django_db(transaction=True)
def test_a_counter_in_its_own_transaction_counts_and_leaves_durable_commits_alone():
    from django.db import connection

    def synchronous_commit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    # The server's own setting (the embedded one for tests runs with it off) is what
    # the session must still have after the counters' transactions.
    before = synchronous_commit()
    answers = [throttles.hit(THREE_A_MINUTE, "198.51.100.9") for _ in range(4)]

    assert answers[:3] == [None, None, None] and answers[3] is not None
    assert synchronous_commit() == before
