"""Where channels may connect: public addresses only, unless the operator allows private ones.

Feed URLs and FTP/IMAP hosts are typed by marketing users. Without this check they could make
the server probe its own network (127.0.0.1:5432, a cloud metadata address) and read the answer
through "test connection". Intranet feeds and drop folders need
LEADLOOP_ALLOW_PRIVATE_HOSTS=true.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _


class PrivateHostError(ValueError):
    """The host resolves to an address that is not on the public internet."""


def public_addresses(host: str, port: int) -> list[tuple[Any, ...]]:
    """Resolve `host` once and return its addresses (getaddrinfo tuples) for a caller to connect
    to directly; PrivateHostError when one of them is not public (unless the operator allows
    private hosts). Connecting to exactly these closes the gap a second lookup would leave, in
    which a name answered with a public address for the check and a private one for the
    connection (DNS rebinding). A name that does not resolve raises socket.gaierror."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not settings.LEADLOOP_ALLOW_PRIVATE_HOSTS:
        for info in found:
            _check(host, str(info[4][0]))
    return found


def _check(host: str, address: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global or ip.is_multicast:
        raise PrivateHostError(
            _("%(host)s is not a public address; connections to it are refused.") % {"host": host}
        )


def refuse_private_host(host: str) -> None:
    """Raise PrivateHostError when `host` resolves to a loopback, private or link-local address.

    A name that does not resolve is left to the connection, which fails with its own message.
    """
    if settings.LEADLOOP_ALLOW_PRIVATE_HOSTS or not host:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return
    for address in addresses:
        _check(host, str(address))
