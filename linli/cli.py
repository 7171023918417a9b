"""`linli`: the operator's command, a thin wrapper over manage.py.

linli demo [--seed N]        load the demo street (once) and print its accounts
linli audit verify           check the audit trail's hash chain
linli audit purge [--days N] delete audit events older than the retention (>= 180 days)
linli ledger verify          check the fund ledger (balanced entries, no negative balances)
linli <any manage.py command>
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    from django.core.management import execute_from_command_line

    argv = sys.argv[1:]
    if argv and argv[0] in {"-h", "--help"}:
        print(__doc__)
        return
    execute_from_command_line(["linli", *argv])


if __name__ == "__main__":
    main()
