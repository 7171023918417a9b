"""The transition log is append-only: the database refuses UPDATE (metrics are recomputed from
it, so a rewritten step would silently change every figure). Deleting stays possible for the
retention purge and test flushes; rows are never deleted by the application."""

from django.db import migrations

SQLITE_UP = [
    """CREATE TRIGGER workorders_transition_no_update BEFORE UPDATE ON workorders_transition
       BEGIN SELECT RAISE(ABORT, 'work-order transitions are append-only'); END""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS workorders_transition_no_update"]
POSTGRES_UP = [
    """CREATE OR REPLACE FUNCTION workorders_transition_guard() RETURNS trigger AS $$
       BEGIN
         RAISE EXCEPTION 'work-order transitions are append-only';
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER workorders_transition_guard BEFORE UPDATE ON workorders_transition
       FOR EACH ROW EXECUTE FUNCTION workorders_transition_guard()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS workorders_transition_guard ON workorders_transition",
    "DROP FUNCTION IF EXISTS workorders_transition_guard()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("workorders", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]
