import pytest
from django.test import RequestFactory

from leadloop.core.client_ip import client_ip


def _request(remote, forwarded=""):
    headers = {"REMOTE_ADDR": remote}
    if forwarded:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        ("", "203.0.113.9", "198.51.100.1", "203.0.113.9"),  # no proxies trusted: header ignored
        ("10.0.0.0/8", "203.0.113.9", "198.51.100.1", "203.0.113.9"),  # not from our proxy
        ("10.0.0.0/8", "10.0.0.5", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.0/8", "10.0.0.5", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # forged left part
        ("10.0.0.0/8", "10.0.0.5", "198.51.100.1, 10.0.0.7", "198.51.100.1"),  # two proxies
        ("10.0.0.0/8", "10.0.0.5", "not-an-ip", "10.0.0.5"),
        ("10.0.0.0/8, 2001:db8::/32", "2001:db8::1", "2001:db8:ffff::2, 2a00::1", "2a00::1"),
    ],
)
def test_the_client_is_the_first_untrusted_hop(settings, trusted, remote, forwarded, expected):
    settings.LEADLOOP_TRUSTED_PROXIES = trusted

    assert client_ip(_request(remote, forwarded)) == expected
