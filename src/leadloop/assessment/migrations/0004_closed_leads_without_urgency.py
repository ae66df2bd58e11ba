"""Take the contact urgency out of the stored priority of leads that are already closed.

Before this, `Lead.priority` (what "Highest priority" sorts by) was derived only when the
assessment ran, so a lead that was won, lost or disqualified afterwards kept its old "sla" part
and stayed at the top of a rep's list. `leads.services.transition` now derives the priority again
on every status move; this fixes the rows closed before that.

The formula is copied here as it stood (leadloop.assessment.priority, without the "sla" part a
closed lead no longer has), so a later change to the app's code cannot change what this migration
did. Only assessed leads are touched: an unassessed one gets its priority from the pending
assessment. Reversing leaves the rows as they are (the old urgency was wrong).
"""

import math

from django.db import migrations

CLOSED_STATUSES = ("won", "lost", "disqualified")
GRADE_POINTS = {"A": 400, "B": 300, "C": 150, "D": 50, "": 100}
FIELDS = (
    "pk",
    "fit_grade",
    "engagement_score",
    "predictive_score",
    "potential_revenue",
    "fraud_score",
    "hold",
    "priority",
    "assessment",
)


def closed_priority(lead):
    """The priority of a closed lead and its parts: every part but the contact urgency."""
    parts = {"grade": GRADE_POINTS.get(lead.fit_grade, 100)}
    parts["engagement"] = max(0, min(lead.engagement_score, 100)) * 2
    if lead.predictive_score is not None:
        parts["predicted"] = round(max(0.0, min(lead.predictive_score, 1.0)) * 200)
    value = lead.potential_revenue
    if value is not None and value > 0:
        parts["value"] = min(100, round(20 * math.log10(float(value))))
    if lead.fraud_score:
        parts["fraud"] = -2 * lead.fraud_score
    if lead.hold:
        parts["hold"] = -200
    return sum(parts.values()), {k: v for k, v in parts.items() if v}


def forget_closed_urgency(apps, schema_editor, batch=1000):
    """Derive the priority of every assessed closed lead again; returns how many rows changed."""
    Lead = apps.get_model("leads", "Lead")
    closed = Lead.objects.filter(status__in=CLOSED_STATUSES, assessed_at__isnull=False)
    changed = []
    count = 0
    for lead in closed.only(*FIELDS).order_by("pk").iterator(chunk_size=batch):
        priority, parts = closed_priority(lead)
        assessment = lead.assessment
        if isinstance(assessment, dict):
            assessment = {**assessment, "priority": parts}
        if priority == lead.priority and assessment == lead.assessment:
            continue
        lead.priority, lead.assessment = priority, assessment
        changed.append(lead)
        if len(changed) >= batch:
            count += Lead.objects.bulk_update(changed, ["priority", "assessment"])
            changed = []
    if changed:
        count += Lead.objects.bulk_update(changed, ["priority", "assessment"])
    return count


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0003_match_weights"),
        ("leads", "0015_lead_address_key"),
    ]

    operations = [
        migrations.RunPython(forget_closed_urgency, migrations.RunPython.noop, elidable=True),
    ]
