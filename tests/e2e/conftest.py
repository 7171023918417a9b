"""Browser tests: Playwright's sync API drives Debian's Chromium against pytest-django's
live server.

The live server runs in a thread of this process and shares the (transactional) test database, so
the data each test builds with the demo builder is what the browser sees.
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio loop in this thread; Django would refuse ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "Demo-pass-123!"
PHONE = {"width": 360, "height": 740}
ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """On SQLite, test against a database file, not memory.

    The live server's threads share the test database. An in-memory database in shared-cache
    mode locks whole tables and never waits, so a page that loads several things at once (an
    order page and its photos, each saving the sliding session) fails at random under load. A
    file database in WAL mode waits for the lock (busy_timeout) like the real deployment.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("e2e") / "db.sqlite3")


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Argon2 is the production hasher; these tests only need sign-in to work, quickly.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def _audit_cleanup(transactional_db):
    """Let the transactional flush empty the audit table after each test.

    On SQLite a trigger (core migration 0002) refuses DELETE of audit events younger than 180 days,
    and Django flushes SQLite tables with DELETE, so every test that records an audit event (all of
    them: building the street does) would fail at teardown. Drop the trigger, empty the table,
    and put the trigger back exactly as the migration wrote it. (PostgreSQL flushes with TRUNCATE,
    which row triggers do not see.)
    """
    yield
    from importlib import import_module

    from django.db import connection

    if connection.vendor != "sqlite":
        return
    migration = import_module("linli.core.migrations.0002_audit_append_only")
    with connection.cursor() as cursor:
        for sql in migration.SQLITE_DOWN:
            cursor.execute(sql)
        cursor.execute("DELETE FROM core_auditevent")
        for sql in migration.SQLITE_UP:
            cursor.execute(sql)


@pytest.fixture
def ledger_flushable(transactional_db):
    """Let the flush after a test that posted money empty the ledger's tables (SQLite).

    The ledger's triggers (funds migration 0002) refuse DELETE of entries, transactions,
    accounts and year closes, and Django flushes SQLite with DELETE. The triggers stay on for the
    whole test (they are part of what it exercises) and are dropped only at teardown, before the
    flush; the next test that asks for this fixture puts them back exactly as the migration wrote
    them. PostgreSQL flushes with TRUNCATE, which row triggers do not see.
    """
    from importlib import import_module

    from django.db import connection

    migration = import_module("linli.funds.migrations.0002_ledger_guards")
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        with connection.cursor() as cursor:
            for sql in [*migration.SQLITE_DOWN, *migration.SQLITE_UP]:
                cursor.execute(sql)
    yield
    if sqlite:
        with connection.cursor() as cursor:
            for sql in migration.SQLITE_DOWN:
                cursor.execute(sql)


@pytest.fixture
def world(live_server, _audit_cleanup, _fast_hashing):
    from linli.demo.builder import TEST_SIZE, build_street

    return build_street(seed=1, size=TEST_SIZE)


@pytest.fixture
def users(world):
    from linli.demo.builder import create_accounts, personas_for

    personas = personas_for(world)
    return create_accounts(personas, {p.key: PASSWORD for p in personas})


def _context(browser, **options):
    context = browser.new_context(locale="zh-CN", **options)
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(15_000)
    return context


@pytest.fixture
def page(browser):
    """A desktop page in a fresh context (no cookies shared between tests)."""
    context = _context(browser)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    """A 360×740 phone page in a fresh context."""
    context = _context(
        browser, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def results_dir():
    RESULTS.mkdir(exist_ok=True)
    return RESULTS


@pytest.fixture
def sign_in(live_server):
    """sign_in(page, username) fills the login form and submits it; returns the page."""

    def _sign_in(page, username: str, password: str = PASSWORD):
        if not page.url.startswith(f"{live_server.url}/accounts/login/"):
            page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("form button[type=submit].primary")
        return page

    return _sign_in
