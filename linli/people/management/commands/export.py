from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from linli.people.choices import ImportKind
from linli.people.exports import FORMATS, register_export
from linli.people.imports import committee_by_code


class Command(BaseCommand):
    help = (
        "Export a committee's register to FILE (.xlsx or .csv) with the headers the importer "
        "reads. Identifiers are masked unless --as names an account permitted to reveal them "
        "and --reveal --reason are given; every export is audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("--committee", required=True, metavar="CODE")
        parser.add_argument("file", help="where to write: a path ending in .xlsx or .csv")
        parser.add_argument(
            "--as", dest="username", metavar="USERNAME", help="export as this account (audited)"
        )
        parser.add_argument("--reveal", action="store_true", help="write ID numbers and phones")
        parser.add_argument("--reason", default="", help="why the identifiers are revealed")

    def handle(self, *args, **options):
        committee = committee_by_code(options["committee"])
        if committee is None:
            raise CommandError(f"no residents' committee with code {options['committee']}")
        path = Path(options["file"])
        file_format = path.suffix.lower().lstrip(".")
        if file_format not in FORMATS:
            raise CommandError("FILE must end in .xlsx or .csv")
        actor = None
        if options["username"]:
            actor = get_user_model().objects.filter(username=options["username"]).first()
            if actor is None or not actor.is_active:
                raise CommandError(f"no active account {options['username']}")
        elif options["reveal"]:
            raise CommandError("--reveal needs --as USERNAME: an account permitted to reveal")
        partial = path.with_name(path.name + ".part")
        try:
            with partial.open("wb") as out:
                result = register_export(
                    actor=actor,
                    committee=committee,
                    kind=options["kind"],
                    out=out,
                    file_format=file_format,
                    reveal=options["reveal"],
                    reason=options["reason"],
                )
        except PermissionDenied as error:
            partial.unlink(missing_ok=True)
            raise CommandError(str(error) or "not permitted") from None
        except ValidationError as error:
            partial.unlink(missing_ok=True)
            raise CommandError("; ".join(error.messages)) from None
        partial.replace(path)
        masked = "revealed" if result.revealed else "masked"
        self.stdout.write(f"wrote {result.rows} rows ({masked}) to {path}")
