from django.core.management.base import BaseCommand, CommandError

from linli.core.audit import audit_purge, audit_verify


class Command(BaseCommand):
    help = "Audit trail: `verify` the hash chain, or `purge` events past the retention period."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="recompute the hash chain; exit 1 on the first broken event")
        purge = sub.add_parser("purge", help="delete events older than the retention (>= 180 days)")
        purge.add_argument("--days", type=int, default=None)

    def handle(self, *args, **options):
        if options["action"] == "verify":
            result = audit_verify()
            if not result.ok:
                raise CommandError(f"audit chain BROKEN: {result.message}")
            self.stdout.write(self.style.SUCCESS(f"audit chain OK: {result.message}"))
        else:
            try:
                count = audit_purge(days=options["days"])
            except ValueError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"purged {count} audit events")
