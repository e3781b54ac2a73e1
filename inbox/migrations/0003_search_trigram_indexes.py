"""Trigram indexes for the conversation search (`?q=`: a contact's name or a tag, any case, anywhere in it).

`selectors._filtered` searches with `icontains`, which PostgreSQL runs as `UPPER(col::text) LIKE UPPER('%q%')`:
no B-tree can serve a pattern with a leading wildcard, so a rare or absent name walked every conversation
(bench/inbox_scale.py: 450-580 ms at 100,000). GIN indexes of the trigrams of exactly that expression
(`pg_trgm`) answer it from the index.

PostgreSQL only: the extension and GIN indexes don't exist elsewhere, so on SQLite (the demo, the default
tests) this migration does nothing and the search stays a plain scan there. The indexes are not in the models'
Meta for the same reason (Django would try to build them on SQLite); see the comment there.
"""
from django.db import migrations

INDEXES = {
    "contact_name_trgm_idx": "inbox_contact USING gin (UPPER(display_name) gin_trgm_ops)",
    "tag_name_trgm_idx": "inbox_tag USING gin (UPPER(name) gin_trgm_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it without superuser.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    # The extension stays: other objects may use it, and it costs nothing.


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0002_bench_indexes"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
