from django.core.management.base import BaseCommand, CommandError

from linli.funds.selectors import ledger_verify


class Command(BaseCommand):
    help = "Fund ledger: `verify` that every transaction balances and every balance holds."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="check the whole ledger; exit 1 listing the problems, if any")

    def handle(self, *args, **options):
        problems = ledger_verify()
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(f"ledger BROKEN: {len(problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS("ledger OK: every transaction balances"))
