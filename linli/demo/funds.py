"""The demo's fund history: three years of the street's money, written through the ledger's
services (so every transaction, entry, year close and audit event is what the pages would have
produced), ending at `today`:

- the street's fund profile for each year (RULES.md §4 defaults, then a larger self-governance
  share in the second year and a higher per-project cap in the third), citing a street document
  that is marked as demo data;
- each year, early in the year, the street allocates each committee's working funds (about
  ¥150,000–300,000 a committee, RULES.md ZZ-02/ZZ-04, more for committees with more households),
  split by the profile into office, community-service and self-governance money, and the
  district allocates the street's co-governance fund (共治金, seed 002);
- the street's community foundation (opened once) receives donations through the year from
  resident units (companies, schools, the health centre), social organisations and residents
  (unnamed, most anonymous; many on 99公益日 in September);
- then `projects_hook(year=…, world=…, users=…, rng=…)`, when given, spends that year's money
  (projects: commitments and payments), before the year closes;
- every year that has ended is closed (`year_end_close`) for every committee and the street's
  co-governance fund: what is left is returned to the funder. The current year stays open.

Deterministic from the seed. The actor is the street's self-governance office (`users["selfgov"]`,
which holds funds.allocate and funds.manage_street), or the system (None) without users.
`populate_funds(world, users=users, seed=…)`.
"""

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from linli.core.audit import audit_record
from linli.core.scoping import under_q
from linli.demo.builder import World
from linli.funds import services
from linli.funds.choices import DonorKind, FundKind, TransactionKind
from linli.funds.models import FundProfile, Transaction
from linli.funds.money import ZERO
from linli.places.choices import PlaceKind
from linli.places.models import Place

YEARS = 3
# A committee's working funds a year (ZZ-04: about ¥250,000 on average, adjusted by households).
COMMITTEE_LOW, COMMITTEE_HIGH = 150_000, 300_000
# The street's co-governance fund a year, from the district (seed 002: 社区共治金).
CO_GOVERNANCE = [600_000, 650_000, 680_000]
# The profile's numbers that change from year to year (the rest keeps RULES.md §4's defaults).
PROFILE_CHANGES = [
    {},
    {"self_governance_share": Decimal("0.35"), "office_share": Decimal("0.15")},
    {
        "self_governance_share": Decimal("0.35"),
        "office_share": Decimal("0.15"),
        "per_project_cap": Decimal("30000.00"),
    },
]
PROFILE_NOTE = (
    "《{street}居民区工作经费和自治项目经费使用管理办法》（{short}街办〔{year}〕{number}号）"
    "——演示数据，非真实文件"
)

UNITS = [
    "上海梧桐商业管理有限公司",
    "上海汇枫物业服务有限公司",
    "上海市徐汇区梧桐路小学",
    "上海市徐汇区望江中学",
    "梧桐路街道社区卫生服务中心",
    "上海瑞康中西医结合门诊部",
    "上海明珠百货有限公司",
    "上海绿邻餐饮管理有限公司",
    "上海望江建筑装饰工程有限公司",
    "上海银杏信息科技有限公司",
    "上海金桥置业发展有限公司",
    "上海农商银行梧桐路支行",
]
ORGANISATIONS = [
    "梧桐路街道社区志愿者协会",
    "徐汇区梧桐睦邻服务中心",
    "上海乐龄社会工作服务社",
    "梧桐路街道商会",
    "上海青苗青少年发展服务中心",
]
UNIT_AMOUNTS = [5_000, 10_000, 10_000, 20_000, 20_000, 30_000, 50_000, 50_000, 80_000, 100_000]
RESIDENT_AMOUNTS = [50, 100, 100, 200, 200, 300, 500, 500, 1_000, 2_000]
UNIT_MEMOS = ["定向支持社区自治项目", "非定向捐赠", "支持为老服务项目", "支持社区微更新"]
ORGANISATION_MEMOS = ["支持社区志愿服务", "非定向捐赠", "支持青少年暑期活动"]
GIVING_DAY = "99公益日社区募捐"


def _day(year: int, rng: random.Random, first: tuple[int, int], last: tuple[int, int]) -> dt.date:
    start, end = dt.date(year, *first), dt.date(year, *last)
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def _thousands(amount: float) -> int:
    return round(amount / 1000) * 1000


def _households(committee: Place) -> int:
    return Place.objects.filter(under_q(committee.path), kind=PlaceKind.HOUSEHOLD).count()


def _base_amounts(world: World, rng: random.Random) -> list[int]:
    """The first year's working funds of each committee: more households, more money, within
    ¥150,000–300,000."""
    sizes = [_households(committee) for committee in world.committees]
    low, high = min(sizes), max(sizes)
    amounts = []
    for size in sizes:
        scale = (size - low) / (high - low) if high > low else 0.5
        amount = 195_000 + 85_000 * scale + rng.randint(-15, 15) * 1000
        amounts.append(min(max(_thousands(amount), COMMITTEE_LOW), COMMITTEE_HIGH - 20_000))
    return amounts


def _profile(street: Place, year: int, index: int, actor) -> FundProfile:
    changes = PROFILE_CHANGES[min(index, len(PROFILE_CHANGES) - 1)]
    profile = FundProfile(
        street=street,
        year=year,
        note=PROFILE_NOTE.format(
            street=street.name, short=street.name[:1], year=year, number=2 + index
        ),
        **changes,
    )
    profile.full_clean()
    profile.save()
    audit_record(
        actor=actor,
        action="funds.fundprofile.create",
        obj=profile,
        place=street,
        changes={"year": year, **{name: str(value) for name, value in changes.items()}},
    )
    return profile


def _donations(year: int, rng: random.Random) -> list[tuple[dt.date, str, str, bool, int, str]]:
    """(date, donor kind, donor name, anonymous, amount, memo) of one year, in date order."""
    gifts = []
    for name in rng.sample(UNITS, rng.randint(5, 7)):
        memo = rng.choice(UNIT_MEMOS)
        on = _day(year, rng, (1, 10), (12, 20))
        gifts.append((on, DonorKind.UNIT, name, False, rng.choice(UNIT_AMOUNTS), memo))
    for name in rng.sample(ORGANISATIONS, rng.randint(2, 3)):
        memo = rng.choice(ORGANISATION_MEMOS)
        on = _day(year, rng, (3, 1), (11, 30))
        amount = rng.randint(2, 20) * 1000
        gifts.append((on, DonorKind.ORGANISATION, name, False, amount, memo))
    for _ in range(rng.randint(8, 12)):
        giving_day = rng.random() < 0.6
        on = _day(year, rng, (9, 7), (9, 9)) if giving_day else _day(year, rng, (1, 10), (12, 20))
        anonymous = rng.random() < 0.7
        memo = GIVING_DAY if giving_day else "居民捐赠"
        gifts.append((on, DonorKind.RESIDENT, "", anonymous, rng.choice(RESIDENT_AMOUNTS), memo))
    gifts.sort(key=lambda gift: gift[0])
    return gifts


@transaction.atomic
def populate_funds(
    world: World,
    *,
    users: dict | None,
    seed: int,
    today: dt.date | None = None,
    projects_hook: Callable | None = None,
) -> dict:
    """Three years of fund history ending at `today` (default: the local date; never later,
    the services refuse postings dated in the future). Returns the counts and totals."""
    today = today or timezone.localdate()
    rng = random.Random(seed)
    actor = (users or {}).get("selfgov")
    street, district = world.street, world.district
    counts = {
        "fund_profiles": 0,
        "allocations": 0,
        "donations": 0,
        "year_closes": 0,
        "allocated": ZERO,
        "donated": ZERO,
        "returned": ZERO,
    }
    foundation = None
    amounts = _base_amounts(world, rng)
    first_year = today.year - YEARS + 1
    for index, year in enumerate(range(first_year, today.year + 1)):
        _profile(street, year, index, actor)
        counts["fund_profiles"] += 1
        if index:  # the street adjusts each committee's budget by a few per cent a year
            amounts = [
                min(
                    max(_thousands(amount * rng.uniform(0.98, 1.06)), COMMITTEE_LOW), COMMITTEE_HIGH
                )
                for amount in amounts
            ]
        postings: list[tuple[dt.date, Callable[[], Transaction]]] = []
        for committee, amount in zip(world.committees, amounts, strict=True):
            on = min(_day(year, rng, (2, 20), (3, 20)), today)
            memo = f"{year}年度居民区工作经费（{street.name}拨付）"
            postings.append((on, _allocation(actor, committee, amount, on, memo, street)))
        on = min(_day(year, rng, (3, 1), (3, 31)), today)
        memo = f"{year}年度社区共治金（{district.name}拨付）"
        co_governance = CO_GOVERNANCE[min(index, len(CO_GOVERNANCE) - 1)]
        postings.append((on, _allocation(actor, street, co_governance, on, memo, district)))
        gifts = [gift for gift in _donations(year, rng) if gift[0] <= today]
        if gifts and foundation is None:
            foundation = services.fund_open(
                actor=actor,
                place=street,
                kind=FundKind.FOUNDATION,
                name=f"{street.name}社区基金会",
            )
        for on, kind, name, anonymous, amount, memo in gifts:
            postings.append(
                (on, _donation(actor, foundation, on, kind, name, anonymous, amount, memo))
            )
        # In date order, so the ledger reads as the year happened (stable for equal dates).
        for _on, post in sorted(postings, key=lambda item: item[0]):
            txn = post()
            if txn.kind == TransactionKind.DONATION:
                counts["donations"] += 1
                counts["donated"] += txn.amount
            else:
                counts["allocations"] += 1
                counts["allocated"] += txn.amount
        if projects_hook is not None:
            # Its own generator, so what the hook draws never changes the funds' history.
            projects_hook(
                year=year,
                world=world,
                users=users,
                rng=random.Random(f"demo-projects-{seed}-{year}"),
            )
        if dt.date(year, 12, 31) < today:
            for place in [*world.committees, street]:
                for close in services.year_end_close(actor=actor, place=place, year=year):
                    counts["year_closes"] += 1
                    counts["returned"] += close.returned
    return counts


def _allocation(actor, place: Place, amount: int, on: dt.date, memo: str, source: Place):
    def post() -> Transaction:
        return services.allocation_post(
            actor=actor, place=place, total=Decimal(amount), on=on, source=source, memo=memo
        )

    return post


def _donation(actor, foundation, on, kind, name, anonymous, amount, memo):
    def post() -> Transaction:
        donation = services.donation_post(
            actor=actor,
            fund=foundation,
            amount=Decimal(amount),
            donor_kind=kind,
            donor_name=name,
            anonymous=anonymous,
            on=on,
            memo=memo,
        )
        return donation.transaction

    return post
