import json
import os
import random
import secrets
import string
import time
from collections import Counter
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts.roles import SECOND_FACTOR_ROLES, Role
from linli.demo.builder import DEMO_SIZE, build_street, create_accounts, personas_for
from linli.demo.funds import populate_funds
from linli.demo.meetings import populate_meetings
from linli.demo.notices import populate_notices
from linli.demo.projects import projects_hook
from linli.demo.register import populate_register
from linli.demo.topics import populate_topics
from linli.demo.workorders import populate_orders
from linli.funds.money import yuan
from linli.places.models import Place

DEMO_STREET_CODE = "310104090000"


def generate_password(length: int = 14) -> str:
    """A random password that passes our validators (all four character classes)."""
    pools = [string.ascii_lowercase, string.ascii_uppercase, string.digits, "!@#%&*?+"]
    chars = [secrets.choice(pool) for pool in pools]
    chars += [secrets.choice("".join(pools)) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


class Command(BaseCommand):
    help = "Load the demo street once (deterministic from --seed) and print its accounts."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--accounts-file",
            default=str(settings.VAR_DIR / "demo-accounts.json"),
            help="where the generated passwords are kept between runs (never committed)",
        )

    def handle(self, *args, seed, accounts_file, **options):
        if Place.objects.filter(code=DEMO_STREET_CODE).exists():
            self.stdout.write("Demo street already loaded.")
        else:
            # Years of history land in the in-app inboxes only; nobody is e-mailed or texted,
            # and the console sender prints nothing. The senders run once the load commits,
            # so the override spans the whole transaction.
            with override_settings(LINLI_NOTIFY_SENDERS=[]):
                self._load(seed, accounts_file)
        self._print_accounts(accounts_file)
        self._print_open311(accounts_file)

    @transaction.atomic  # all or nothing: a failed load leaves nothing half-built to skip next time
    def _load(self, seed: int, accounts_file: str) -> None:
        started = time.monotonic()
        world = build_street(seed=seed, size=DEMO_SIZE)
        built = time.monotonic()
        register = populate_register(world, seed=seed, residents=DEMO_SIZE.residents)
        register_seconds = time.monotonic() - built
        personas = personas_for(world)
        passwords = {p.key: generate_password() for p in personas}
        users = create_accounts(personas, passwords)
        # Work orders (issue 4): after the accounts, so the personas appear in the orders' history;
        # about 20,000 a year for the demo's 30,000 residents.
        orders_started = time.monotonic()
        orders = populate_orders(world, seed=seed, size=DEMO_SIZE.residents * 2 // 3)
        orders_seconds = time.monotonic() - orders_started
        open311_key = self._open311_client(world)
        # Resident voice, meetings, votes and the public board (issue 5).
        voice_started = time.monotonic()
        _link_resident(users["resident"])
        voice = populate_topics(world=world, users=users, rng=random.Random(seed))
        voice.update(populate_meetings(world, seed=seed, users=users))
        voice.update(populate_notices(world, users))
        voice_seconds = time.monotonic() - voice_started
        # Community funds (issue 6): three years of allocations, donations and year-end closes,
        # and each year's fund projects spending the money before the year closes.
        funds_started = time.monotonic()
        projects: Counter = Counter()
        projects_seconds = 0.0

        def spend(**kwargs) -> None:
            nonlocal projects_seconds
            started = time.monotonic()
            projects.update(projects_hook(**kwargs))
            projects_seconds += time.monotonic() - started

        funds = populate_funds(world, users=users, seed=seed, projects_hook=spend)
        funds_seconds = time.monotonic() - funds_started - projects_seconds
        accounts = []
        for p in personas:
            entry = {
                "username": p.username,
                "password": passwords[p.key],
                "role": p.role,
                "name": p.display_name,
                "place": p.place.name,
            }
            if p.role in SECOND_FACTOR_ROLES:
                device = TOTPDevice.objects.create(user=users[p.key], name="demo", confirmed=True)
                entry["totp_key"] = device.key
            accounts.append(entry)
        os.makedirs(os.path.dirname(accounts_file), exist_ok=True)
        with open(os.open(accounts_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
            json.dump(accounts, fh, ensure_ascii=False, indent=1)
        counts = {
            k: Place.objects.filter(kind=k).count()
            for k in ("committee", "compound", "building", "household")
        }
        self.stdout.write(
            f"Demo loaded in {time.monotonic() - started:.1f}s: "
            + ", ".join(f"{n} {k}s" for k, n in counts.items())
        )
        self.stdout.write(
            f"Register filled in {register_seconds:.1f}s: "
            + ", ".join(f"{k} {n}" for k, n in register.items())
        )
        self.stdout.write(
            f"Work orders filled in {orders_seconds:.1f}s: "
            + ", ".join(f"{k} {n}" for k, n in orders.items())
        )
        self.stdout.write(
            f"Topics, meetings and votes filled in {voice_seconds:.1f}s: "
            + ", ".join(f"{k} {n}" for k, n in voice.items())
        )
        self.stdout.write(
            f"Funds filled in {funds_seconds:.1f}s: "
            + ", ".join(f"{k} {yuan(n) if isinstance(n, Decimal) else n}" for k, n in funds.items())
        )
        self.stdout.write(
            f"Fund projects filled in {projects_seconds:.1f}s: "
            + ", ".join(
                f"{k} {yuan(n) if isinstance(n, Decimal) else n}"
                for k, n in sorted(projects.items())
            )
        )
        with open(
            os.open(_open311_file(accounts_file), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w"
        ) as fh:
            fh.write(f"{world.street.code} {open311_key}\n")

    @staticmethod
    def _open311_client(world) -> str:
        """An Open311 client for the demo street; returns its key (stored only as a hash)."""
        from linli.open311.services import open311_client_create

        _, key = open311_client_create(name="演示客户端", street=world.street)
        return key

    def _print_open311(self, accounts_file: str) -> None:
        try:
            with open(_open311_file(accounts_file)) as fh:
                jurisdiction, key = fh.read().split()
        except (FileNotFoundError, ValueError):
            return
        self.stdout.write(
            f"\nOpen311 demo client: POST /open311/v2/requests.json with api_key={key}"
            f" (jurisdiction_id={jurisdiction})"
        )

    def _print_accounts(self, accounts_file: str) -> None:
        try:
            with open(accounts_file) as fh:
                accounts = json.load(fh)
        except FileNotFoundError:
            self.stdout.write("(the demo accounts file is missing; reset with `make demo-reset`)")
            return
        self.stdout.write("\nDemo accounts (passwords generated for this machine):")
        self.stdout.write(f"  {'user':<11} {'password':<16} role @ place")
        for a in accounts:
            self.stdout.write(
                f"  {a['username']:<11} {a['password']:<16} {Role(a['role']).label} @ {a['place']}"
            )
            if "totp_key" in a:
                self.stdout.write(
                    f"  {'':<11} second factor: add hex key {a['totp_key']} to an authenticator,"
                    f" or run `linli demo_code {a['username']}`"
                )


def _link_resident(user) -> None:
    """Give the resident persona their register entry: the head of their household (钱惠芳 for
    钱阿姨), else its oldest member, so they vote in person (Resident.account) as well as for the
    household."""
    from django.db.models import Case, IntegerField, Value, When

    from linli.people.choices import Relation
    from linli.people.models import Resident

    place = user.assignments.get().place
    head_first = Case(
        When(relation=Relation.HEAD, then=Value(0)), default=1, output_field=IntegerField()
    )
    adult = (
        Resident.objects.filter(household__place=place, account__isnull=True)
        .order_by(head_first, "birth_date")
        .first()
    )
    if adult is not None:
        adult.account = user
        adult.save(update_fields=["account"])


def _open311_file(accounts_file: str) -> str:
    """The demo Open311 key sits beside the accounts file, readable by its owner only."""
    return os.path.join(os.path.dirname(accounts_file), "demo-open311.txt")
