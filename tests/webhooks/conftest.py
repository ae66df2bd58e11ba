import pytest
from standardwebhooks.webhooks import Webhook

from leadloop.webhooks.models import Delivery
from leadloop.webhooks.services import sending
from leadloop.webhooks.services import subscriptions as services


@pytest.fixture
def subscribe(admin, httpserver):
    """Subscribe the test's real HTTP server (pytest-httpserver) to `events`; returns the
    subscription and a verifier built from its secret, as a receiving system would hold it."""

    def build(*events, path="/hook", **extra):
        subscription, secret = services.create_subscription(
            by=admin, url=httpserver.url_for(path), events=list(events), **extra
        )
        return subscription, Webhook(secret)

    return build


def send_all() -> int:
    """What the worker would do: send every delivery that is due."""
    return sending.send_due()


def received(httpserver):
    """The requests the endpoint got, in order."""
    return [request for request, _response in httpserver.log]


def state_of(delivery_id: int) -> Delivery:
    return Delivery.objects.select_related("message").get(pk=delivery_id)
