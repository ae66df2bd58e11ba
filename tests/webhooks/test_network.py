"""Where a webhook connects: to the address that was checked, never to one a second DNS answer
gives (DNS rebinding), and over TLS with the certificate checked for the endpoint's name. A real
local HTTPS server with a certificate made for the test. Issue 13, item 6."""

from __future__ import annotations

import datetime as dt
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer

from leadloop.webhooks.models import Delivery, DeliveryState
from leadloop.webhooks.services import sending
from tests.factories.leads import make_lead
from tests.webhooks.conftest import send_all

pytestmark = pytest.mark.django_db


def test_the_connection_goes_to_the_checked_address_not_a_second_answer(
    subscribe, httpserver, source, settings, monkeypatch
):
    """A rebinding DNS server answers a public address to the check and 127.0.0.1 afterwards.
    The sender resolves once, so the local server (standing in for the internal network) is
    never reached."""
    subscribe("lead.created")  # saved while private hosts are allowed (the test server)
    settings.LEADLOOP_ALLOW_PRIVATE_HOSTS = False
    port = httpserver.port
    answers = iter([("93.184.215.14", port), ("127.0.0.1", port), ("127.0.0.1", port)])
    calls = []

    def rebinding(host, *args, **kwargs):
        calls.append(host)
        address = next(answers)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", address)]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(sending, "TIMEOUT_SECONDS", 0.5)
    make_lead(source)
    send_all()

    assert calls == ["localhost"]  # one lookup, checked, then used
    assert httpserver.log == []
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.last_status is None


def _certificate(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path):
    cert, key = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="localhost", port=0, ssl_context=context)
    server.start()
    yield server, cert
    server.clear()
    if server.is_running():
        server.stop()


def test_https_checks_the_certificate_for_the_endpoints_name(
    admin, source, tls_server, monkeypatch
):
    from leadloop.webhooks.services import subscriptions as services

    server, cert = tls_server
    server.expect_request("/in").respond_with_data("ok")
    services.create_subscription(by=admin, url=server.url_for("/in"), events=["lead.created"])
    assert server.url_for("/in").startswith("https://localhost:")

    make_lead(source)
    send_all()  # the system's trusted roots do not know the test's certificate
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.last_error
    assert server.log == []

    trusted = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(sending, "tls_context", lambda: trusted)
    Delivery.objects.update(next_attempt_at=dt.datetime.now(dt.UTC))
    assert send_all() == 1
    assert len(server.log) == 1
