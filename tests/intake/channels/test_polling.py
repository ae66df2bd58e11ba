import logging

import pytest

from leadloop.errors import LeadloopError
from leadloop.intake.channels.polling import poll_every_source
from leadloop.leads.models import ChannelKind, Source
from tests.factories.leads import make_source

pytestmark = pytest.mark.django_db


def test_every_active_source_of_the_kind_is_polled_and_a_failure_does_not_stop_the_rest(caplog):
    first = make_source("First feed", kind=ChannelKind.RSS)
    broken = make_source("Broken feed", kind=ChannelKind.RSS)
    last = make_source("Last feed", kind=ChannelKind.RSS)
    make_source("Some FTP", kind=ChannelKind.FTP)
    sleeping = make_source("Paused feed", kind=ChannelKind.RSS)
    Source.objects.filter(pk=sleeping.pk).update(is_active=False)

    def poll(source):
        if source == broken:
            raise LeadloopError("The feed answered 500.")
        return ("polled", source.name)

    with caplog.at_level(logging.WARNING):
        results = poll_every_source(
            ChannelKind.RSS, poll, lambda source, reason: ("failed", source.name, reason)
        )

    assert results == [
        ("polled", first.name),
        ("failed", broken.name, "The feed answered 500."),
        ("polled", last.name),
    ]
    assert f"source={broken.pk}" in caplog.text


def test_a_bug_in_a_poll_is_not_swallowed():
    make_source(kind=ChannelKind.FTP)

    def poll(source):
        raise KeyError("bug")

    with pytest.raises(KeyError):
        poll_every_source(ChannelKind.FTP, poll, lambda source, reason: reason)
