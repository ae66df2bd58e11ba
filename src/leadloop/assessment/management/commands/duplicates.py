from __future__ import annotations

import argparse
import csv
import datetime as dt
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db.models import QuerySet
from django.utils import timezone

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.dedup import matching as dedup
from leadloop.assessment.dedup.matching.model import MIN_PAIRS
from leadloop.assessment.dedup.services import refit_match_model
from leadloop.core.commands import LeadloopCommand
from leadloop.leads.exports import neutralise
from leadloop.leads.models import Campaign, Lead, LeadStatus, Source

HEADER = [
    "pair_id",
    "lead_id",
    "lead_name",
    "lead_email",
    "other_id",
    "other_name",
    "other_email",
    "score",
    "reasons",
    # Each lead's own reference at its source and the source: a scan of one import can be
    # checked against the sender's ids.
    "lead_ref",
    "lead_source",
    "other_ref",
    "other_source",
]


def _score(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {value!r}")
    return number


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a date like 2026-12-31, not {value!r}") from None


def _selection(options: dict[str, Any]) -> QuerySet[Lead] | None:
    """The leads the options select, or None for every lead; CommandError for unknown names."""
    leads = Lead.objects.all()
    selected = False
    if options["source"]:
        sources = list(Source.objects.filter(name__in=options["source"]))
        unknown = sorted(set(options["source"]) - {s.name for s in sources})
        if unknown:
            raise CommandError(f"No source named {', '.join(unknown)}.")
        leads, selected = leads.filter(source__in=sources), True
    if options["campaign"]:
        campaigns = Campaign.objects.filter(name__iexact=options["campaign"])
        if not campaigns.exists():
            raise CommandError(f"No campaign named {options['campaign']}.")
        leads, selected = leads.filter(campaign__in=campaigns), True
    if options["status"]:
        leads, selected = leads.filter(status__in=options["status"]), True
    zone = timezone.get_current_timezone()
    if options["created_from"]:
        start = dt.datetime.combine(options["created_from"], dt.time.min, tzinfo=zone)
        leads, selected = leads.filter(created_at__gte=start), True
    if options["created_to"]:
        end = dt.datetime.combine(options["created_to"] + dt.timedelta(days=1), dt.time.min, zone)
        leads, selected = leads.filter(created_at__lt=end), True
    if options["within"] and not selected:
        raise CommandError("--within needs a selection (--source, --campaign, --status, dates).")
    return leads if selected else None


class Command(LeadloopCommand):
    help = (
        "Duplicates: 'find' scans every lead (or those of --source, --campaign, --status, "
        "--created-from/--created-to) and keeps likely pairs for the duplicates screen "
        "(dismissed pairs stay dismissed); --export writes them to a CSV file. 'fit' learns the "
        "name-and-address match weights from the leads and from people's merges and dismissals."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", choices=["find", "fit"])
        parser.add_argument("--export", metavar="FILE.csv", help="Write the pairs found to a CSV.")
        parser.add_argument(
            "--min-score",
            type=_score,
            default=dedup.DUPLICATE_AT,
            help=f"Keep pairs scoring at least this (0–1; default {dedup.DUPLICATE_AT}).",
        )
        parser.add_argument(
            "--source", action="append", default=[], help="Only leads of this source (by name)."
        )
        parser.add_argument("--campaign", default="", help="Only leads of this campaign.")
        parser.add_argument(
            "--status", action="append", default=[], choices=LeadStatus.values,
            help="Only leads with this status; may be repeated.",
        )  # fmt: skip
        parser.add_argument("--created-from", type=_day, help="Created on or after (YYYY-MM-DD).")
        parser.add_argument("--created-to", type=_day, help="Created on or before (YYYY-MM-DD).")
        parser.add_argument(
            "--within",
            action="store_true",
            help="Keep only pairs whose both leads are selected (default: a selected lead "
            "against every lead).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "fit":
            self._fit(options)
            return
        began = time.perf_counter()
        selection = _selection(options)
        result, pairs = dedup.find_duplicate_pairs(
            min_score=options["min_score"], selection=selection, within=options["within"]
        )
        seconds = time.perf_counter() - began
        if options["export"]:
            self._export(options["export"], pairs)
        data = {
            "leads": result.leads,
            "pairs": result.pairs,
            "opened": result.opened,
            "updated": result.updated,
            "skipped_decided": result.skipped,
            "min_score": options["min_score"],
            "name_keys_filled": result.keys_filled,
            "selected": selection is not None,
            "within": options["within"],
            "seconds": round(seconds, 2),
            "export": options["export"] or None,
        }
        text = (
            f"Scanned {result.leads:,} leads in {seconds:.1f} s: {result.pairs:,} likely "
            f"duplicate pairs ({result.opened:,} new, {result.updated:,} still open, "
            f"{result.skipped:,} decided before and left alone)."
        )
        if result.keys_filled:
            text += (
                f"\nComputed the name key of {result.keys_filled:,} leads first (they had none, "
                "so the name blocks would have missed them)."
            )
        if options["export"]:
            text += f"\nWrote {len(pairs):,} pairs to {options['export']}."
        self.emit(options, data, text)

    def _fit(self, options: dict[str, Any]) -> None:
        began = time.perf_counter()
        row = refit_match_model(by=SYSTEM)
        seconds = time.perf_counter() - began
        data = {
            "pairs": row.pairs,
            "merges_used": row.labelled_matches,
            "dismissals_used": row.labelled_non_matches,
            "iterations": row.iterations,
            "converged": row.converged,
            "match_share": round(row.model["prior"], 4),
            "seconds": round(seconds, 2),
        }
        text = (
            f"Fitted the match weights on {row.pairs:,} candidate pairs "
            f"({row.labelled_matches:,} merges, {row.labelled_non_matches:,} dismissals) "
            f"in {row.iterations} iterations, {seconds:.1f} s."
        )
        if row.pairs < MIN_PAIRS:
            text += f" Too few pairs to fit (at least {MIN_PAIRS}): the weights stay as they were."
        self.emit(options, data, text)

    def _export(self, path: str, pairs: list[Any]) -> None:
        ids = {pk for pair in pairs for pk in (pair.lead_id, pair.other_id)}
        people = {
            pk: (f"{first} {last}".strip(), email, ref, source)
            for pk, first, last, email, ref, source in Lead.objects.filter(pk__in=ids).values_list(
                "pk", "first_name", "last_name", "email", "external_ref", "source__name"
            )
        }
        try:
            handle = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror}.") from exc
        with handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for pair in sorted(pairs, key=lambda p: (-p.score, p.lead_id, p.other_id)):
                name, email, ref, source = people.get(pair.lead_id, ("", "", "", ""))
                other_name, other_email, other_ref, other_source = people.get(
                    pair.other_id, ("", "", "", "")
                )
                writer.writerow(
                    [
                        pair.pk,
                        pair.lead_id,
                        neutralise(name),
                        neutralise(email),
                        pair.other_id,
                        neutralise(other_name),
                        neutralise(other_email),
                        f"{pair.score:.3f}",
                        neutralise("; ".join(pair.reasons)),
                        neutralise(ref),
                        neutralise(source),
                        neutralise(other_ref),
                        neutralise(other_source),
                    ]
                )
