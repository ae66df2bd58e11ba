"""leadloop poll-feeds [--source NAME] [--json]: poll RSS/Atom sources now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM
from leadloop.core.commands import LeadloopCommand
from leadloop.intake.channels.feeds import ingest as feed_ingest
from leadloop.intake.channels.feeds.ingest import FeedPoll
from leadloop.leads import selectors
from leadloop.leads.models import ChannelKind


def _line(poll: FeedPoll) -> str:
    if poll.error:
        return f"{poll.source}: {poll.error}"
    if poll.not_modified:
        return f"{poll.source}: not modified"
    outcomes = ", ".join(f"{state} {n}" for state, n in sorted(poll.outcomes.items()))
    return f"{poll.source}: {poll.entries} entries, {poll.new} new" + (
        f" ({outcomes})" if outcomes else ""
    )


class Command(LeadloopCommand):
    help = "Poll RSS/Atom sources now: one lead per entry not seen before."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--source", metavar="NAME", help="Poll only this source.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["source"]:
            source = selectors.get_source_by_name(SYSTEM, options["source"])
            if source.kind != ChannelKind.RSS:
                raise CommandError(
                    _("Source %(name)s is not an RSS feed source.") % {"name": source.name}
                )
            polls = [feed_ingest.poll_feed(source)]
        else:
            polls = feed_ingest.poll_all_feeds()
        text = "\n".join(_line(p) for p in polls) or _("No active RSS sources.")
        self.emit(options, [p.as_dict() for p in polls], text)
        failed = [p for p in polls if p.error]
        if failed:
            reasons = "; ".join(f"{p.source}: {p.error}" for p in failed)
            raise CommandError(
                _("%(failed)d of %(total)d feeds failed: %(reasons)s")
                % {"failed": len(failed), "total": len(polls), "reasons": reasons}
            )
