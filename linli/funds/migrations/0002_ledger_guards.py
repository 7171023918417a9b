"""What the ledger must hold, the database holds (the services check it too):

- entries, transactions, accounts and year closes are append-only: no UPDATE, no DELETE
  (corrections are reversing transactions); a fund keeps its place and kind, a commitment its
  fund and amount;
- an entry goes only into an account of the transaction's place, never into a year its fund has
  closed, never into a transaction that already has its declared number of entries;
- the entry completing a transaction must leave every fund in it balanced (entries sum to zero)
  and the debits equal to the declared amount. On PostgreSQL a deferred constraint trigger
  also refuses, at commit, a transaction with fewer entries than declared; on SQLite that case
  is reported by `linli ledger verify`.

Sums are taken in whole fen (ROUND(amount * 100)) on SQLite, which stores decimals as floats.
Flushing test databases still works: PostgreSQL flushes with TRUNCATE, which row triggers do not
see (SQLite suites never flush these tables: see tests/e2e/conftest.py for the audit trail's way).
"""

from django.db import migrations

APPEND_ONLY = "ledger rows are append-only: correct by a reversing transaction"
FROZEN = "a fund keeps its place and kind, a commitment its fund and amount"
OTHER_PLACE = "an entry must be on an account of the place of its transaction"
CLOSED_YEAR = "this year is closed for the fund: nothing can be posted into it"
COMPLETE = "the transaction already has all its declared entries"
UNBALANCED = "the entries of the transaction do not balance within each fund or do not match its amount"
INCOMPLETE = "the transaction does not have all its declared entries"

APPEND_ONLY_TABLES = ("funds_entry", "funds_transaction", "funds_account", "funds_yearclose")

SQLITE_UP = [
    *(
        f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
            BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"""
        for table in APPEND_ONLY_TABLES
        for op in ("UPDATE", "DELETE")
    ),
    f"""CREATE TRIGGER funds_fund_frozen BEFORE UPDATE OF place_id, kind, path ON funds_fund
        WHEN NEW.place_id IS NOT OLD.place_id OR NEW.kind IS NOT OLD.kind
          OR NEW.path IS NOT OLD.path
        BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
    f"""CREATE TRIGGER funds_commitment_frozen BEFORE UPDATE OF fund_id, amount, path
        ON funds_commitment
        WHEN NEW.fund_id IS NOT OLD.fund_id OR NEW.amount IS NOT OLD.amount
          OR NEW.path IS NOT OLD.path
        BEGIN SELECT RAISE(ABORT, '{FROZEN}'); END""",
    f"""CREATE TRIGGER funds_entry_place BEFORE INSERT ON funds_entry
        WHEN (SELECT path FROM funds_account WHERE id = NEW.account_id)
          IS NOT (SELECT path FROM funds_transaction WHERE id = NEW.transaction_id)
        BEGIN SELECT RAISE(ABORT, '{OTHER_PLACE}'); END""",
    f"""CREATE TRIGGER funds_entry_closed_year BEFORE INSERT ON funds_entry
        WHEN EXISTS (
          SELECT 1 FROM funds_yearclose c
          JOIN funds_account a ON a.fund_id = c.fund_id
          JOIN funds_transaction t ON t.id = NEW.transaction_id
          WHERE a.id = NEW.account_id AND c.year = CAST(strftime('%Y', t.date) AS INTEGER))
        BEGIN SELECT RAISE(ABORT, '{CLOSED_YEAR}'); END""",
    f"""CREATE TRIGGER funds_entry_complete AFTER INSERT ON funds_entry
        WHEN (SELECT COUNT(*) FROM funds_entry WHERE transaction_id = NEW.transaction_id)
          > (SELECT entry_count FROM funds_transaction WHERE id = NEW.transaction_id)
        BEGIN SELECT RAISE(ABORT, '{COMPLETE}'); END""",
    f"""CREATE TRIGGER funds_entry_balanced AFTER INSERT ON funds_entry
        WHEN (SELECT COUNT(*) FROM funds_entry WHERE transaction_id = NEW.transaction_id)
          = (SELECT entry_count FROM funds_transaction WHERE id = NEW.transaction_id)
         AND (EXISTS (
               SELECT 1 FROM funds_entry e JOIN funds_account a ON a.id = e.account_id
               WHERE e.transaction_id = NEW.transaction_id
               GROUP BY a.fund_id HAVING SUM(ROUND(e.amount * 100)) <> 0)
           OR (SELECT SUM(ROUND(amount * 100)) FROM funds_entry
               WHERE transaction_id = NEW.transaction_id AND amount > 0)
              IS NOT (SELECT ROUND(amount * 100) FROM funds_transaction
                      WHERE id = NEW.transaction_id))
        BEGIN SELECT RAISE(ABORT, '{UNBALANCED}'); END""",
]
SQLITE_DOWN = [
    *(
        f"DROP TRIGGER IF EXISTS {table}_no_{op}"
        for table in APPEND_ONLY_TABLES
        for op in ("update", "delete")
    ),
    "DROP TRIGGER IF EXISTS funds_fund_frozen",
    "DROP TRIGGER IF EXISTS funds_commitment_frozen",
    "DROP TRIGGER IF EXISTS funds_entry_place",
    "DROP TRIGGER IF EXISTS funds_entry_closed_year",
    "DROP TRIGGER IF EXISTS funds_entry_complete",
    "DROP TRIGGER IF EXISTS funds_entry_balanced",
]

POSTGRES_UP = [
    f"""CREATE OR REPLACE FUNCTION funds_append_only() RETURNS trigger AS $$
        BEGIN
          RAISE EXCEPTION USING MESSAGE = '{APPEND_ONLY}: ' || TG_TABLE_NAME;
        END $$ LANGUAGE plpgsql""",
    *(
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION funds_append_only()"""
        for table in APPEND_ONLY_TABLES
    ),
    f"""CREATE OR REPLACE FUNCTION funds_fund_frozen() RETURNS trigger AS $$
        BEGIN
          IF NEW.place_id IS DISTINCT FROM OLD.place_id OR NEW.kind IS DISTINCT FROM OLD.kind
             OR NEW.path IS DISTINCT FROM OLD.path THEN
            RAISE EXCEPTION '{FROZEN}';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER funds_fund_frozen BEFORE UPDATE ON funds_fund
       FOR EACH ROW EXECUTE FUNCTION funds_fund_frozen()""",
    f"""CREATE OR REPLACE FUNCTION funds_commitment_frozen() RETURNS trigger AS $$
        BEGIN
          IF NEW.fund_id IS DISTINCT FROM OLD.fund_id OR NEW.amount IS DISTINCT FROM OLD.amount
             OR NEW.path IS DISTINCT FROM OLD.path THEN
            RAISE EXCEPTION '{FROZEN}';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER funds_commitment_frozen BEFORE UPDATE ON funds_commitment
       FOR EACH ROW EXECUTE FUNCTION funds_commitment_frozen()""",
    f"""CREATE OR REPLACE FUNCTION funds_entry_check() RETURNS trigger AS $$
        DECLARE
          txn_path varchar;
          txn_date date;
        BEGIN
          SELECT path, date INTO txn_path, txn_date
            FROM funds_transaction WHERE id = NEW.transaction_id;
          IF (SELECT path FROM funds_account WHERE id = NEW.account_id)
             IS DISTINCT FROM txn_path THEN
            RAISE EXCEPTION '{OTHER_PLACE}';
          END IF;
          IF EXISTS (
            SELECT 1 FROM funds_yearclose c JOIN funds_account a ON a.fund_id = c.fund_id
            WHERE a.id = NEW.account_id AND c.year = EXTRACT(YEAR FROM txn_date)) THEN
            RAISE EXCEPTION '{CLOSED_YEAR}';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER funds_entry_check BEFORE INSERT ON funds_entry
       FOR EACH ROW EXECUTE FUNCTION funds_entry_check()""",
    f"""CREATE OR REPLACE FUNCTION funds_entry_balanced() RETURNS trigger AS $$
        DECLARE
          declared integer;
          declared_amount numeric;
          present integer;
        BEGIN
          SELECT entry_count, amount INTO declared, declared_amount
            FROM funds_transaction WHERE id = NEW.transaction_id;
          SELECT COUNT(*) INTO present FROM funds_entry WHERE transaction_id = NEW.transaction_id;
          IF present > declared THEN
            RAISE EXCEPTION '{COMPLETE}';
          END IF;
          IF present = declared AND (
             EXISTS (SELECT 1 FROM funds_entry e JOIN funds_account a ON a.id = e.account_id
                     WHERE e.transaction_id = NEW.transaction_id
                     GROUP BY a.fund_id HAVING SUM(e.amount) <> 0)
             OR (SELECT SUM(amount) FROM funds_entry
                 WHERE transaction_id = NEW.transaction_id AND amount > 0)
                IS DISTINCT FROM declared_amount) THEN
            RAISE EXCEPTION '{UNBALANCED}';
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER funds_entry_balanced AFTER INSERT ON funds_entry
       FOR EACH ROW EXECUTE FUNCTION funds_entry_balanced()""",
    f"""CREATE OR REPLACE FUNCTION funds_transaction_complete() RETURNS trigger AS $$
        BEGIN
          IF (SELECT COUNT(*) FROM funds_entry WHERE transaction_id = NEW.id)
             <> NEW.entry_count THEN
            RAISE EXCEPTION '{INCOMPLETE}';
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql""",
    """CREATE CONSTRAINT TRIGGER funds_transaction_complete AFTER INSERT ON funds_transaction
       DEFERRABLE INITIALLY DEFERRED
       FOR EACH ROW EXECUTE FUNCTION funds_transaction_complete()""",
]
POSTGRES_DOWN = [
    *(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}" for table in APPEND_ONLY_TABLES),
    "DROP FUNCTION IF EXISTS funds_append_only()",
    "DROP TRIGGER IF EXISTS funds_fund_frozen ON funds_fund",
    "DROP FUNCTION IF EXISTS funds_fund_frozen()",
    "DROP TRIGGER IF EXISTS funds_commitment_frozen ON funds_commitment",
    "DROP FUNCTION IF EXISTS funds_commitment_frozen()",
    "DROP TRIGGER IF EXISTS funds_entry_check ON funds_entry",
    "DROP FUNCTION IF EXISTS funds_entry_check()",
    "DROP TRIGGER IF EXISTS funds_entry_balanced ON funds_entry",
    "DROP FUNCTION IF EXISTS funds_entry_balanced()",
    "DROP TRIGGER IF EXISTS funds_transaction_complete ON funds_transaction",
    "DROP FUNCTION IF EXISTS funds_transaction_complete()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        ),
    ]
