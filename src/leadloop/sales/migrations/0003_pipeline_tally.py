"""Running totals of the whole floor's pipeline (sales.models.PipelineTally), kept by triggers.

Each trigger adds rows for one changed lead or quote: minus what it counted before, plus what
it counts after (a lead counts on the board while it is unmerged and assigned, contacted or
quoted; its current quote counts in the forecast then). The same statements run on SQLite (in
the trigger's body) and PostgreSQL (in a plpgsql function per trigger); only the null-safe
comparison and the month's format differ. An update that changes nothing the totals count adds
nothing. The totals are filled from the existing leads here, in the same transaction.

The statuses are written out as they were when this was written; a change to the board's
stages needs a migration that replaces these triggers (tests/sales/test_tally.py compares the
totals with the leads after every kind of change).
"""

from django.db import migrations, models

LEAD = "leads_lead"
QUOTE = "sales_quote"
TALLY = "sales_pipelinetally"
COLUMNS = "kind, status, source_id, owner_id, month, currency, entries, priced, weighted, best"
STAGES = "('assigned', 'contacted', 'quoted')"

VENDORS = {
    "sqlite": {"ne": "IS NOT", "month": "strftime('%Y-%m', {})"},
    "postgresql": {"ne": "IS DISTINCT FROM", "month": "to_char({}, 'YYYY-MM')"},
}


def _on_board(row):
    return f"({row}.merged_into_id IS NULL AND {row}.status IN {STAGES})"


def _cents(amount):
    return f"CAST(ROUND({amount} * 100) AS BIGINT)"


def _board(row, sign):
    priced = f"{row}.potential_revenue IS NOT NULL AND {row}.probability IS NOT NULL"
    return (
        f"INSERT INTO {TALLY} ({COLUMNS}) SELECT 'board', {row}.status, {row}.source_id, NULL,"
        f" NULL, {row}.currency, {sign}, {sign} * (CASE WHEN {priced} THEN 1 ELSE 0 END),"
        f" {sign} * {_cents(f'{row}.potential_revenue')} * {row}.probability, NULL"
        f" WHERE {_on_board(row)};"
    )


def _quote_values(quote, owner, sign, vendor):
    month = VENDORS[vendor]["month"].format(f"{quote}.expected_close_on")
    cents = _cents(f"{quote}.amount")
    return (
        f"'forecast', NULL, NULL, {owner}, {month}, {quote}.currency, {sign}, {sign},"
        f" {sign} * {cents} * {quote}.probability, {sign} * {cents}"
    )


def _lead_quotes(row, sign, vendor):
    """The forecast rows of a lead's current quote, as the lead `row` is."""
    return (
        f"INSERT INTO {TALLY} ({COLUMNS}) SELECT {_quote_values('q', f'{row}.assigned_to_id', sign, vendor)}"
        f" FROM {QUOTE} q WHERE q.lead_id = {row}.id AND q.is_current AND {_on_board(row)};"
    )


def _quote(row, sign, vendor):
    """The forecast row of a quote `row`, if it is current and its lead is on the board."""
    return (
        f"INSERT INTO {TALLY} ({COLUMNS}) SELECT {_quote_values(row, 'l.assigned_to_id', sign, vendor)}"
        f" FROM {LEAD} l WHERE l.id = {row}.lead_id AND {row}.is_current AND {_on_board('l')};"
    )


def _changed(columns, ne):
    return "(" + " OR ".join(f"OLD.{c} {ne} NEW.{c}" for c in columns) + ")"


def triggers(vendor):
    """(name, table, event, condition, body) of every trigger."""
    ne = VENDORS[vendor]["ne"]
    board_columns = ("status", "merged_into_id", "source_id", "currency")
    board_columns += ("potential_revenue", "probability")
    quote_columns = ("is_current", "lead_id", "amount", "probability", "currency")
    quote_columns += ("expected_close_on",)
    either = f"({_on_board('OLD')} OR {_on_board('NEW')})"
    return [
        (
            "sales_tally_lead_insert",
            LEAD,
            "INSERT",
            _on_board("NEW"),
            _board("NEW", 1) + _lead_quotes("NEW", 1, vendor),
        ),
        (
            "sales_tally_lead_board",
            LEAD,
            "UPDATE",
            f"{either} AND {_changed(board_columns, ne)}",
            _board("OLD", -1) + _board("NEW", 1),
        ),
        (
            "sales_tally_lead_forecast",
            LEAD,
            "UPDATE",
            f"{either} AND ({_on_board('OLD')} {ne} {_on_board('NEW')}"
            f" OR OLD.assigned_to_id {ne} NEW.assigned_to_id)",
            _lead_quotes("OLD", -1, vendor) + _lead_quotes("NEW", 1, vendor),
        ),
        (
            "sales_tally_lead_delete",
            LEAD,
            "DELETE",
            _on_board("OLD"),
            _board("OLD", -1) + _lead_quotes("OLD", -1, vendor),
        ),
        ("sales_tally_quote_insert", QUOTE, "INSERT", "NEW.is_current", _quote("NEW", 1, vendor)),
        (
            "sales_tally_quote_update",
            QUOTE,
            "UPDATE",
            f"(OLD.is_current OR NEW.is_current) AND {_changed(quote_columns, ne)}",
            _quote("OLD", -1, vendor) + _quote("NEW", 1, vendor),
        ),
        ("sales_tally_quote_delete", QUOTE, "DELETE", "OLD.is_current", _quote("OLD", -1, vendor)),
    ]


def fill(vendor):
    """The totals of the leads as they are."""
    month = VENDORS[vendor]["month"].format("q.expected_close_on")
    priced = "l.potential_revenue IS NOT NULL AND l.probability IS NOT NULL"
    return [
        f"INSERT INTO {TALLY} ({COLUMNS}) SELECT 'board', l.status, l.source_id, NULL, NULL,"
        f" l.currency, COUNT(*), SUM(CASE WHEN {priced} THEN 1 ELSE 0 END),"
        f" SUM({_cents('l.potential_revenue')} * l.probability), NULL FROM {LEAD} l"
        f" WHERE {_on_board('l')} GROUP BY l.status, l.source_id, l.currency",
        f"INSERT INTO {TALLY} ({COLUMNS}) SELECT 'forecast', NULL, NULL, l.assigned_to_id,"
        f" {month}, q.currency, COUNT(*), COUNT(*), SUM({_cents('q.amount')} * q.probability),"
        f" SUM({_cents('q.amount')}) FROM {LEAD} l JOIN {QUOTE} q ON q.lead_id = l.id"
        f" WHERE q.is_current AND {_on_board('l')} GROUP BY l.assigned_to_id, {month}, q.currency",
    ]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in VENDORS:
        raise RuntimeError(f"No pipeline totals for {vendor}; add its triggers here.")
    for name, table, event, condition, body in triggers(vendor):
        if vendor == "sqlite":
            schema_editor.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW"
                f" WHEN {condition} BEGIN {body} END",
                params=None,
            )
        else:
            schema_editor.execute(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$"
                f" BEGIN {body} RETURN NULL; END $$",
                params=None,
            )
            schema_editor.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW"
                f" WHEN ({condition}) EXECUTE FUNCTION {name}()",
                params=None,
            )
    for sql in fill(vendor):
        schema_editor.execute(sql, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name, table, _event, _condition, _body in triggers(vendor):
        if vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", params=None)
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}", params=None)
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("sales", "0002_sla_target_unique_everywhere"),
        ("leads", "0023_manager_lists_and_forecast"),
    ]

    operations = [
        migrations.CreateModel(
            name="PipelineTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=8)),
                ("status", models.CharField(max_length=20, null=True)),
                ("source_id", models.BigIntegerField(null=True)),
                ("owner_id", models.BigIntegerField(null=True)),
                ("month", models.CharField(max_length=7, null=True)),
                ("currency", models.CharField(max_length=3)),
                ("entries", models.IntegerField()),
                ("priced", models.IntegerField()),
                ("weighted", models.BigIntegerField(null=True)),
                ("best", models.BigIntegerField(null=True)),
            ],
        ),
        migrations.RunPython(forward, backward),
    ]
