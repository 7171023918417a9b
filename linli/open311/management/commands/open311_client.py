"""`linli open311_client NAME [--street CODE]`: create an Open311 client and print its key once."""

from django.core.management.base import BaseCommand, CommandError

from linli.open311.selectors import jurisdiction_id
from linli.open311.services import open311_client_create
from linli.places.choices import PlaceKind
from linli.places.models import Place


class Command(BaseCommand):
    help = "Create an Open311 client for a street and print its api_key (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who the key is for, e.g. the 12345 hotline bridge.")
        parser.add_argument(
            "--street", default="", help="The street's code (optional if there is one street)."
        )

    def handle(self, *args, name: str, street: str, **options):
        streets = Place.objects.filter(kind=PlaceKind.STREET)
        if street:
            found = list(streets.filter(code=street)[:2])
        else:
            found = list(streets[:2])
            if len(found) > 1:
                raise CommandError("Several streets: name one with --street CODE.")
        if len(found) != 1:
            raise CommandError(f"No street with code {street!r}." if street else "No street yet.")
        client, key = open311_client_create(name=name, street=found[0])
        self.stdout.write(f"Open311 client {client.name} for {found[0].name}")
        self.stdout.write(f"jurisdiction_id: {jurisdiction_id(found[0])}")
        self.stdout.write(f"api_key: {key}")
        self.stdout.write("Keep it now: only its hash is stored.")
