"""Channels do not connect to loopback or private addresses unless the operator allows it."""

import pytest

from leadloop.core.network import PrivateHostError, refuse_private_host
from leadloop.intake.channels.feeds.ingest import FeedError, fetch_feed
from leadloop.intake.channels.ftp.client import FtpError, FtpSettings, list_new_files


@pytest.fixture
def production_rule(settings):
    settings.LEADLOOP_ALLOW_PRIVATE_HOSTS = False


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "169.254.169.254", "::1"])
def test_private_and_loopback_hosts_are_refused(production_rule, host):
    with pytest.raises(PrivateHostError):
        refuse_private_host(host)


def test_a_feed_on_loopback_is_refused_before_any_request(production_rule, httpserver):
    httpserver.expect_request("/feed").respond_with_data("<rss/>")

    with pytest.raises(FeedError, match="not a public address"):
        fetch_feed(httpserver.url_for("/feed"))

    assert httpserver.log == []


def test_an_ftp_host_on_loopback_is_refused(production_rule):
    with pytest.raises(FtpError, match="not a public address"):
        list_new_files(FtpSettings(host="127.0.0.1", port=21, username="u", password="p"))
