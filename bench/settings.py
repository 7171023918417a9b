"""Settings for the benchmark server: the app's own settings plus the bench-only URLconf.

Everything else (database, DEBUG, hosts, cache …) still comes from the environment through
linli/settings.py; bench/run.py sets those variables.
"""

from linli.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# Notifications still land in the inboxes; the console sender would print one line per voter.
LINLI_NOTIFY_SENDERS: list[str] = []
