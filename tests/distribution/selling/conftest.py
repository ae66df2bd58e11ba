from decimal import Decimal

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.distribution.selling import fakebuyer
from leadloop.distribution.selling.services import buyers


@pytest.fixture
def fake():
    """Start fake buyers on free ports; each is shut down after the test."""
    servers = []

    def start(behaviour="accept", price="30.00"):
        server, state = fakebuyer.start(behaviour=behaviour, price=price)
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", state

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def make_buyer(name, url, *, price="30", funds="1000", **fields):
    """A buyer set up through the service, with `funds` paid in."""
    data = {"name": name, "price": price, "url": f"{url}/lead", "method": "json", **fields}
    if fields.get("pings"):
        data.setdefault("ping_url", f"{url}/ping")
    buyer = buyers.save_buyer(data, by=SYSTEM)
    if Decimal(funds) > 0:
        buyers.top_up(buyer.pk, funds, by=SYSTEM)
    buyer.refresh_from_db()
    return buyer
