"""Writing validated rows: leads in bulk through the leads writer, rejects to the report."""

from __future__ import annotations

import csv
import logging
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.intake.imports.bulk.rows import SAMPLE_REJECTS, ImportReport, RejectedRow, _reason
from leadloop.intake.models import ImportBatch
from leadloop.leads import services as leads_services
from leadloop.leads.exports import neutralise
from leadloop.leads.models import (
    Campaign,
    Lead,
    Source,
)

logger = logging.getLogger(__name__)


# --- Writing -------------------------------------------------------------------------------------


class _Writer:
    """Writes validated chunks: references, duplicates, ids, leads, timeline, report."""

    def __init__(
        self,
        *,
        source: Source,
        campaign: Campaign | None,
        batch: ImportBatch | None,
        sha256: str,
        owner: Actor,
        headers: list[str],
        report: ImportReport,
        report_file: IO[str] | None,
        dry_run: bool,
    ) -> None:
        self.source = source
        self.campaign = campaign
        self.batch = batch
        self.ref_prefix = f"import:{sha256[:16]}:"
        self.by = owner
        self.owner = leads_services.owner_columns(owner)
        self.report = report
        self.dry_run = dry_run
        self.seen_refs: set[str] = set()  # references the file itself gave, to catch repeats
        self.campaigns: dict[str, int | None] = {}
        self.report_file = report_file
        self.report_writer = csv.writer(report_file, quoting=csv.QUOTE_ALL) if report_file else None
        if self.report_writer:
            self.report_writer.writerow([_("row"), _("reasons"), *map(neutralise, headers)])

    def write(self, rows: list[tuple[int, list[str]]], results: list[tuple[Any, ...]]) -> None:
        cells_of = dict(rows)
        accepted: list[tuple[int, dict[str, Any], list[dict[str, str]]]] = []
        for result in results:
            if result[0] == "rejected":
                self._reject(result[1], result[2], cells_of[result[1]])
                continue
            _ok, number, values, campaign_name, warnings = result
            ref = values.get("external_ref") or ""
            if ref:
                if ref in self.seen_refs:
                    reason = _reason(
                        "repeated_ref",
                        _("This reference appears earlier in the file."),
                        "external_ref",
                    )
                    self._reject(number, [reason], cells_of[number])
                    continue
                self.seen_refs.add(ref)
            else:
                values["external_ref"] = f"{self.ref_prefix}{number}"
            values["campaign_id"] = self._campaign_id(campaign_name)
            accepted.append((number, values, warnings))
        existing = self._existing_refs([v["external_ref"] for _n, v, _w in accepted])
        fresh = [item for item in accepted if item[1]["external_ref"] not in existing]
        self.report.duplicates += len(accepted) - len(fresh)
        self.report.set_aside += sum(1 for _n, _v, w in fresh if w)
        self.report.created += len(fresh)
        if self.dry_run or not fresh:
            self._save_counts()
            return
        with transaction.atomic():
            leads_services.insert_new_leads(
                [values for _n, values, _w in fresh],
                source=self.source,
                by=self.by,
                owner=self.owner,
                notes=[
                    {"import_batch": self.batch_id, "row": number}
                    | ({"status": v["status"]} if "status" in v else {})
                    for number, v, _w in fresh
                ],
                at=timezone.now(),
            )
            self._save_counts()

    @property
    def batch_id(self) -> int | None:
        return self.batch.pk if self.batch else None

    def _campaign_id(self, name: str) -> int | None:
        if not name:
            return self.campaign.pk if self.campaign else None
        key = name.casefold()
        if key not in self.campaigns:
            found = Campaign.objects.filter(source=self.source, name__iexact=name).first()
            self.campaigns[key] = found.pk if found else None
        return self.campaigns[key] or (self.campaign.pk if self.campaign else None)

    def _existing_refs(self, refs: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(refs), 2_000):
            part = refs[start : start + 2_000]
            # exclude(external_ref="") repeats the unique index's condition, so the database
            # can answer from that partial index instead of scanning the source's leads.
            found.update(
                Lead.objects.filter(source=self.source, external_ref__in=part)
                .exclude(external_ref="")
                .values_list("external_ref", flat=True)
            )
        return found

    def _reject(self, number: int, reasons: list[dict[str, str]], cells: list[str]) -> None:
        self.report.rejected += 1
        if len(self.report.rejected_sample) < SAMPLE_REJECTS:
            self.report.rejected_sample.append(RejectedRow(number, reasons, cells))
        if self.report_writer:
            text = "; ".join(
                f"{r['field']}: {r['message']}" if r.get("field") else r["message"] for r in reasons
            )
            self.report_writer.writerow([number, neutralise(text), *map(neutralise, cells)])

    def _save_counts(self) -> None:
        if self.batch is None:
            return
        self.batch.rows_read = self.report.rows_read
        self.batch.rows_created = self.report.created
        self.batch.rows_duplicate = self.report.duplicates
        self.batch.rows_rejected = self.report.rejected
        self.batch.rows_set_aside = self.report.set_aside
        self.batch.save(
            update_fields=[
                "rows_read", "rows_created", "rows_duplicate", "rows_rejected", "rows_set_aside",
            ]
        )  # fmt: skip
