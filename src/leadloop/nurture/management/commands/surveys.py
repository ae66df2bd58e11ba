"""`leadloop surveys list` and `leadloop surveys link <lead-id> <survey>` (a telemarketer's or a
test's link to a lead's survey page)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.accounts.actors import CLI
from leadloop.core.commands import LeadloopCommand
from leadloop.nurture.surveys import selectors
from leadloop.nurture.surveys import services as surveys


class Command(LeadloopCommand):
    help = (
        "Surveys: list shows every survey; link LEAD_ID SURVEY prints a fresh link to the "
        "survey's page for that lead (SURVEY: its id or name)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", choices=["list", "link"])
        parser.add_argument("lead_id", nargs="?", type=int)
        parser.add_argument("survey", nargs="?", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            rows = [
                {
                    "id": s.pk,
                    "name": s.name,
                    "is_active": s.is_active,
                    "questions": s.question_count,  # type: ignore[attr-defined]
                    "answered": s.answer_count,  # type: ignore[attr-defined]
                }
                for s in selectors.list_surveys(CLI)
            ]
            lines = [
                f"{r['id']:>5}  {r['name']}  ({r['questions']} questions, {r['answered']} "
                f"answered{'' if r['is_active'] else ', off'})"
                for r in rows
            ]
            self.emit(options, rows, "\n".join(lines) if lines else "No surveys yet.")
            return
        if options["lead_id"] is None or not options["survey"]:
            raise CommandError("usage: leadloop surveys link LEAD_ID SURVEY")
        survey = selectors.find_survey(CLI, options["survey"])
        url = surveys.link_for(CLI, lead_id=options["lead_id"], survey_id=survey.pk)
        days = surveys.link_lifetime().days
        self.emit(options, {"url": url, "expires_in_days": days}, url)
