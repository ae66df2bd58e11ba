"""leadloop scoring train [--include FIELD ...] [--json]   fit the predictive model, score leads
leadloop scoring apply [--json]                            score every open lead again
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.predictive import services as predictive
from leadloop.core.commands import LeadloopCommand


class Command(LeadloopCommand):
    help = (
        "Train the predictive model on leads with a known outcome (won against lost or "
        "disqualified) and score every open lead, or score them again with the active model."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", choices=["train", "apply"])
        parser.add_argument(
            "--include",
            action="append",
            default=[],
            metavar="FIELD",
            help="Use a field the leakage check leaves out (e.g. extra.contract_number, "
            "activity.call); may be given more than once.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "apply":
            scored = predictive.score_all_leads()
            text = (
                f"Scored {scored} open leads."
                if predictive.get_active_model(SYSTEM)
                else "No predictive model is active yet: run 'leadloop scoring train' first."
            )
            self.emit(options, {"scored": scored}, text)
            return
        model, scored = predictive.train_and_score(by=SYSTEM, include=options["include"])
        report = model.report
        self.emit(
            options,
            {"model_id": model.pk, "scored": scored, "report": report},
            "\n".join(summary_lines(report, model_id=model.pk, scored=scored)),
        )


def summary_lines(report: dict[str, Any], *, model_id: int, scored: int) -> list[str]:
    """The report in a terminal: figures, lift, calibration, factors, exclusions, warnings."""
    counts = report["class_counts"]
    lines = [
        f"Model {model_id}: AUC {report['auc']:.3f} on {report['test_rows']} held-out leads "
        f"(trained on {report['train_rows']}).",
        f"History: {report['training_size']} closed leads: {counts.get('won', 0)} won, "
        f"{counts.get('lost', 0)} lost, {counts.get('disqualified', 0)} disqualified.",
        "",
        "Lift by decile (highest scores first):",
        *(
            f"  {row['decile']:>2}. {row['won']:>5}/{row['leads']:<5} won  "
            f"{100 * row['rate']:5.1f}%  lift {row['lift']:4.2f}  captured "
            f"{100 * row['captured']:5.1f}%"
            for row in report["lift"]
        ),
        "",
        "Calibration (predicted → observed):",
        *(
            f"  {row['low']:.1f}–{row['high']:.1f}: {100 * row['predicted']:5.1f}% → "
            f"{100 * row['observed']:5.1f}% ({row['leads']} leads)"
            for row in report["calibration"]
        ),
        "",
        "Factors:",
        *(f"  {predictive.factor_text(f, report)}" for f in report["factors"]),
        "",
        "Left out by the leakage check:",
        *(f"  {item['field']}: {predictive.flag_reason(item)}" for item in report["excluded"]),
    ]
    if not report["excluded"]:
        lines.append("  (none)")
    if report["included"]:
        lines += ["", "Included on request:"]
        lines += [
            f"  {item['field']}: {predictive.flag_reason(item)}" for item in report["included"]
        ]
    for warning in report["warnings"]:
        if warning["code"] == "too_good":
            lines += ["", f"WARNING: {predictive.warning_text(warning)}"]
    lines += ["", f"Scored {scored} open leads."]
    return lines
