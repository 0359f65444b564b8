"""The full-text index of published government information (``egov.search``): character bigrams.

SQLite: an FTS5 table (``unicode61`` tokenizer over pre-split bigram text). PostgreSQL: a table with a
``tsvector`` of the same bigram text and a GIN index. No foreign key on PostgreSQL (``TRUNCATE`` of the
document table by test flushes must keep working); the services keep the rows in sync.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS egov_document_fts USING fts5(title, body, tokenize = 'unicode61')",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS egov_document_fts"]
PG_FORWARD = [
    "CREATE TABLE IF NOT EXISTS egov_document_search (document_id integer PRIMARY KEY, tsv tsvector NOT NULL)",
    "CREATE INDEX IF NOT EXISTS egov_document_search_tsv ON egov_document_search USING gin (tsv)",
]
PG_BACKWARD = ["DROP TABLE IF EXISTS egov_document_search"]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [("egov", "0001_initial")]

    operations = [
        migrations.RunPython(_run({"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}),
                             _run({"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD})),
    ]
