"""Where channels may connect: public addresses only, unless the operator allows private ones.

Feed URLs and FTP/IMAP hosts are typed by marketing users. Without this check they could make
the server probe its own network (127.0.0.1:5432, a cloud metadata address) and read the answer
through "test connection". Intranet feeds and drop folders need
LEADLOOP_ALLOW_PRIVATE_HOSTS=true.
"""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings
from django.utils.translation import gettext as _


class PrivateHostError(ValueError):
    """The host resolves to an address that is not on the public internet."""


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
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise PrivateHostError(
                _("%(host)s is not a public address; connections to it are refused.")
                % {"host": host}
            )
