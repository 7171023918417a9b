"""What voting freezes, the database keeps frozen (the services check it too):

- a vote that has left draft never goes back to draft, and its `secret` and `hide_results`
  flags can no longer change (so neither can be relaxed);
- the electorate (`Entitlement` rows: vote, key, area, head) is neither added to nor changed
  once its vote has left draft;
- a ballot of a secret vote never names its participation.

A CHECK constraint cannot compare a row with its previous version, hence triggers. Deleting
stays possible (test flushes; a vote is never deleted by the application once open).
"""

from django.db import migrations

FROZEN = "secrecy and hidden results are frozen once voting opens"
BACK_TO_DRAFT = "a vote that has opened cannot return to draft"
ELECTORATE = "the electorate is frozen once voting opens"
SECRET_LINK = "a secret ballot names no participation"

SQLITE_UP = [
    f"""CREATE TRIGGER votes_vote_frozen_flags BEFORE UPDATE OF secret, hide_results, state
        ON votes_vote
        WHEN OLD.state <> 'draft' AND (NEW.secret <> OLD.secret
             OR NEW.hide_results <> OLD.hide_results OR NEW.state = 'draft')
        BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
    f"""CREATE TRIGGER votes_entitlement_frozen_insert BEFORE INSERT ON votes_entitlement
        WHEN (SELECT state FROM votes_vote WHERE id = NEW.vote_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{ELECTORATE}'); END""",
    f"""CREATE TRIGGER votes_entitlement_frozen_update
        BEFORE UPDATE OF vote_id, key, area, head ON votes_entitlement
        WHEN (SELECT state FROM votes_vote WHERE id = OLD.vote_id) <> 'draft'
          OR (SELECT state FROM votes_vote WHERE id = NEW.vote_id) <> 'draft'
        BEGIN SELECT RAISE(ABORT, '{ELECTORATE}'); END""",
    f"""CREATE TRIGGER votes_ballot_secret_insert BEFORE INSERT ON votes_ballot
        WHEN NEW.participation_id IS NOT NULL
          AND (SELECT secret FROM votes_vote WHERE id = NEW.vote_id)
        BEGIN SELECT RAISE(ABORT, '{SECRET_LINK}'); END""",
    f"""CREATE TRIGGER votes_ballot_secret_update BEFORE UPDATE OF participation_id, vote_id
        ON votes_ballot
        WHEN NEW.participation_id IS NOT NULL
          AND (SELECT secret FROM votes_vote WHERE id = NEW.vote_id)
        BEGIN SELECT RAISE(ABORT, '{SECRET_LINK}'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS votes_vote_frozen_flags",
    "DROP TRIGGER IF EXISTS votes_entitlement_frozen_insert",
    "DROP TRIGGER IF EXISTS votes_entitlement_frozen_update",
    "DROP TRIGGER IF EXISTS votes_ballot_secret_insert",
    "DROP TRIGGER IF EXISTS votes_ballot_secret_update",
]
POSTGRES_UP = [
    f"""CREATE OR REPLACE FUNCTION votes_vote_frozen() RETURNS trigger AS $$
        BEGIN
          IF OLD.state <> 'draft' AND NEW.state = 'draft' THEN
            RAISE EXCEPTION '{BACK_TO_DRAFT}';
          END IF;
          IF OLD.state <> 'draft' AND (NEW.secret IS DISTINCT FROM OLD.secret
              OR NEW.hide_results IS DISTINCT FROM OLD.hide_results) THEN
            RAISE EXCEPTION '{FROZEN}';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER votes_vote_frozen BEFORE UPDATE ON votes_vote
       FOR EACH ROW EXECUTE FUNCTION votes_vote_frozen()""",
    f"""CREATE OR REPLACE FUNCTION votes_entitlement_frozen() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND NEW.vote_id IS NOT DISTINCT FROM OLD.vote_id
             AND NEW.key IS NOT DISTINCT FROM OLD.key AND NEW.area IS NOT DISTINCT FROM OLD.area
             AND NEW.head IS NOT DISTINCT FROM OLD.head THEN
            RETURN NEW;  -- a register link set to NULL (SET_NULL) is not a change of the list
          END IF;
          IF (SELECT state FROM votes_vote WHERE id = NEW.vote_id) <> 'draft'
             OR (TG_OP = 'UPDATE'
                 AND (SELECT state FROM votes_vote WHERE id = OLD.vote_id) <> 'draft') THEN
            RAISE EXCEPTION '{ELECTORATE}';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER votes_entitlement_frozen BEFORE INSERT OR UPDATE ON votes_entitlement
       FOR EACH ROW EXECUTE FUNCTION votes_entitlement_frozen()""",
    f"""CREATE OR REPLACE FUNCTION votes_ballot_secret() RETURNS trigger AS $$
        BEGIN
          IF NEW.participation_id IS NOT NULL
             AND (SELECT secret FROM votes_vote WHERE id = NEW.vote_id) THEN
            RAISE EXCEPTION '{SECRET_LINK}';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER votes_ballot_secret BEFORE INSERT OR UPDATE ON votes_ballot
       FOR EACH ROW EXECUTE FUNCTION votes_ballot_secret()""",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS votes_vote_frozen ON votes_vote",
    "DROP FUNCTION IF EXISTS votes_vote_frozen()",
    "DROP TRIGGER IF EXISTS votes_entitlement_frozen ON votes_entitlement",
    "DROP FUNCTION IF EXISTS votes_entitlement_frozen()",
    "DROP TRIGGER IF EXISTS votes_ballot_secret ON votes_ballot",
    "DROP FUNCTION IF EXISTS votes_ballot_secret()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("votes", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]
