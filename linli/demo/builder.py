"""Builds a believable Shanghai street: the same builder makes the tests' small world and the
demo's full street, deterministically from a seed.

Codes: 上海市 310000 and 徐汇区 310104 are real GB/T 2260 codes; the street "梧桐路街道" and its
committees are fictitious, with format-valid 12-digit codes (310104 090 000 / 001…).
"""

import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat, LPad

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.services import role_assign, user_create
from linli.core.audit import audit_record
from linli.core.scoping import under_q
from linli.places.choices import DepartmentKind, PlaceKind
from linli.places.models import Department, Grid, Place
from linli.places.services import department_create, grid_create

COMMITTEE_NAMES = [
    "梧桐",
    "枫林",
    "康健",
    "田林",
    "宛平",
    "天平",
    "湖南",
    "斜土",
    "长桥",
    "凌云",
    "虹梅",
    "龙华",
]
COMPOUND_STEMS = [
    "康乐",
    "和平",
    "兴业",
    "永安",
    "锦绣",
    "紫荆",
    "华亭",
    "春晖",
    "香樟",
    "翠竹",
    "嘉禾",
    "丽景",
    "清水",
    "梅园",
    "桂林",
    "东湖",
    "南丹",
    "宜山",
    "漕溪",
    "龙吴",
    "银杏",
    "金桥",
    "明珠",
    "望江",
]
COMPOUND_SUFFIXES = ["小区", "新村", "苑", "公寓", "花园", "大楼"]
DEPARTMENTS = [
    ("房管办", DepartmentKind.HOUSING_OFFICE),
    ("城管执法中队", DepartmentKind.CITY_MANAGEMENT),
    ("市场监管所", DepartmentKind.MARKET_REGULATION),
    ("派出所", DepartmentKind.POLICE_STATION),
    ("绿化市容所", DepartmentKind.GREENING_SANITATION),
]


@dataclass
class Size:
    committees: int = 10
    compounds: tuple[int, int] = (6, 7)
    buildings: tuple[int, int] = (5, 11)
    floors: tuple[int, int] = (5, 7)
    units_per_floor: tuple[int, int] = (2, 4)
    high_rise_share: float = 0.15
    compounds_per_grid: int = 3
    # People for the register (linli.demo.register); about 2.5 per occupied dwelling.
    residents: int = 30_000


DEMO_SIZE = Size()
TEST_SIZE = Size(
    committees=3,
    compounds=(2, 2),
    buildings=(2, 2),
    floors=(2, 2),
    units_per_floor=(2, 2),
    high_rise_share=0.0,
    compounds_per_grid=2,
    residents=100,
)


@dataclass
class World:
    city: Place
    district: Place
    street: Place
    committees: list[Place]
    compounds: list[Place] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)


def _bulk_places(rows: list[Place]) -> list[Place]:
    """Insert a whole level at once, then derive the paths from the new ids."""
    for row in rows:
        row.path = f"new-{uuid.uuid4().hex}"
        row.depth = 0
    created = Place.objects.bulk_create(rows, batch_size=2000)
    # One UPDATE for the level: path = parent's path + own id as a 10-digit segment.
    parent_path = Subquery(Place.objects.filter(pk=OuterRef("parent_id")).values("path")[:1])
    segment = LPad(Cast("id", CharField()), 10, Value("0"))
    Place.objects.filter(pk__in=[r.pk for r in created]).update(
        path=Concat(Coalesce(parent_path, Value("")), segment, output_field=CharField()),
        depth=created[0].parent.depth + 1 if created[0].parent_id else 0,
    )
    for row in created:
        row.assign_path()
    return created


# The street's north-west corner (a fictitious street in the real Xuhui district) and the
# spacing of the compound lattice, about 250 m.
ORIGIN = (Decimal("31.2050"), Decimal("121.4250"))
SPACING = Decimal("0.0025")


def _locate(compounds: list[Place], rng: random.Random) -> None:
    """Points for compounds on a jittered lattice, neighbours in the same committee."""
    columns = max(1, round(len(compounds) ** 0.5))
    for index, compound in enumerate(compounds):
        row, column = divmod(index, columns)
        jitter = [Decimal(rng.randint(-40, 40)) / 100000 for _ in range(2)]
        compound.lat = (ORIGIN[0] - row * SPACING + jitter[0]).quantize(Decimal("0.000001"))
        compound.lng = (ORIGIN[1] + column * SPACING + jitter[1]).quantize(Decimal("0.000001"))


@transaction.atomic
def build_street(*, seed: int = 2026, size: Size = DEMO_SIZE) -> World:
    rng = random.Random(seed)
    city = Place.objects.filter(kind=PlaceKind.CITY, code="310000").first()
    if city is None:
        (city,) = _bulk_places([Place(kind=PlaceKind.CITY, name="上海市", code="310000")])
    (district,) = _bulk_places(
        [Place(kind=PlaceKind.DISTRICT, name="徐汇区", code="310104", parent=city)]
    )
    (street,) = _bulk_places(
        [Place(kind=PlaceKind.STREET, name="梧桐路街道", code="310104090000", parent=district)]
    )
    committees = _bulk_places(
        [
            Place(
                kind=PlaceKind.COMMITTEE,
                name=f"{name}居民委员会",
                code=f"310104090{i + 1:03d}",
                parent=street,
            )
            for i, name in enumerate(COMMITTEE_NAMES[: size.committees])
        ]
    )
    stems = COMPOUND_STEMS[:]
    rng.shuffle(stems)
    compound_rows = []
    for committee in committees:
        for _ in range(rng.randint(*size.compounds)):
            stem = stems[len(compound_rows) % len(stems)]
            suffix = rng.choice(COMPOUND_SUFFIXES)
            number = len(compound_rows) // len(stems)
            name = f"{stem}{suffix}" if number == 0 else f"{stem}{'二三四五六'[number - 1]}{suffix}"
            compound_rows.append(Place(kind=PlaceKind.COMPOUND, name=name, parent=committee))
    _locate(compound_rows, rng)
    compounds = _bulk_places(compound_rows)

    building_rows, building_shape = [], []
    for compound in compounds:
        for number in range(1, rng.randint(*size.buildings) + 1):
            high = rng.random() < size.high_rise_share
            floors = rng.randint(14, 24) if high else rng.randint(*size.floors)
            building_rows.append(
                Place(kind=PlaceKind.BUILDING, name=f"{number}号楼", parent=compound)
            )
            building_shape.append((floors, rng.randint(*size.units_per_floor)))
    buildings = _bulk_places(building_rows)

    household_rows = []
    for building, (floors, units) in zip(buildings, building_shape, strict=True):
        for floor in range(1, floors + 1):
            for unit in range(1, units + 1):
                household_rows.append(
                    Place(kind=PlaceKind.HOUSEHOLD, name=f"{floor}{unit:02d}室", parent=building)
                )
    _bulk_places(household_rows)

    world = World(
        city=city, district=district, street=street, committees=committees, compounds=compounds
    )
    step = size.compounds_per_grid
    for index in range(0, len(compounds), step):
        number = index // step + 1
        world.grids.append(
            grid_create(
                actor=None,
                street=street,
                code=f"{street.code[:9]}-{number:02d}",
                name=f"第{number}网格",
                compounds=compounds[index : index + step],
            )
        )
    world.departments = [
        department_create(
            actor=None,
            name=f"梧桐路{name}",
            kind=kind,
            area=street,
            phone=f"021-6{seed % 1000:03d}{i:04d}",
        )
        for i, (name, kind) in enumerate(DEPARTMENTS)
    ]
    audit_record(
        actor=None,
        action="demo.street.build",
        place=street,
        changes={
            "committees": len(committees),
            "compounds": len(compounds),
            "buildings": len(buildings),
            "households": len(household_rows),
        },
    )
    return world


@dataclass
class Persona:
    key: str
    username: str
    display_name: str
    role: str
    place: Place
    grid: Grid | None = None
    department: Department | None = None


def personas_for(world: World) -> list[Persona]:
    """The named personas: one per role, plus a worker of a sibling committee."""
    first, second = world.committees[0], world.committees[1]
    household = (
        Place.objects.filter(under_q(first.path), kind=PlaceKind.HOUSEHOLD).order_by("path").first()
    )
    return [
        Persona("admin", "admin", "系统管理员", Role.ADMINISTRATOR, world.city),
        Persona("bureau", "bureau", "区民政局 王科长", Role.DISTRICT_BUREAU, world.district),
        Persona("dispatcher", "dispatcher", "网格中心 李调度", Role.GRID_DISPATCHER, world.street),
        Persona(
            "supervisor", "supervisor", "网格中心 何值班长", Role.GRID_SUPERVISOR, world.street
        ),
        Persona("selfgov", "selfgov", "自治办 陈主任", Role.SELF_GOVERNANCE_OFFICE, world.street),
        # The street's review panel for fund projects (评审专家).
        Persona("reviewer", "reviewer", "评审专家 高教授", Role.PROJECT_REVIEWER, world.street),
        Persona("reviewer2", "reviewer2", "评审专家 刘老师", Role.PROJECT_REVIEWER, world.street),
        Persona("reviewer3", "reviewer3", "评审专家 马会计", Role.PROJECT_REVIEWER, world.street),
        Persona(
            "handler",
            "handler",
            "房管办 赵师傅",
            Role.DEPARTMENT_HANDLER,
            world.street,
            department=world.departments[0],
        ),
        # The same department's head (负责人): asks the centre for more time (T13 延期).
        Persona(
            "depthead",
            "depthead",
            "房管办 钱科长",
            Role.DEPARTMENT_HEAD,
            world.street,
            department=world.departments[0],
        ),
        Persona(
            "gridworker",
            "gridworker",
            "网格员 孙晓燕",
            Role.GRID_WORKER,
            world.street,
            grid=world.grids[0],
        ),
        Persona(
            "director", "director", f"{first.name[:2]}居委 周主任", Role.COMMITTEE_DIRECTOR, first
        ),
        Persona(
            "secretary",
            "secretary",
            f"{first.name[:2]}居委 吴书记",
            Role.COMMITTEE_SECRETARY,
            first,
        ),
        Persona("worker", "worker", f"{first.name[:2]}社工 郑敏", Role.COMMUNITY_WORKER, first),
        Persona(
            "stranger", "worker2", f"{second.name[:2]}社工 冯磊", Role.COMMUNITY_WORKER, second
        ),
        Persona("resident", "resident", "居民 钱阿姨", Role.RESIDENT, household),
        Persona(
            "property",
            "property",
            f"{world.compounds[0].name}物业 林经理",
            Role.PROPERTY_MANAGER,
            world.compounds[0],
        ),
    ]


@transaction.atomic
def create_accounts(personas: list[Persona], passwords: dict[str, str]) -> dict[str, User]:
    """Create each persona's user with the given password and assign its role."""
    users = {}
    for p in personas:
        user = user_create(
            actor=None, username=p.username, password=passwords[p.key], display_name=p.display_name
        )
        role_assign(
            actor=None, user=user, role=p.role, place=p.place, grid=p.grid, department=p.department
        )
        users[p.key] = user
    return users
