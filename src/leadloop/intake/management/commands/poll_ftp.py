"""leadloop poll-ftp [--source NAME] [--json]: take in new files from FTP drop folders now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM
from leadloop.core.commands import LeadloopCommand
from leadloop.intake.channels.ftp import ingest as ftp_ingest
from leadloop.intake.channels.ftp.ingest import FileOutcome, FtpPoll
from leadloop.leads import selectors
from leadloop.leads.models import ChannelKind


def _file_line(outcome: FileOutcome) -> str:
    rows = ", ".join(f"{state} {n}" for state, n in sorted(outcome.rows.items()))
    parts = [f"  {outcome.name}: {outcome.state or 'not taken in'}"]
    if outcome.repeat:
        parts.append("(taken in before)")
    if rows:
        parts.append(f"rows: {rows}")
    if outcome.moved_to:
        parts.append(f"→ {outcome.moved_to}")
    if outcome.error:
        parts.append(f"error: {outcome.error}")
    return " ".join(parts)


def _lines(poll: FtpPoll) -> list[str]:
    if poll.error:
        return [f"{poll.source}: {poll.error}"]
    return [f"{poll.source}: {len(poll.files)} new files"] + [_file_line(f) for f in poll.files]


class Command(LeadloopCommand):
    help = "Take in new files from FTP drop folders now, then move them to processed/ or failed/."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--source", metavar="NAME", help="Poll only this source.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["source"]:
            source = selectors.get_source_by_name(SYSTEM, options["source"])
            if source.kind != ChannelKind.FTP:
                raise CommandError(
                    _("Source %(name)s is not an FTP drop-folder source.") % {"name": source.name}
                )
            polls = [ftp_ingest.poll_ftp(source)]
        else:
            polls = ftp_ingest.poll_all_ftp()
        text = "\n".join(line for p in polls for line in _lines(p)) or _("No active FTP sources.")
        self.emit(options, [p.as_dict() for p in polls], text)
        failed = [p.source for p in polls if p.error]
        failed += [f"{p.source}/{f.name}" for p in polls for f in p.files if f.error]
        if failed:
            raise CommandError(
                _("Some drop folders or files failed: %(names)s") % {"names": ", ".join(failed)}
            )
