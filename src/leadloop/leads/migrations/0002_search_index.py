"""The lead search index: FTS5 on SQLite, a trigram GIN index on PostgreSQL.

Both read `lead.search_text` (" tok1 tok2 …", built by leads.normalize.build_search_text), so a
word-prefix query means the same on either database.
"""

from django.db import migrations

SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE leads_lead_fts USING fts5(
        search_text, content='leads_lead', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3'
    )""",
    """CREATE TRIGGER leads_lead_fts_ai AFTER INSERT ON leads_lead BEGIN
        INSERT INTO leads_lead_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    """CREATE TRIGGER leads_lead_fts_ad AFTER DELETE ON leads_lead BEGIN
        INSERT INTO leads_lead_fts(leads_lead_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END""",
    """CREATE TRIGGER leads_lead_fts_au AFTER UPDATE OF search_text ON leads_lead BEGIN
        INSERT INTO leads_lead_fts(leads_lead_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO leads_lead_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS leads_lead_fts_au",
    "DROP TRIGGER IF EXISTS leads_lead_fts_ad",
    "DROP TRIGGER IF EXISTS leads_lead_fts_ai",
    "DROP TABLE IF EXISTS leads_lead_fts",
]
POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS lead_search_trgm ON leads_lead USING gin (search_text gin_trgm_ops)",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS lead_search_trgm"]


def forward(apps, schema_editor):
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(
        schema_editor.connection.vendor, []
    )
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
