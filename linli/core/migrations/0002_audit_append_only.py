"""Database-level guard for the audit trail: no UPDATE ever, DELETE only past 180 days."""

from django.db import migrations

SQLITE_UP = [
    """CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER core_auditevent_no_early_delete BEFORE DELETE ON core_auditevent
       WHEN OLD.at > datetime('now', '-180 days')
       BEGIN SELECT RAISE(ABORT, 'audit events are kept at least 180 days'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_update",
    "DROP TRIGGER IF EXISTS core_auditevent_no_early_delete",
]
POSTGRES_UP = [
    """CREATE OR REPLACE FUNCTION core_auditevent_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' THEN
           RAISE EXCEPTION 'audit events are append-only';
         END IF;
         IF OLD.at > now() - interval '180 days' THEN
           RAISE EXCEPTION 'audit events are kept at least 180 days';
         END IF;
         RETURN OLD;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER core_auditevent_guard BEFORE UPDATE OR DELETE ON core_auditevent
       FOR EACH ROW EXECUTE FUNCTION core_auditevent_guard()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS core_auditevent_guard ON core_auditevent",
    "DROP FUNCTION IF EXISTS core_auditevent_guard()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]
