"""Fixed-window counters in the database: counted in one statement, reset by the window."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from leadloop.core import ratelimit
from leadloop.core.models import RateCounter
from leadloop.core.ratelimit import Limit

START = dt.datetime(2026, 3, 2, 9, 0, 15, tzinfo=dt.UTC)


@pytest.fixture
def clock(db):
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_hits_up_to_the_limit_pass_and_the_next_is_over(clock):
    limit = Limit("t:a", allowed=3, window=60)

    answers = [ratelimit.hit(limit) for _ in range(4)]

    assert answers[:3] == [None, None, None]
    assert answers[3] == ratelimit.Exceeded(limit, hits=4, retry_after=45)
    assert RateCounter.objects.get(key="t:a").hits == 4


def test_every_limit_is_counted_and_the_first_one_over_is_named(clock, django_assert_num_queries):
    loose = Limit("t:loose", allowed=10, window=60)
    tight = Limit("t:tight", allowed=1, window=30)
    ratelimit.hit(loose, tight)

    with django_assert_num_queries(1):
        exceeded = ratelimit.hit(loose, tight)

    assert exceeded == ratelimit.Exceeded(tight, hits=2, retry_after=15)
    assert dict(RateCounter.objects.values_list("key", "hits")) == {"t:loose": 2, "t:tight": 2}


def test_a_new_window_starts_the_count_again(clock):
    limit = Limit("t:a", allowed=1, window=60)
    ratelimit.hit(limit)
    ratelimit.hit(limit)

    clock.shift(dt.timedelta(seconds=45))
    answer = ratelimit.hit(limit)

    assert answer is None
    assert RateCounter.objects.get(key="t:a").hits == 1


def test_zero_allowed_means_no_limit_and_no_statement(clock, django_assert_num_queries):
    with django_assert_num_queries(0):
        answer = ratelimit.hit(Limit("t:a", allowed=0, window=60))

    assert answer is None


def test_clear_and_prune_remove_counters(clock):
    ratelimit.hit(Limit("t:a", 5, 60), Limit("t:b", 5, 60), Limit("t:long", 5, 3600))

    cleared = ratelimit.clear("t:a")
    clock.shift(dt.timedelta(minutes=1))
    pruned = ratelimit.prune()

    assert (cleared, pruned) == (1, 1)
    assert list(RateCounter.objects.values_list("key", flat=True)) == ["t:long"]


def test_a_hostile_key_is_only_data(clock):
    limit = Limit("t:'); DROP TABLE core_ratecounter; --", allowed=1, window=60)

    ratelimit.hit(limit)

    assert RateCounter.objects.get().key == limit.key
