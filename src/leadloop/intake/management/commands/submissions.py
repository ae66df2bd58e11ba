from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.accounts.actors import SYSTEM
from leadloop.core.commands import LeadloopCommand
from leadloop.intake import selectors, services
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.leads import selectors as leads_selectors


def _row(s: RawSubmission) -> dict[str, Any]:
    return {
        "id": s.pk,
        "source": s.source.name,
        "channel": s.channel,
        "received_at": s.received_at.isoformat(),
        "state": s.state,
        "disposition": s.disposition,
        "lead_id": s.lead_id,
        "reasons": [r.get("message", "") for r in s.reasons],
    }


class Command(LeadloopCommand):
    help = "The intake queue: list, show (with the raw original) and reprocess submissions."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", choices=["list", "show", "reprocess"])
        parser.add_argument("id", nargs="?", type=int, help="A submission id (show, reprocess).")
        parser.add_argument("--state", choices=SubmissionState.values)
        parser.add_argument("--source", help="A source's name (list; reprocess all of it).")
        parser.add_argument("--limit", type=int, default=50)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        source = (
            leads_selectors.get_source_by_name(SYSTEM, options["source"])
            if options["source"]
            else None
        )
        if action == "list":
            page = selectors.list_submissions(
                SYSTEM,
                state=options["state"],
                source_id=source.pk if source else None,
                limit=options["limit"],
            )
            rows = [_row(s) for s in page.items]
            lines = [
                f"{r['id']:>7}  {r['received_at'][:19]}  {r['source']:<24} {r['state']:<11} "
                f"{'; '.join(r['reasons'])[:60]}"
                for r in rows
            ]
            self.emit(options, rows, "\n".join(lines) or "No submissions.")
            return
        if action == "reprocess" and source is not None and options["id"] is None:
            states = [options["state"]] if options["state"] else None
            outcome = services.reprocess_all(source, by=SYSTEM, states=states)
            text = ", ".join(f"{n} {state}" for state, n in outcome.items()) or "nothing to do"
            self.emit(options, outcome, f"Reprocessed {source.name}: {text}.")
            return
        if options["id"] is None:
            raise CommandError(f"'submissions {action}' needs a submission id.")
        submission = selectors.get_submission_for(SYSTEM, options["id"])
        if action == "reprocess":
            submission = services.reprocess(submission, by=SYSTEM)
            self.emit(options, _row(submission), f"Submission {submission.pk}: {submission.state}.")
            return
        body = selectors.read_body(submission)
        data = {**_row(submission), "fields": submission.fields, "body": body.text}
        self.emit(
            options,
            data,
            f"Submission {submission.pk} from {submission.source.name} ({submission.channel}), "
            f"{submission.state}\n{'; '.join(_row(submission)['reasons'])}\n\n{body.text}",
        )
