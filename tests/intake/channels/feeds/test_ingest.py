"""Polling RSS sources against a real local HTTP server: one lead per new entry, never twice."""

from __future__ import annotations

import io
import json
import socket
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from werkzeug import Request, Response

from leadloop.accounts.actors import SYSTEM
from leadloop.core.schedule import SCHEDULE
from leadloop.intake import services
from leadloop.intake.channels.feeds.ingest import entry_key, fetch_feed, poll_all_feeds, poll_feed
from leadloop.intake.channels.feeds.parser import FeedError
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.leads.models import ChannelKind, Lead
from tests.factories.leads import make_source

ITEM = """<item><guid isPermaLink="false">{guid}</guid><title>Quote request {guid}</title>
<pubDate>Mon, 02 Nov 2026 10:00:00 +0000</pubDate>
<description>&lt;p&gt;Name: {name}&lt;br/&gt;E-mail: {email}&lt;/p&gt;</description></item>"""

PEOPLE = [
    ("lead-1", "Jan Jansen", "jan@example.nl"),
    ("lead-2", "Els Bakker", "els@example.nl"),
    ("lead-3", "Piet de Vries", "piet@example.nl"),
]


def _feed(*people: tuple[str, str, str]) -> str:
    items = "".join(ITEM.format(guid=g, name=n, email=e) for g, n, e in people)
    channel = f"<channel><title>Leads</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


class FeedSite:
    """Serves one feed with an ETag and Last-Modified, answering 304 to a matching request."""

    def __init__(self) -> None:
        self.body = ""
        self.version = 0
        self.requests: list[dict[str, str]] = []

    def publish(self, body: str) -> None:
        self.body = body
        self.version += 1

    def __call__(self, request: Request) -> Response:
        self.requests.append(
            {
                "If-None-Match": request.headers.get("If-None-Match", ""),
                "If-Modified-Since": request.headers.get("If-Modified-Since", ""),
            }
        )
        etag = f'"v{self.version}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(
            self.body,
            content_type="application/rss+xml",
            headers={"ETag": etag, "Last-Modified": f"Mon, 02 Nov 2026 10:0{self.version}:00 GMT"},
        )


@pytest.fixture
def feed_site(httpserver):
    site = FeedSite()
    httpserver.expect_request("/leads.rss").respond_with_handler(site)
    return site


@pytest.fixture
def rss_source(db, httpserver):
    source = make_source("Offerteplaza feed", kind=ChannelKind.RSS)
    return services.set_mapping(
        source, mapping={"feed": {"url": httpserver.url_for("/leads.rss")}}, by=SYSTEM
    )


def test_each_new_entry_becomes_one_lead_and_a_repeat_poll_creates_nothing(rss_source, feed_site):
    feed_site.publish(_feed(*PEOPLE[:2]))

    first = poll_feed(rss_source)
    second = poll_feed(rss_source)

    assert (first.entries, first.new, first.outcomes) == (2, 2, {"processed": 1 + 1})
    assert (second.not_modified, second.new) == (True, 0)
    assert sorted(Lead.objects.values_list("first_name", "last_name", "email")) == [
        ("Els", "Bakker", "els@example.nl"),
        ("Jan", "Jansen", "jan@example.nl"),
    ]
    assert sorted(RawSubmission.objects.values_list("idempotency_key", "channel", "state")) == [
        ("rss:lead-1", "rss", "processed"),
        ("rss:lead-2", "rss", "processed"),
    ]


def test_a_third_poll_with_one_more_entry_creates_exactly_one_lead(rss_source, feed_site):
    feed_site.publish(_feed(*PEOPLE[:2]))
    poll_feed(rss_source)
    poll_feed(rss_source)
    feed_site.publish(_feed(*PEOPLE))

    third = poll_feed(rss_source)

    assert (third.not_modified, third.entries, third.new) == (False, 3, 1)
    assert Lead.objects.count() == 3
    assert Lead.objects.filter(email="piet@example.nl", last_name="de Vries").count() == 1


def test_the_poll_sends_the_validators_of_the_previous_answer(rss_source, feed_site):
    feed_site.publish(_feed(PEOPLE[0]))

    poll_feed(rss_source)
    poll_feed(rss_source)

    rss_source.refresh_from_db()
    assert feed_site.requests == [
        {"If-None-Match": "", "If-Modified-Since": ""},
        {"If-None-Match": '"v1"', "If-Modified-Since": "Mon, 02 Nov 2026 10:01:00 GMT"},
    ]
    assert rss_source.field_mapping["feed"]["etag"] == '"v1"'


def test_a_server_without_validators_still_makes_no_second_lead_per_guid(rss_source, httpserver):
    httpserver.expect_request("/leads.rss").respond_with_data(
        _feed(*PEOPLE[:2]), content_type="application/rss+xml"
    )

    first = poll_feed(rss_source)
    second = poll_feed(rss_source)

    assert (first.new, second.not_modified, second.entries, second.new) == (2, False, 2, 0)
    assert Lead.objects.count() == 2
    assert RawSubmission.objects.count() == 2


def test_an_entry_edited_after_it_was_taken_in_makes_no_new_lead(rss_source, feed_site):
    feed_site.publish(_feed(PEOPLE[0]))
    poll_feed(rss_source)
    feed_site.publish(_feed(("lead-1", "Jan Jansen", "jan.jansen@example.nl")))

    again = poll_feed(rss_source)

    assert (again.entries, again.new) == (1, 0)
    assert list(Lead.objects.values_list("email", flat=True)) == ["jan@example.nl"]


def test_the_entry_title_is_kept_aside_not_taken_as_job_title(rss_source, feed_site):
    feed_site.publish(_feed(PEOPLE[0]))

    poll_feed(rss_source)

    lead = Lead.objects.get()
    assert lead.job_title == ""
    assert lead.extra["_title"] == "Quote request lead-1"
    assert lead.extra["_published"] == "2026-11-02T10:00:00+00:00"


def test_an_entry_without_contact_details_is_kept_for_review_and_not_retried(rss_source, feed_site):
    feed_site.publish(_feed(("lead-9", "Anon", "")).replace("E-mail: ", ""))

    first = poll_feed(rss_source)
    again = poll_feed(rss_source)

    assert (first.new, first.outcomes, again.new) == (1, {"quarantined": 1}, 0)
    held = RawSubmission.objects.get()
    assert (held.state, held.disposition) == (SubmissionState.QUARANTINED, "review")
    assert held.reasons[0]["code"] == "no_contact"
    assert Lead.objects.count() == 0


def test_a_long_guid_gets_a_hashed_key_that_fits():
    guid = "https://example.nl/" + "x" * 300

    key = entry_key(guid)

    assert key.startswith("rss:sha256:")
    assert len(key) == len("rss:sha256:") + 64
    assert entry_key("lead-1") == "rss:lead-1"


def test_a_failing_feed_server_is_a_feed_error_and_stores_nothing(rss_source, httpserver):
    httpserver.expect_request("/leads.rss").respond_with_data("oops", status=500)

    with pytest.raises(FeedError, match=r"^The feed answered HTTP 500\.$"):
        poll_feed(rss_source)

    assert RawSubmission.objects.count() == 0


def test_a_feed_over_the_size_limit_is_refused(httpserver):
    httpserver.expect_request("/big.rss").respond_with_data(b"x" * 2048)

    with pytest.raises(FeedError, match=r"^The feed is larger than the limit of 1024 bytes\.$"):
        fetch_feed(httpserver.url_for("/big.rss"), max_bytes=1024)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.nl/feed", "/leads.rss"])
def test_only_http_and_https_feed_urls_are_fetched(url):
    with pytest.raises(FeedError, match=r"^The feed URL must start with http:// or https://\.$"):
        fetch_feed(url)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("ftp://127.0.0.1/feed", r"^The feed redirected to ftp://127\.0\.0\.1/feed, which is"),
        ("file:///etc/passwd", r"^The feed answered HTTP 302\.$"),
    ],
)
def test_a_redirect_away_from_http_is_refused(httpserver, target, message):
    httpserver.expect_request("/moved.rss").respond_with_data(
        "", status=302, headers={"Location": target}
    )

    with pytest.raises(FeedError, match=message):
        fetch_feed(httpserver.url_for("/moved.rss"))


def test_a_server_that_never_answers_times_out():
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/feed"

        with pytest.raises(FeedError, match=r"^The feed could not be fetched: .*timed out"):
            fetch_feed(url, timeout=0.3)


def test_a_source_without_a_feed_url_is_a_feed_error(db):
    source = make_source("No URL", kind=ChannelKind.RSS)

    with pytest.raises(FeedError, match=r"^Source No URL has no feed URL\.$"):
        poll_feed(source)


def test_polling_all_feeds_reports_a_broken_one_and_polls_the_others(
    rss_source, feed_site, httpserver
):
    broken = make_source("Broken feed", kind=ChannelKind.RSS)
    services.set_mapping(
        broken, mapping={"feed": {"url": httpserver.url_for("/gone.rss")}}, by=SYSTEM
    )
    httpserver.expect_request("/gone.rss").respond_with_data("gone", status=404)
    make_source("A web form", kind=ChannelKind.WEB_FORM)
    feed_site.publish(_feed(PEOPLE[0]))

    polls = poll_all_feeds()

    assert [(p.source, p.new, p.error) for p in polls] == [
        ("Offerteplaza feed", 1, ""),
        ("Broken feed", 0, "The feed answered HTTP 404."),
    ]
    assert Lead.objects.count() == 1


def test_feeds_are_polled_every_ten_minutes():
    (spec,) = [job for job in SCHEDULE if job.name == "poll_feeds"]

    assert spec.every == timedelta(minutes=10)
    assert spec.task.name == "poll_feeds_task"


def test_poll_feeds_command_prints_json_for_one_source(rss_source, feed_site):
    feed_site.publish(_feed(*PEOPLE[:2]))
    out = io.StringIO()

    call_command("poll_feeds", "--source", "Offerteplaza feed", "--json", stdout=out)

    assert json.loads(out.getvalue()) == [
        {
            "source": "Offerteplaza feed",
            "not_modified": False,
            "entries": 2,
            "new": 2,
            "outcomes": {"processed": 2},
            "error": "",
        }
    ]


def test_poll_feeds_command_prints_one_line_per_source(rss_source, feed_site):
    feed_site.publish(_feed(PEOPLE[0]))
    out = io.StringIO()

    call_command("poll_feeds", stdout=out)
    call_command("poll_feeds", stdout=out)

    assert out.getvalue() == (
        "Offerteplaza feed: 1 entries, 1 new (processed 1)\nOfferteplaza feed: not modified\n"
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Nope", r"^No source called 'Nope'\.$"),
        ("A web form", r"^Source A web form is not an RSS feed source\.$"),
    ],
)
def test_poll_feeds_command_refuses_an_unknown_or_wrong_source(db, name, message):
    make_source("A web form", kind=ChannelKind.WEB_FORM)

    with pytest.raises(CommandError, match=message):
        call_command("poll_feeds", "--source", name)

    assert RawSubmission.objects.count() == 0


def test_poll_feeds_command_fails_with_the_feeds_reason(rss_source, httpserver):
    httpserver.expect_request("/leads.rss").respond_with_data("down", status=503)

    with pytest.raises(CommandError, match=r"^1 of 1 feeds failed: Offerteplaza feed: The feed an"):
        call_command("poll_feeds", stdout=io.StringIO())

    with pytest.raises(CommandError, match=r"^The feed answered HTTP 503\.$"):
        call_command("poll_feeds", "--source", "Offerteplaza feed")
