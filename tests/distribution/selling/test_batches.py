"""The daily CSV to a buyer's SFTP server, against a real SSH server (asyncssh) on 127.0.0.1:
yesterday's leads in the buyer's columns, sent once, the host key learnt on first use, a
failure kept and tried again, and the password never stored in clear."""

import csv
import datetime as dt
import io

import asyncssh
import pytest
import time_machine

from leadloop.accounts.actors import SYSTEM
from leadloop.distribution.selling.models import Buyer, BuyerBatch
from leadloop.distribution.selling.services import batches
from leadloop.distribution.selling.services.auction import sell_lead
from tests.distribution.conftest import ready_lead
from tests.distribution.selling.conftest import make_buyer
from tests.intake.channels.ftp.test_sftp import sftp_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def _configure(buyer, server, password="s3cret"):
    return batches.configure_sftp(
        buyer.pk,
        {"host": "127.0.0.1", "port": server.settings["port"], "username": "provider",
         "directory": "/drop"},
        password=password,
        by=SYSTEM,
    )  # fmt: skip


def test_yesterdays_leads_go_once_in_the_buyers_columns(source, fake, sftp_server):  # noqa: F811
    url, _s = fake()
    buyer = make_buyer(
        "Batch buyer", url, field_map=[["Naam", "first_name"], ["Postcode", "postal_code"]]
    )
    _configure(buyer, sftp_server)
    # A fixed noon: near midnight "yesterday" in UTC and in the deployment's zone differ.
    today = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    with time_machine.travel(today - dt.timedelta(days=1, hours=1)):
        sell_lead(ready_lead(source, first_name="=Anna", postal_code="1011AB").pk)
        sell_lead(ready_lead(source, first_name="Bram", email="bram@example.nl").pk)
    with time_machine.travel(today):
        sell_lead(ready_lead(source, first_name="Today", email="today@example.nl").pk)
        assert batches.send_due(by=SYSTEM) == 1
        assert batches.send_due(by=SYSTEM) == 0  # once a day

    sent = sftp_server.root / "leads-2026-03-09.csv"
    rows = list(csv.DictReader(io.StringIO(sent.read_text())))
    assert [r["Naam"] for r in rows] == ["'=Anna", "Bram"]
    assert rows[0]["Postcode"] == "1011 AB"
    assert not list(sftp_server.root.glob("*.part"))
    batch = BuyerBatch.objects.get()
    assert (batch.rows, batch.error) == (2, "")
    # Trust on first use: the server's key is kept, and the password is not in clear.
    stored = Buyer.objects.get(pk=buyer.pk)
    assert stored.sftp["host_key"] == sftp_server.host_key
    assert "s3cret" not in stored.sftp_password_encrypted


def test_a_failure_is_kept_and_tried_again(source, fake, sftp_server):  # noqa: F811
    url, _s = fake()
    buyer = make_buyer("Wrong password", url)
    _configure(buyer, sftp_server, password="wrong")

    with time_machine.travel(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)):
        assert batches.send_due(by=SYSTEM) == 0
        assert BuyerBatch.objects.get().error

        _configure(buyer, sftp_server)
        assert batches.send_due(by=SYSTEM) == 1
    assert (sftp_server.root / "leads-2026-03-09.csv").exists()


def test_a_different_host_key_is_refused(source, fake, sftp_server):  # noqa: F811
    url, _s = fake()
    buyer = make_buyer("Impostor", url)
    _configure(buyer, sftp_server)
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    Buyer.objects.filter(pk=buyer.pk).update(
        sftp={**Buyer.objects.get(pk=buyer.pk).sftp, "host_key": other}
    )
    batch = batches.send_batch(buyer.pk, dt.date(2026, 3, 9), by=SYSTEM)
    assert batch.sent_at is None
    assert batch.error
    assert not list(sftp_server.root.glob("leads-*"))
