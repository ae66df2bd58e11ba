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


def test_every_limit_is_counted_in_one_statement_while_none_is_over(
    clock, django_assert_num_queries
):
    loose = Limit("t:loose", allowed=10, window=60)
    tight = Limit("t:tight", allowed=2, window=30)

    with django_assert_num_queries(1):
        answer = ratelimit.hit(loose, tight)

    assert answer is None
    assert dict(RateCounter.objects.values_list("key", "hits")) == {"t:loose": 1, "t:tight": 1}


def test_a_hit_over_an_inner_limit_is_taken_back_from_the_outer_ones(clock):
    loose = Limit("t:loose", allowed=10, window=60)
    tight = Limit("t:tight", allowed=1, window=30)
    ratelimit.hit(loose, tight)

    exceeded = ratelimit.hit(loose, tight)

    assert exceeded == ratelimit.Exceeded(tight, hits=2, retry_after=15)
    assert dict(RateCounter.objects.values_list("key", "hits")) == {"t:loose": 1, "t:tight": 2}


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
