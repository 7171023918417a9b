"""The demo register: households, residents, owners and organisations for a built street.

`populate_register` plans every person in memory from one `random.Random(seed)` and writes the
plan with bulk inserts (the per-row services would take minutes for 30,000 people), keeping the
invariants the services keep: paths copied from the places, identifiers stored through
`pii_assign`, birth date and gender taken from the ID number, one MOVE_IN event per resident and
a dated event for every later change, owner and organisation paths at the committee.

Everything is fictitious. ID numbers are format-valid (real region codes, check character) but
made up; names are drawn from common surnames and era-typical given names. Ages are computed
against REFERENCE_DATE so the same seed gives the same people on any day (ciphertexts differ:
Fernet is randomised).
"""

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from linli.core.audit import audit_record
from linli.core.scoping import under_q
from linli.demo.builder import World
from linli.people.choices import (
    AreaSource,
    EventKind,
    HouseholdType,
    OrganisationKind,
    OwnerKind,
    Registration,
    Relation,
    Residence,
    ResidentStatus,
    SocialOrgKind,
    Tenure,
)
from linli.people.models import (
    Household,
    Organisation,
    OrganisationContact,
    Owner,
    Ownership,
    Resident,
    ResidentEvent,
    Tag,
    UnitArea,
)
from linli.people.pii import age_on, compose_id_number, mask_id_number, mask_phone
from linli.people.services import pii_assign
from linli.places.choices import PlaceKind
from linli.places.models import Place

REFERENCE_DATE = dt.date(2026, 11, 1)
BATCH = 2000
PERSONA_PHONE = "13800138000"
PERSONA_NAME = "钱惠芳"
PERSONA_AGE = 68
MAX_AGE = 102

# --- names ------------------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁沈"
    "任姚卢钟姜崔谭陆范汪金石廖贾夏韦付方邹熊白孟秦邱侯江尹薛闫段雷黎史龙陶贺顾毛郝龚邵万钱严覃武戴莫"
    "孔向汤"
)
# Shanghai families: these surnames are far more common among registered residents.
SHANGHAI_SURNAMES = {"顾": 4, "陆": 4, "沈": 4, "钱": 4, "朱": 3, "徐": 2.5, "周": 2, "吴": 2}
SHANGHAI_EXTRA = {"施": 1.2, "俞": 1.0, "倪": 0.8, "瞿": 0.4, "奚": 0.3}
# Given names by birth era: (first year of the era, men two/one character, women two/one).
GIVEN_NAMES = [
    (
        1900,
        "德福 金宝 福根 根宝 国华 文彬 宝林 荣生 金龙 永康 志明 炳荣 忠良 长根 荣华 家骏 庆余 兴发",
        "福 荣 明 昌 华 贵",
        "秀英 桂英 秀珍 玉兰 凤英 淑珍 金娣 彩娣 杏娣 阿珍 美英 月英 菊英 宝珍 翠英 素珍 招娣 佩玉",
        "英 珍 兰 芳 娟",
    ),
    (
        1950,
        "建国 建华 国强 卫东 建军 志强 卫国 建平 跃进 国平 永红 援朝 金海 伟民 新民 建民 国庆 建新",
        "军 华 平 强 明 刚 勇 斌",
        "红梅 丽华 秀兰 桂兰 海燕 爱华 红英 建英 美华 惠芳 玉珍 凤珍 秀芳 美娟 惠珍 丽萍 国英 桂芳",
        "萍 红 英 芳 华 敏 琴",
    ),
    (
        1970,
        "晓东 海峰 志刚 建伟 晓明 振华 海涛 文杰 伟明 立新 永刚 春华 俊峰 晓峰 国栋 卫华",
        "伟 勇 军 磊 强 涛 斌 峰 杰",
        "红霞 丽娟 晓燕 美玲 雪梅 丽萍 晓红 海燕 慧敏 春燕 丽君 佳颖 晓岚 文娟",
        "静 敏 丽 燕 洁 艳 琳 颖",
    ),
    (
        1985,
        "俊杰 思远 晨阳 嘉伟 文涛 明辉 志远 天宇 家豪 建峰 一鸣 亦凡 逸飞 晓晨",
        "磊 杰 鹏 超 浩 翔 亮 俊",
        "婷婷 佳丽 雯雯 诗琪 晓雯 思佳 佳琪 梦婷 怡君 静怡 慧琳 嘉怡 雅琴",
        "婷 晶 丹 雪 佳 雯 蕾 倩",
    ),
    (
        2000,
        "宇轩 子豪 俊豪 浩宇 嘉豪 博文 宇航 天佑 明轩 子健 志豪 家乐",
        "浩 宇 鑫 睿 航 昊",
        "佳怡 雨婷 梓涵 佳琪 欣怡 诗雨 雨欣 心怡 可欣 思雨 梦瑶 语嫣",
        "欣 悦 琪 涵 颖",
    ),
    (
        2010,
        "浩然 梓轩 沐辰 铭泽 子墨 奕辰 一航 梓睿 皓轩 宇泽 锦程 俊熙",
        "宸 睿 泽 轩",
        "子涵 欣怡 一诺 若曦 诗涵 梓萱 思彤 依依 语桐 可馨 沐晴 雨桐",
        "悦 萱 彤 诺",
    ),
]
# Share of one-character given names by era (the 1970s-90s loved them).
SINGLE_CHAR_SHARE = [0.12, 0.22, 0.42, 0.32, 0.18, 0.1]
ETHNIC_MINORITIES = [
    ("回族", 3),
    ("满族", 3),
    ("蒙古族", 1),
    ("朝鲜族", 1),
    ("壮族", 1),
    ("土家族", 1),
]

# --- ID region codes (GB/T 2260) --------------------------------------------------------------

SHANGHAI_REGIONS = [
    ("310104", 60),  # Xuhui
    ("310101", 5),  # Huangpu
    ("310105", 5),  # Changning
    ("310106", 4),  # Jing'an
    ("310115", 5),  # Pudong
    ("310112", 4),  # Minhang
    ("310110", 3),  # Yangpu
    ("310107", 2),  # Putuo
    ("310109", 2),  # Hongkou
]
# Districts merged away, still printed on the ID numbers of people born before.
OLD_SHANGHAI_REGIONS = [("310103", 6), ("310102", 4), ("310108", 3)]
MIGRANT_REGIONS = [
    ("34", 27, "340121 341221 341222 341226 341322 340823 341125 340881 340104 341202"),  # Anhui
    ("32", 15, "320102 320582 320681 320923 321081 320311 320826 321323"),  # Jiangsu
    ("41", 12, "410102 411522 411524 412724 411323 410523 411721"),  # Henan
    ("51", 7, "510106 510722 511623 511381 510921"),  # Sichuan
    ("36", 7, "360102 361127 360428 362226 360281"),  # Jiangxi
    ("33", 6, "330106 330381 330682 331082 330522"),  # Zhejiang
    ("42", 5, "420106 421127 421181 420921"),  # Hubei
    ("37", 5, "370102 371321 370481 371122"),  # Shandong
    ("35", 4, "350583 350322 350128"),  # Fujian
    ("43", 4, "430124 431021 430521"),  # Hunan
    ("50", 3, "500235 500101 500228"),  # Chongqing
    ("23", 2, "230103 230204"),  # Heilongjiang
    ("61", 2, "610102 610323"),  # Shaanxi
    ("44", 1, "440106 440303"),  # Guangdong
]
OVERSEAS_REGIONS = ["810000", "820000"]  # Hong Kong and Macao residence permits
PHONE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "180", "181", "182", "183", "186", "187", "188", "189",
    "191", "193", "195", "198", "199",
]  # fmt: skip

# --- household compositions -------------------------------------------------------------------

# Weights tuned for an old central Shanghai district: many elderly one- and two-person households,
# the one-child family, grandparents living with the young (see the test for the resulting shares).
TEMPLATES = [
    ("elderly_single", 14.5),
    ("single", 9),
    ("elderly_couple", 16.5),
    ("couple", 6),
    ("single_parent", 2.5),
    ("couple_adult_child", 12.5),
    ("couple_minor", 9),
    ("couple_two_children", 2.5),
    ("three_gen_parent", 4),
    ("three_gen_elder", 7.5),
    ("couple_child_grandparents", 2),
    ("six", 1.2),
    ("shared_rental", 5.5),
    ("elderly_with_child", 3.5),
    ("dorm", 0.4),
]
MIGRANT_SHARE = {
    "elderly_single": 0.02,
    "single": 0.75,
    "elderly_couple": 0.03,
    "couple": 0.72,
    "single_parent": 0.4,
    "couple_adult_child": 0.25,
    "couple_minor": 0.65,
    "couple_two_children": 0.6,
    "three_gen_parent": 0.45,
    "three_gen_elder": 0.08,
    "couple_child_grandparents": 0.3,
    "six": 0.1,
    "shared_rental": 1.0,
    "elderly_with_child": 0.02,
    "dorm": 1.0,
}
# Age bands of people 60+ (weights); the second set is for those living alone (more widowed).
ELDERLY_BANDS = [(60, 64, 26), (65, 69, 27), (70, 74, 20), (75, 79, 11), (80, 84, 7), (85, 89, 4)]
ELDERLY_BANDS += [(90, 94, 1.6), (95, 101, 0.3)]
ALONE_BANDS = [(60, 64, 14), (65, 69, 18), (70, 74, 18), (75, 79, 16), (80, 84, 13), (85, 89, 10)]
ALONE_BANDS += [(90, 94, 5), (95, 101, 1)]

# --- places and organisations -----------------------------------------------------------------

# By compound-name suffix: (years built, floor area range in m²).
COMPOUND_KINDS = {
    "新村": ((1956, 1986), (35, 66)),
    "大楼": ((1932, 1992), (42, 92)),
    "小区": ((1986, 2002), (52, 102)),
    "公寓": ((1992, 2010), (68, 125)),
    "苑": ((1996, 2010), (70, 128)),
    "花园": ((1998, 2013), (82, 140)),
}
HIGH_RISE_FLOORS = 14
DEVELOPER_STEMS = ["汇景", "徐联", "锦丰", "盛源", "华润", "新汇", "嘉泰", "永业", "恒昌", "瑞安"]
PROPERTY_STEMS = [
    "东方", "明华", "永升", "金丰", "汇成", "盛世", "新梅", "银都", "长城", "古美", "锦江", "正祥", "安居", "华宇",
]  # fmt: skip
COMPANY_STEMS = ["味香", "鸿运", "佳和", "新亚", "同福", "顺达", "乐家", "百盛"]
RESIDENT_UNITS = [
    ("徐汇区{s}小学", "12", "校长", "办公室主任"),
    ("{s}幼儿园", "12", "园长", "后勤主任"),
    ("{s}社区卫生服务站", "12", "站长", "护士长"),
    ("{s}菜市场", "91", "市场经理", "管理员"),
    ("联华超市{s}店", "91", "店长", "值班经理"),
    ("中国工商银行上海{s}支行", "91", "行长", "客户经理"),
    ("{s}邮政所", "91", "所长", "营业员"),
    ("上海{s}养老院", "52", "院长", "护理部主任"),
]
SOCIAL_ORGS = {
    SocialOrgKind.SOCIAL_GROUP: ["徐汇区{s}社区文化协会", "徐汇区{s}老年协会", "{s}社区书画协会"],
    SocialOrgKind.SOCIAL_SERVICE: [
        "徐汇区{s}社区服务中心",
        "徐汇区{s}青少年社工服务社",
        "上海{s}为老服务社",
    ],
    SocialOrgKind.FOUNDATION: ["上海{s}社区基金会", "上海{s}公益基金会"],
}
SOCIAL_ORG_CODE = {
    SocialOrgKind.SOCIAL_GROUP: "51",
    SocialOrgKind.SOCIAL_SERVICE: "52",
    SocialOrgKind.FOUNDATION: "53",
}
ACTIVITY_TEAMS = [
    "广场舞队", "合唱团", "书画社", "编织组", "志愿巡逻队", "太极拳队", "沪剧沙龙", "摄影小组", "读书会", "乒乓球队", "健身操队", "手工坊",
]  # fmt: skip
RESPONSIBILITIES = {
    OrganisationKind.OWNERS_COMMITTEE: (
        "召集业主大会会议，报告物业管理实施情况\n"
        "代表业主与物业服务企业签订物业服务合同\n"
        "监督维修资金的使用和公共收益的管理\n"
        "配合居民委员会做好小区治理工作"
    ),
    OrganisationKind.PROPERTY_MANAGER: (
        "公共部位和共用设施设备的日常维修养护\n"
        "小区保洁、绿化养护和垃圾分类管理\n"
        "门岗值守和车辆停放秩序\n"
        "报修受理：急修2小时内到场"
    ),
    OrganisationKind.RESIDENT_UNIT: (
        "参与社区共建共治，开放场地用于社区活动\n"
        "配合做好周边环境整治和安全管理\n"
        "参加居民区党组织区域化党建联席会议"
    ),
    OrganisationKind.SOCIAL_ORG: (
        "承接社区服务项目，按约定提交服务记录\n"
        "开展为老、助残、青少年等专业服务\n"
        "接受街道和居民委员会的业务指导与评估"
    ),
    OrganisationKind.ACTIVITY_TEAM: (
        "每周组织活动，参加居民区文体展示\n"
        "遵守活动场地使用约定，注意噪音和安全\n"
        "吸纳新成员，带动邻里互助"
    ),
}
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# --- the plan ---------------------------------------------------------------------------------


@dataclass
class _Person:
    relation: str
    gender: str
    age: int
    surname_from: int | None = None  # index of the member whose surname this one carries
    birth: dt.date = REFERENCE_DATE
    name: str = ""
    id_number: str = ""
    phone: str = ""
    ethnicity: str = "汉族"
    registration: str = Registration.REGISTERED
    residence: str = Residence.LIVING_REGISTERED
    status: str = ResidentStatus.ACTIVE
    status_date: dt.date | None = None
    move_in: dt.date = REFERENCE_DATE
    # Values at move-in where they differ from today's (a migrant who later got a hukou).
    moved_in_as: dict = field(default_factory=dict)
    # Later (kind, date, changes) events in the current household.
    later: list = field(default_factory=list)
    origin: "_Home | None" = None  # household the person transferred from
    tags: list[str] = field(default_factory=list)
    record: Resident | None = None

    @property
    def living(self) -> bool:
        return self.status == ResidentStatus.ACTIVE and self.residence != Residence.REGISTERED_ONLY


@dataclass
class _Compound:
    place: Place
    committee: Place
    built: tuple[int, int]
    area: tuple[int, int]
    year: int = 0  # when it was built, drawn from `built`
    public_housing: bool = False
    developer: bool = False


@dataclass
class _Home:
    template: str
    members: list[_Person]
    migrant: bool = False
    overseas: bool = False
    tenure: str = Tenure.OWNER_OCCUPIED
    household_type: str = HouseholdType.FAMILY
    note: str = ""
    arrival: dt.date = REFERENCE_DATE
    unit: Place | None = None
    compound: _Compound | None = None
    record: Household | None = None


@dataclass
class _Owner:
    committee: Place
    kind: str
    name: str
    id_number: str
    phone: str
    resident: _Person | None = None
    units: int = 0
    record: Owner | None = None


def _weighted(rng: random.Random, pairs):
    values = [p[0] for p in pairs]
    weights = [p[-1] for p in pairs]
    return rng.choices(values, weights=weights)[0]


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _day_between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    if last <= first:
        return first
    return first + dt.timedelta(days=rng.randrange((last - first).days + 1))


def _birth_for_age(rng: random.Random, age: int) -> dt.date:
    latest = _add_years(REFERENCE_DATE, -age)
    earliest = _add_years(latest, -1) + dt.timedelta(days=1)
    return _day_between(rng, earliest, latest)


def credit_code(rng: random.Random, prefix: str, region: str = "310104") -> str:
    """A unified social credit code shape (GB 32100): authority and type, region, organisation
    code, and the real check character."""
    body = prefix + region + "".join(rng.choice(CREDIT_CODE_CHARS[:10]) for _ in range(8))
    body += rng.choice(CREDIT_CODE_CHARS)
    total = sum(
        CREDIT_CODE_CHARS.index(c) * w for c, w in zip(body, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return body + CREDIT_CODE_CHARS[(31 - total % 31) % 31]


class _Planner:
    """Draws every person, household, owner and organisation from one seeded generator."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.ids: set[str] = set()
        self.phones: set[str] = {PERSONA_PHONE}
        surnames = list(SURNAMES)
        base = {s: 7.0 / (1 + i * 0.35) for i, s in enumerate(surnames)}
        self.surnames = (surnames, list(base.values()))
        local = dict(base)
        for s, factor in SHANGHAI_SURNAMES.items():
            local[s] *= factor
        local.update(SHANGHAI_EXTRA)
        self.local_surnames = (list(local), list(local.values()))

    # --- people ---

    def surname(self, local: bool) -> str:
        names, weights = self.local_surnames if local else self.surnames
        return self.rng.choices(names, weights=weights)[0]

    def given_name(self, gender: str, birth_year: int) -> str:
        era = max(i for i, row in enumerate(GIVEN_NAMES) if row[0] <= birth_year)
        _, men2, men1, women2, women1 = GIVEN_NAMES[era]
        single = self.rng.random() < SINGLE_CHAR_SHARE[era]
        pool = (men1 if single else men2) if gender == "M" else (women1 if single else women2)
        return self.rng.choice(pool.split())

    def elderly_age(self, alone: bool = False) -> int:
        lo, hi, _ = _weighted(
            self.rng, [(b, b[2]) for b in (ALONE_BANDS if alone else ELDERLY_BANDS)]
        )
        return self.rng.randint(lo, hi)

    def id_number(self, region: str, birth: dt.date, gender: str) -> str:
        while True:
            sequence = self.rng.randrange(499) * 2 + (1 if gender == "M" else 2)
            number = compose_id_number(region, birth, sequence)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def phone(self, old: bool = False) -> str:
        prefixes = PHONE_PREFIXES[:9] if old and self.rng.random() < 0.7 else PHONE_PREFIXES
        while True:
            number = self.rng.choice(prefixes) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def shanghai_region(self, birth: dt.date, exclude_home: bool = False) -> str:
        pairs = SHANGHAI_REGIONS + (OLD_SHANGHAI_REGIONS if birth.year < 2000 else [])
        if exclude_home:
            pairs = [p for p in pairs if p[0] != "310104"]
        return _weighted(self.rng, pairs)

    def migrant_region(self, province: str | None = None) -> str:
        row = (
            next(r for r in MIGRANT_REGIONS if r[0] == province)
            if province
            else _weighted(self.rng, [(r, r[1]) for r in MIGRANT_REGIONS])
        )
        return self.rng.choice(row[2].split())

    def ethnicity(self) -> str:
        if self.rng.random() < 0.985:
            return "汉族"
        return _weighted(self.rng, ETHNIC_MINORITIES)

    def stranger(self, *, local: bool, birth_years=(1950, 1992)) -> tuple[str, str, dt.date, str]:
        """Name, ID number, birth date and phone of someone outside the register."""
        gender = "M" if self.rng.random() < 0.55 else "F"
        birth = _birth_for_age(self.rng, REFERENCE_DATE.year - self.rng.randint(*birth_years))
        region = self.shanghai_region(birth) if local else self.migrant_region()
        name = self.surname(local) + self.given_name(gender, birth.year)
        return name, self.id_number(region, birth, gender), birth, self.phone()

    # --- households ---

    def couple(self, head_age: int, *, male_head: float = 0.78, min_age: int = 20) -> list:
        head_male = self.rng.random() < male_head
        gap = self.rng.randint(-2, 5)
        spouse_age = min(MAX_AGE, max(min_age, head_age - gap if head_male else head_age + gap))
        return [
            _Person(Relation.HEAD, "M" if head_male else "F", head_age),
            _Person(Relation.SPOUSE, "F" if head_male else "M", spouse_age),
        ]

    def parents_of(self, child_age: int, lo: int, hi: int) -> list:
        """Head and spouse of a child this age: the mother was lo..hi at the birth."""
        mother = child_age + self.rng.randint(lo, hi)
        father = mother + self.rng.randint(-1, 4)
        head_male = self.rng.random() < 0.8
        if head_male:
            return [_Person(Relation.HEAD, "M", father), _Person(Relation.SPOUSE, "F", mother)]
        return [_Person(Relation.HEAD, "F", mother), _Person(Relation.SPOUSE, "M", father)]

    def child(self, age: int, relation=Relation.CHILD) -> _Person:
        return _Person(relation, "M" if self.rng.random() < 0.52 else "F", max(0, age))

    def compose(self, template: str, migrant: bool) -> list[_Person]:
        rng = self.rng
        if template == "elderly_single":
            return [
                _Person(Relation.HEAD, "F" if rng.random() < 0.68 else "M", self.elderly_age(True))
            ]
        if template == "single":
            age = rng.randint(21, 42) if migrant else rng.randint(24, 59)
            return [_Person(Relation.HEAD, "M" if rng.random() < 0.55 else "F", age)]
        if template == "elderly_couple":
            return self.couple(self.elderly_age(), min_age=57)
        if template == "couple":
            return self.couple(rng.randint(23, 40) if migrant else rng.randint(25, 45))
        if template == "single_parent":
            kid = rng.randint(0, 22)
            gender = "F" if rng.random() < 0.75 else "M"
            return [_Person(Relation.HEAD, gender, kid + rng.randint(24, 38)), self.child(kid)]
        if template == "couple_adult_child":
            kid = rng.randint(18, 38)
            return [*self.parents_of(kid, 23, 32), self.child(kid)]
        if template == "couple_minor":
            kid = rng.randint(0, 17)
            lo, hi = (22, 34) if migrant else (25, 38)
            return [*self.parents_of(kid, lo, hi), self.child(kid)]
        if template == "couple_two_children":
            kid = rng.randint(3, 17)
            lo, hi = (22, 30) if migrant else (25, 34)
            younger = self.child(kid - rng.randint(1, min(9, kid)))
            return [*self.parents_of(kid, lo, hi), self.child(kid), younger]
        if template in ("three_gen_parent", "couple_child_grandparents"):
            kid = rng.randint(0, 14)
            members = [*self.parents_of(kid, 25, 36), self.child(kid)]
            if template == "couple_child_grandparents":
                elders = ["M", "F"]
            else:  # one grandparent, more often the grandmother, helping with the child
                elders = ["F" if rng.random() < 0.65 else "M"]
            for gender in elders:
                age = max(55, members[0].age + rng.randint(24, 34))
                members.append(_Person(Relation.PARENT, gender, min(age, MAX_AGE)))
            return members
        if template in ("three_gen_elder", "six"):
            grandkid = rng.randint(0, 16)
            son = template == "six" or rng.random() < 0.65
            kid_age = grandkid + rng.randint(25, 35)
            kid = _Person(Relation.CHILD, "M" if son else "F", kid_age)
            in_law_age = max(20, kid_age + (rng.randint(-5, 1) if son else rng.randint(-1, 5)))
            in_law = _Person(Relation.CHILD_IN_LAW, "F" if son else "M", in_law_age)
            head_age = max(kid_age + rng.randint(24, 33), 52)
            members = [*self.couple(head_age, male_head=0.7), kid, in_law]
            members.append(self.child(grandkid, Relation.GRANDCHILD))
            if template == "six":
                members.append(self.child(grandkid - rng.randint(1, 6), Relation.GRANDCHILD))
            return members
        if template == "shared_rental":
            return [
                _Person(
                    Relation.HEAD if i == 0 else Relation.OTHER,
                    "M" if rng.random() < 0.55 else "F",
                    rng.randint(20, 38),
                )
                for i in range(rng.randint(2, 4))
            ]
        if template == "elderly_with_child":
            head_age = rng.randint(72, 96)
            return [
                _Person(Relation.HEAD, "F" if rng.random() < 0.7 else "M", head_age),
                self.child(max(38, head_age - rng.randint(24, 36))),
            ]
        if template == "dorm":
            return [
                _Person(
                    Relation.HEAD if i == 0 else Relation.OTHER,
                    "M" if rng.random() < 0.6 else "F",
                    rng.randint(18, 45),
                )
                for i in range(rng.randint(3, 6))
            ]
        raise ValueError(template)

    def household(self, template: str | None = None, *, persona: bool = False) -> _Home:
        rng = self.rng
        if persona:
            template = "elderly_couple"
        elif template is None:
            template = _weighted(rng, TEMPLATES)
        migrant = not persona and rng.random() < MIGRANT_SHARE[template]
        overseas = not persona and template in ("single", "couple") and rng.random() < 0.02
        members = self.compose(template, migrant)
        if persona:
            members[0].gender, members[0].age = "F", PERSONA_AGE
            members[1].gender, members[1].age = "M", PERSONA_AGE + 2
        home = _Home(template, members, migrant=migrant, overseas=overseas)
        if template == "elderly_single" and not migrant and rng.random() < 0.04:
            members.append(
                _Person(Relation.TENANT, "M" if rng.random() < 0.5 else "F", rng.randint(22, 40))
            )
        for person in members:
            person.birth = _birth_for_age(rng, person.age)
        self._surnames(home, persona)
        self._statuses(home, persona)
        self._tenure(home)
        if persona:
            home.tenure = Tenure.OWNER_OCCUPIED
        return home

    def _surnames(self, home: _Home, persona: bool) -> None:
        members = home.members
        local = not (home.migrant or home.overseas)

        def index_of(*relations, gender=None):
            for i, p in enumerate(members):
                if p.relation in relations and (gender is None or p.gender == gender):
                    return i
            return None

        father = index_of(Relation.HEAD, Relation.SPOUSE, gender="M")
        kid_father = index_of(Relation.CHILD, Relation.CHILD_IN_LAW, gender="M")
        for person in members:
            if person.relation == Relation.CHILD and father is not None:
                mother = index_of(Relation.HEAD, Relation.SPOUSE, gender="F")
                use_mother = mother is not None and self.rng.random() < 0.06
                person.surname_from = mother if use_mother else father
            elif person.relation == Relation.GRANDCHILD and kid_father is not None:
                person.surname_from = kid_father
            elif person.relation == Relation.CHILD or (
                person.relation == Relation.PARENT and person.gender == "M"
            ):
                person.surname_from = 0  # the head's child (no father here) or father
        # Surnames first (those with their own), then the inherited ones.
        surnames: dict[int, str] = {}
        for i, person in enumerate(members):
            if person.surname_from is None:
                own_local = local and person.relation != Relation.TENANT
                surnames[i] = self.surname(own_local)
        for _ in range(3):
            for i, person in enumerate(members):
                if i not in surnames and person.surname_from in surnames:
                    surnames[i] = surnames[person.surname_from]
        for i, person in enumerate(members):
            surname = surnames.get(i) or self.surname(local)
            if persona and i == 0:
                person.name = PERSONA_NAME
                continue
            person.name = surname + self.given_name(person.gender, person.birth.year)
        for person in members:
            person.surname_from = None

    def _statuses(self, home: _Home, persona: bool) -> None:
        rng = self.rng
        members = home.members
        if home.overseas:
            region = rng.choice(OVERSEAS_REGIONS)
            for person in members:
                person.registration = Registration.OVERSEAS
                person.residence = Residence.LIVING_ONLY
                person.id_number = self.id_number(region, person.birth, person.gender)
        elif home.migrant:
            home_region = self.migrant_region()
            province = home_region[:2]
            for person in members:
                person.registration = Registration.MIGRANT
                person.residence = Residence.LIVING_ONLY
                region = home_region
                if person.relation in (Relation.SPOUSE, Relation.CHILD_IN_LAW, Relation.OTHER):
                    draw = rng.random()
                    if draw < 0.12 or person.relation == Relation.OTHER:
                        region = self.migrant_region()
                    elif draw < 0.4:
                        region = self.migrant_region(province)
                elif person.relation == Relation.PARENT and rng.random() < 0.3:
                    region = self.migrant_region(province)
                person.id_number = self.id_number(region, person.birth, person.gender)
        else:
            for i, person in enumerate(members):
                region = self.shanghai_region(person.birth)
                if person.relation == Relation.TENANT:
                    person.registration = Registration.MIGRANT
                    person.residence = Residence.LIVING_ONLY
                    region = self.migrant_region()
                elif (
                    person.relation in (Relation.SPOUSE, Relation.CHILD_IN_LAW)
                    and person.age < 70
                    and not persona
                    and rng.random() < 0.22
                ):
                    # Married in from another province: some now hold a Shanghai hukou.
                    region = self.migrant_region()
                    if rng.random() < 0.35:
                        person.registration = Registration.MIGRANT
                        person.residence = Residence.LIVING_ONLY
                    elif rng.random() < 0.5:
                        person.moved_in_as = {
                            "registration": Registration.MIGRANT,
                            "residence": Residence.LIVING_ONLY,
                        }
                elif i == 0 and not persona and rng.random() < 0.06:
                    # Registered in another Shanghai district, living here (人户分离).
                    person.residence = Residence.LIVING_ONLY
                    region = self.shanghai_region(person.birth, exclude_home=True)
                elif i > 0 and not persona and 20 <= person.age <= 60 and rng.random() < 0.06:
                    person.residence = Residence.REGISTERED_ONLY
                person.id_number = self.id_number(region, person.birth, person.gender)
        for person in members:
            if person.relation != Relation.TENANT and person is not members[0]:
                person.ethnicity = members[0].ethnicity if rng.random() < 0.8 else self.ethnicity()
            else:
                person.ethnicity = self.ethnicity()
        for person in members:
            person.phone = self._phone_for(person, members, persona)

    def _phone_for(self, person: _Person, members: list[_Person], persona: bool) -> str:
        rng = self.rng
        if persona and person is members[0]:
            return PERSONA_PHONE
        if person.age < 18:
            if rng.random() < 0.15:
                return ""
            guardians = {
                Relation.CHILD: (Relation.HEAD, Relation.SPOUSE),
                Relation.GRANDCHILD: (Relation.CHILD, Relation.CHILD_IN_LAW),
            }.get(person.relation, (Relation.HEAD,))
            for other in members:
                if other.relation in guardians and other.phone:
                    return other.phone
            return self.phone() if person.age >= 12 else ""
        if person.age >= 80 and rng.random() < 0.15:
            return ""
        return self.phone(old=person.age >= 55)

    def _tenure(self, home: _Home) -> None:
        rng = self.rng
        if home.template == "dorm":
            home.tenure, home.household_type, home.note = (
                Tenure.OTHER,
                HouseholdType.COLLECTIVE,
                "单位宿舍",
            )
        elif home.template == "shared_rental":
            home.tenure = Tenure.RENTED
        elif home.overseas:
            home.tenure = Tenure.RENTED if rng.random() < 0.5 else Tenure.OWNER_OCCUPIED
        elif home.migrant:
            home.tenure = Tenure.RENTED if rng.random() < 0.66 else Tenure.OWNER_OCCUPIED
        else:
            home.tenure = Tenure.RENTED if rng.random() < 0.05 else Tenure.OWNER_OCCUPIED

    # --- history ---

    def history(self, home: _Home) -> None:
        """Move-in dates, and the people who died or moved out but stay in the register."""
        rng = self.rng
        head = home.members[0]
        built = dt.date(home.compound.year, 6, 30)
        adult = _add_years(head.birth, 20)
        earliest = max(built, adult)
        if home.migrant or home.overseas or home.template == "shared_rental":
            years = min(int(rng.expovariate(1 / 3.5)), 25)
            arrival = _day_between(rng, _add_years(REFERENCE_DATE, -years - 1), REFERENCE_DATE)
        else:
            span = max(0, (REFERENCE_DATE - earliest).days)
            arrival = earliest + dt.timedelta(days=int(span * rng.random() ** 1.6))
        home.arrival = max(arrival, earliest) if earliest <= REFERENCE_DATE else REFERENCE_DATE
        for person in home.members:
            start = home.arrival
            if person.relation == Relation.CHILD_IN_LAW:
                start = max(start, _add_years(person.birth, rng.randint(23, 30)))
            elif person.relation in (Relation.PARENT, Relation.TENANT, Relation.OTHER):
                start = start + dt.timedelta(days=rng.randrange(0, 365 * 6))
            start = max(start, person.birth)
            if start > REFERENCE_DATE:
                start = _day_between(rng, max(person.birth, home.arrival), REFERENCE_DATE)
            person.move_in = start
            if person.moved_in_as:
                changed = _day_between(rng, person.move_in + dt.timedelta(days=700), REFERENCE_DATE)
                if changed <= REFERENCE_DATE and changed > person.move_in:
                    before = person.moved_in_as
                    person.later.append(
                        (
                            EventKind.STATUS,
                            changed,
                            {
                                "registration": [before["registration"], person.registration],
                                "residence": [before["residence"], person.residence],
                            },
                            "落户本市",
                        )
                    )
                else:
                    person.moved_in_as = {}
            if person.residence == Residence.REGISTERED_ONLY:
                left = _day_between(
                    rng, max(person.move_in, _add_years(person.birth, 20)), REFERENCE_DATE
                )
                person.later.append(
                    (
                        EventKind.STATUS,
                        left,
                        {"residence": [Residence.LIVING_REGISTERED, Residence.REGISTERED_ONLY]},
                        "人户分离，现居他处",
                    )
                )
        self._departed(home)

    def _departed(self, home: _Home) -> None:
        rng = self.rng
        head = home.members[0]
        local = not (home.migrant or home.overseas)
        extra: _Person | None = None
        if home.template == "elderly_single" and local and head.age >= 65 and rng.random() < 0.18:
            gender = "M" if head.gender == "F" else "F"
            extra = _Person(Relation.SPOUSE, gender, min(MAX_AGE, head.age + rng.randint(-2, 5)))
            extra.birth = _birth_for_age(rng, extra.age)
            first = max(home.arrival, _add_years(extra.birth, 60), dt.date(2008, 1, 1))
            date = _day_between(rng, first, REFERENCE_DATE - dt.timedelta(days=30))
            extra.status, kind, note = ResidentStatus.DECEASED, EventKind.DEATH, ""
        elif home.template == "elderly_couple" and local and rng.random() < 0.12:
            younger = min(p.age for p in home.members)
            extra = self.child(max(25, younger - rng.randint(24, 34)))
            extra.birth = _birth_for_age(rng, extra.age)
            first = max(home.arrival, _add_years(extra.birth, 22))
            date = _day_between(rng, first, REFERENCE_DATE - dt.timedelta(days=10))
            extra.status, kind, note = ResidentStatus.MOVED_OUT, EventKind.MOVE_OUT, "迁往他区"
        elif home.template == "shared_rental" and rng.random() < 0.3:
            extra = _Person(
                Relation.OTHER, "M" if rng.random() < 0.55 else "F", rng.randint(20, 38)
            )
            extra.birth = _birth_for_age(rng, extra.age)
            first = home.arrival + dt.timedelta(days=60)
            date = _day_between(rng, first, REFERENCE_DATE - dt.timedelta(days=5))
            extra.status, kind, note = ResidentStatus.MOVED_OUT, EventKind.MOVE_OUT, "合租到期"
        if extra is None:
            return
        extra.move_in = max(home.arrival, extra.birth)
        if not extra.move_in < date <= REFERENCE_DATE:
            return
        if local:
            father = next((p for p in home.members if p.gender == "M"), None)
            surname = father.name[0] if extra.relation == Relation.CHILD and father else None
            extra.name = (surname or self.surname(True)) + self.given_name(
                extra.gender, extra.birth.year
            )
            region = self.shanghai_region(extra.birth)
        else:
            extra.name = self.surname(False) + self.given_name(extra.gender, extra.birth.year)
            region = self.migrant_region()
            extra.registration, extra.residence = Registration.MIGRANT, Residence.LIVING_ONLY
        extra.id_number = self.id_number(region, extra.birth, extra.gender)
        extra.phone = "" if extra.status == ResidentStatus.DECEASED else self.phone()
        extra.ethnicity = self.ethnicity()
        extra.status_date = date
        extra.later.append((kind, date, {"status": [ResidentStatus.ACTIVE, extra.status]}, note))
        home.members.append(extra)

    # --- tags ---

    def tag(self, homes: list[_Home], residents: int) -> None:
        rng = self.rng
        adults = []
        for home in homes:
            living = [p for p in home.members if p.living]
            poor = not home.migrant and rng.random() < 0.012
            for person in home.members:
                if person.status != ResidentStatus.ACTIVE:
                    continue
                age = age_on(person.birth, REFERENCE_DATE)
                tags = person.tags
                if age >= 80:
                    tags.append("elderly_80")
                if person.living and age >= 60 and len(living) == 1:
                    tags.append("elderly_alone")
                if person.living and all(age_on(p.birth, REFERENCE_DATE) >= 60 for p in living):
                    tags.append("empty_nest")
                if age >= 18:
                    adults.append(person)
                    party = 0.13 if age >= 60 else 0.07 if age >= 40 else 0.045
                    if rng.random() < party:
                        tags.append("party_member")
                    volunteer = 0.12 if 60 <= age <= 75 else 0.03 if age > 75 else 0.04
                    if rng.random() < volunteer:
                        tags.append("volunteer")
                    veteran = 0.025 if age >= 60 else 0.01 if age >= 40 else 0
                    if person.gender == "M" and rng.random() < veteran:
                        tags.append("veteran")
                disabled = 0.006 if age < 18 else 0.015 if age < 60 else 0.025 if age < 80 else 0.06
                if rng.random() < disabled:
                    tags.append("disabled")
                if poor:
                    tags.append("low_income")
                if age >= 70 and rng.random() < 0.02:
                    tags.append("health_watch")
        candidates = [p for p in adults if 18 <= age_on(p.birth, REFERENCE_DATE) <= 60]
        for person in rng.sample(candidates, min(len(candidates), max(1, residents // 2500))):
            person.tags.append("special_care")


def _parse_room(name: str) -> tuple[int, int]:
    digits = name.rstrip("室")
    return int(digits[:-2]), int(digits[-2:])


@transaction.atomic
def populate_register(world: World, *, seed: int, residents: int = 30_000) -> dict[str, int]:
    """Fill the register of `world.street` with about `residents` people living in its
    dwellings, their owners and the committees' organisations. Returns the counts."""
    planner = _Planner(seed)
    rng = planner.rng

    # The dwellings in path order, with their building and compound.
    units = list(
        Place.objects.filter(under_q(world.street.path), kind=PlaceKind.HOUSEHOLD)
        .select_related("parent__parent")
        .order_by("path")
    )
    committees = {c.pk: c for c in world.committees}
    compounds: dict[int, _Compound] = {}
    by_committee: dict[int, list[_Compound]] = {}
    for unit in units:
        place = unit.parent.parent
        if place.pk in compounds:
            continue
        suffix = next((s for s in COMPOUND_KINDS if place.name.endswith(s)), "小区")
        built, area = COMPOUND_KINDS[suffix]
        compound = _Compound(place, committees[place.parent_id], built, area)
        compounds[place.pk] = compound
        by_committee.setdefault(place.parent_id, []).append(compound)
    committee_list = [c for c in world.committees if c.pk in by_committee]
    first_committee = world.committees[0].path
    persona_unit = next((u for u in units if u.path.startswith(first_committee)), None)
    for index, committee in enumerate(committee_list):
        members = by_committee[committee.pk]
        if index % 3 == 1 and len(members) > 1:
            # The newest compound of a few committees is still partly unsold.
            developer = next((c for c in reversed(members) if c.built[0] >= 1992), members[-1])
            developer.developer, developer.built, developer.area = True, (2015, 2020), (78, 140)
        for compound in members:
            compound.year = rng.randint(*compound.built)
            old = compound.built[1] <= 1992
            first = persona_unit is not None and compound.place.pk == persona_unit.parent.parent_id
            if old and not first and not compound.developer and rng.random() < 0.3:
                compound.public_housing = True  # 直管公房: tenants of the housing bureau

    # Who lives where.
    max_homes = len(units) - max(1, round(len(units) * 0.04))
    homes: list[_Home] = []
    active = 0
    while units and len(homes) < max_homes and active < residents:
        home = planner.household(persona=not homes)
        homes.append(home)
        active += len(home.members)
    # The persona's home first (钱阿姨 lives in the first committee's first dwelling), then
    # vacancies: part of the developers' compounds is unsold, the rest are spread at random.
    free = [u for u in units if not (homes and u is persona_unit)]
    vacant_total = len(units) - len(homes)
    developer_units = [u for u in free if compounds[u.parent.parent_id].developer]
    unsold = rng.sample(developer_units, min(len(developer_units) * 3 // 10, vacant_total // 2))
    unsold_ids = {u.pk for u in unsold}
    others = [u for u in free if u.pk not in unsold_ids]
    vacant_ids = unsold_ids | {u.pk for u in rng.sample(others, vacant_total - len(unsold))}
    occupied = iter(homes[1:] if persona_unit else homes)
    by_unit: dict[int, _Home] = {}
    for unit in units:
        if unit.pk in vacant_ids:
            continue
        home = homes[0] if unit is persona_unit else next(occupied)
        home.unit, home.compound = unit, compounds[unit.parent.parent_id]
        if home.compound.public_housing:
            home.tenure, home.note = Tenure.OTHER, "直管公房承租"
        planner.history(home)
        by_unit[unit.pk] = home
    _plan_transfers(rng, homes)
    planner.tag(homes, residents)

    counts = _write_households(units, compounds, by_unit)
    counts.update(_write_residents(homes))
    counts.update(_write_owners(planner, units, compounds, by_unit, unsold_ids))
    counts.update(_write_areas(rng, units, compounds))
    counts.update(_write_organisations(planner, committee_list, by_committee, by_unit))
    audit_record(actor=None, action="demo.register.build", place=world.street, changes=counts)
    return counts


def _plan_transfers(rng: random.Random, homes: list[_Home]) -> None:
    """Some young local heads grew up in an older household of the same committee."""
    elders: dict[int, list[_Home]] = {}
    for home in homes:
        if home.template in ("elderly_couple", "elderly_single") and not home.migrant:
            elders.setdefault(home.compound.committee.pk, []).append(home)
    for home in homes:
        head = home.members[0]
        if (
            home.template in ("couple", "couple_minor", "couple_two_children")
            and not (home.migrant or home.overseas)
            and head.residence == Residence.LIVING_REGISTERED
            and 25 <= head.age <= 45
            and rng.random() < 0.15
        ):
            candidates = elders.get(home.compound.committee.pk, [])
            if not candidates:
                continue
            origin = rng.choice(candidates)
            moved_in = max(origin.arrival, head.birth)
            if moved_in >= home.arrival:
                continue
            head.origin, head.move_in = origin, moved_in
            head.moved_in_as = {"relation": Relation.CHILD}  # grew up there as a child
            head.later.append((EventKind.TRANSFER, home.arrival, None, "成家后分户"))


def _address(unit: Place) -> str:
    return f"{unit.parent.parent.name}{unit.parent.name}{unit.name}"


def _write_households(units, compounds, by_unit) -> dict:
    rows = []
    for unit in units:
        home = by_unit.get(unit.pk)
        if home is None:
            compound = compounds[unit.parent.parent_id]
            note = "开发商未售" if compound.developer else ""
            record = Household(
                place_id=unit.pk,
                path=unit.path,
                tenure=Tenure.VACANT,
                address=_address(unit),
                note=note,
            )
        else:
            record = Household(
                place_id=unit.pk,
                path=unit.path,
                household_type=home.household_type,
                tenure=home.tenure,
                address=_address(unit),
                note=home.note,
            )
            home.record = record
        rows.append(record)
    Household.objects.bulk_create(rows, batch_size=BATCH)
    return {"households": len(by_unit), "vacant": len(units) - len(by_unit)}


def _snapshot(person: _Person, household: Household) -> dict:
    """The MOVE_IN event's changes, shaped like the services' (field → [None, value])."""
    values = {
        "name": person.name,
        "id": mask_id_number(person.id_number),
        "phone": mask_phone(person.phone),
        "ethnicity": person.ethnicity,
        "registration": person.registration,
        "residence": person.residence,
        "relation": person.relation,
        "status": ResidentStatus.ACTIVE,
        "household": household.pk,
        "tags": [],
    }
    values.update(person.moved_in_as)
    if person.residence == Residence.REGISTERED_ONLY:
        values["residence"] = Residence.LIVING_REGISTERED
    return {k: [None, v] for k, v in values.items()}


def _write_residents(homes: list[_Home]) -> dict:
    people: list[_Person] = []
    rows = []
    for home in homes:
        for person in home.members:
            record = Resident(
                household_id=home.record.pk,
                path=home.record.path,
                name=person.name,
                gender=person.gender,
                birth_date=person.birth,
                ethnicity=person.ethnicity,
                registration=person.registration,
                residence=person.residence,
                relation=person.relation,
                status=person.status,
                status_date=person.status_date,
            )
            pii_assign(record, "id", person.id_number)
            pii_assign(record, "phone", person.phone)
            person.record = record
            people.append(person)
            rows.append(record)
    Resident.objects.bulk_create(rows, batch_size=BATCH)

    tag_ids = dict(Tag.objects.values_list("code", "id"))
    through = Resident.tags.through
    links = [
        through(resident_id=p.record.pk, tag_id=tag_ids[code])
        for p in people
        for code in p.tags
        if code in tag_ids
    ]
    through.objects.bulk_create(links, batch_size=BATCH)

    events = []
    for home in homes:
        for person in home.members:
            first = person.origin.record if person.origin else home.record
            events.append(
                ResidentEvent(
                    resident_id=person.record.pk,
                    household_id=first.pk,
                    path=first.path,
                    kind=EventKind.MOVE_IN,
                    date=person.move_in,
                    changes=_snapshot(person, first),
                )
            )
            for kind, date, changes, note in person.later:
                if kind == EventKind.TRANSFER:
                    moved = {"household": [first.pk, home.record.pk]}
                    for where in (first, home.record):
                        events.append(
                            ResidentEvent(
                                resident_id=person.record.pk,
                                household_id=where.pk,
                                path=where.path,
                                kind=kind,
                                date=date,
                                changes=moved,
                                note=note,
                            )
                        )
                    continue
                events.append(
                    ResidentEvent(
                        resident_id=person.record.pk,
                        household_id=home.record.pk,
                        path=home.record.path,
                        kind=kind,
                        date=date,
                        changes=changes,
                        note=note,
                    )
                )
    ResidentEvent.objects.bulk_create(events, batch_size=BATCH)
    statuses = [p.status for p in people]
    return {
        "residents": len(people),
        "active": statuses.count(ResidentStatus.ACTIVE),
        "moved_out": statuses.count(ResidentStatus.MOVED_OUT),
        "deceased": statuses.count(ResidentStatus.DECEASED),
        "events": len(events),
        "tags": len(links),
    }


def _write_owners(planner: _Planner, units, compounds, by_unit, unsold_ids) -> dict:
    rng = planner.rng
    owners: list[_Owner] = []
    holdings: list[tuple[Place, _Owner, Decimal | None, bool, dt.date]] = []
    pools: dict[int, list[_Owner]] = {}  # per committee: owners who may take another unit
    developers: dict[int, _Owner] = {}

    def add(owner: _Owner) -> _Owner:
        owners.append(owner)
        return owner

    for unit in units:
        compound = compounds[unit.parent.parent_id]
        committee = compound.committee
        home = by_unit.get(unit.pk)
        built = dt.date(compound.year, 6, 30)
        if compound.public_housing:
            continue
        if unit.pk in unsold_ids:
            developer = developers.get(committee.pk)
            if developer is None:
                name = f"上海{rng.choice(DEVELOPER_STEMS)}置业有限公司"
                developer = add(
                    _Owner(
                        committee,
                        OwnerKind.DEVELOPER,
                        name,
                        credit_code(rng, "91"),
                        f"021{rng.randint(54000000, 64999999)}",
                    )
                )
                developers[committee.pk] = developer
            holdings.append((unit, developer, None, True, built))
            continue
        if home is not None and home.template == "dorm":
            company = f"上海{rng.choice(COMPANY_STEMS)}餐饮管理有限公司"
            owner = next(
                (o for o in owners if o.committee is committee and o.name == company), None
            ) or add(
                _Owner(
                    committee,
                    OwnerKind.ORGANISATION,
                    company,
                    credit_code(rng, "91"),
                    f"021{rng.randint(54000000, 64999999)}",
                )
            )
            holdings.append((unit, owner, None, True, home.arrival))
            continue
        pool = pools.setdefault(committee.pk, [])
        if home is not None and home.tenure == Tenure.OWNER_OCCUPIED:
            head = home.members[0]
            owner = add(
                _Owner(committee, OwnerKind.PERSON, head.name, head.id_number, head.phone, head)
            )
            spouse = next(
                (p for p in home.members if p.relation == Relation.SPOUSE and p.living), None
            )
            if spouse is not None and (home.template == "elderly_couple" or rng.random() < 0.6):
                joint = add(
                    _Owner(
                        committee,
                        OwnerKind.PERSON,
                        spouse.name,
                        spouse.id_number,
                        spouse.phone,
                        spouse,
                    )
                )
                holdings.append((unit, owner, Decimal("0.5"), True, home.arrival))
                holdings.append((unit, joint, Decimal("0.5"), False, home.arrival))
            else:
                holdings.append((unit, owner, None, True, home.arrival))
            owner.units = 1
            if rng.random() < 0.06:
                pool.append(owner)  # also lets out a flat nearby
            continue
        # Rented or vacant: the owner lives elsewhere, sometimes holding several units here.
        choices = [o for o in pool if o.units < 3]
        if choices and rng.random() < 0.22:
            owner = rng.choice(choices)
        else:
            name, number, _, phone = planner.stranger(local=rng.random() < 0.8)
            owner = add(_Owner(committee, OwnerKind.PERSON, name, number, phone))
            pool.append(owner)
        owner.units += 1
        since = _day_between(rng, built, REFERENCE_DATE - dt.timedelta(days=400))
        holdings.append((unit, owner, None, True, since))

    rows = []
    for owner in owners:
        record = Owner(
            committee_id=owner.committee.pk,
            path=owner.committee.path,
            kind=owner.kind,
            name=owner.name,
            resident_id=owner.resident.record.pk if owner.resident else None,
        )
        pii_assign(record, "id", owner.id_number)
        pii_assign(record, "phone", owner.phone)
        owner.record = record
        rows.append(record)
    Owner.objects.bulk_create(rows, batch_size=BATCH)
    Ownership.objects.bulk_create(
        [
            Ownership(
                unit_id=unit.pk,
                path=unit.path,
                owner_id=owner.record.pk,
                share=share,
                votes_for_unit=votes,
                since=since,
            )
            for unit, owner, share, votes, since in holdings
        ],
        batch_size=BATCH,
    )
    return {"owners": len(rows), "ownerships": len(holdings)}


def _write_areas(rng: random.Random, units, compounds) -> dict:
    """Floor areas, the same for a stack of flats, from one or two sources."""
    stack_area: dict[tuple[int, int], Decimal] = {}
    floors: dict[int, int] = {}
    for unit in units:
        floors[unit.parent_id] = max(floors.get(unit.parent_id, 0), _parse_room(unit.name)[0])
    rows = []
    for unit in units:
        compound = compounds[unit.parent.parent_id]
        _, number = _parse_room(unit.name)
        key = (unit.parent_id, number)
        if key not in stack_area:
            lo, hi = compound.area
            if floors[unit.parent_id] >= HIGH_RISE_FLOORS:
                lo, hi = max(lo, 62), max(hi, 128)
            stack_area[key] = Decimal(f"{rng.uniform(lo, hi):.2f}")
        area = stack_area[key]
        draw = rng.random()
        if compound.public_housing:
            sources = [AreaSource.SURVEY]
        elif draw < 0.03:
            sources = [AreaSource.CONTRACT]
        elif draw < 0.13:
            sources = [AreaSource.SURVEY]
        elif draw < 0.15:
            sources = [AreaSource.SURVEY, AreaSource.CONTRACT]
        elif draw < 0.21:
            sources = [AreaSource.REGISTRY, AreaSource.SURVEY]
        elif draw < 0.23:
            sources = [AreaSource.REGISTRY, AreaSource.CONTRACT]
        else:
            sources = [AreaSource.REGISTRY]
        for i, source in enumerate(sources):
            value = area if i == 0 else (area * Decimal(f"{rng.uniform(0.97, 1.03):.4f}"))
            rows.append(
                UnitArea(
                    unit_id=unit.pk,
                    path=unit.path,
                    source=source,
                    area=value.quantize(Decimal("0.01")),
                )
            )
    UnitArea.objects.bulk_create(rows, batch_size=BATCH)
    return {"unit_areas": len(rows)}


def _write_organisations(planner: _Planner, committees, by_committee, by_unit) -> dict:
    rng = planner.rng
    plans: list[tuple[Organisation, list[Place], list[tuple[str, str, str]]]] = []
    social_kinds = list(SocialOrgKind)
    social_index = 0
    homes_by_compound: dict[int, list[_Home]] = {}
    for home in by_unit.values():
        homes_by_compound.setdefault(home.compound.place.pk, []).append(home)

    def contact_from(compound_ids: list[int], title: str, lo: int, hi: int) -> tuple[str, str, str]:
        """A resident of these compounds aged lo..hi with a phone, else someone from outside."""
        people = [
            p
            for pk in compound_ids
            for h in homes_by_compound.get(pk, [])
            for p in h.members
            if p.living and p.phone and lo <= age_on(p.birth, REFERENCE_DATE) <= hi
        ]
        if people:
            person = rng.choice(people)
            return person.name, title, person.phone
        name, _, _, phone = planner.stranger(local=True)
        return name, title, phone

    def org(committee, kind, name, areas, contacts, *, social="", code="", address=""):
        record = Organisation(
            committee_id=committee.pk,
            path=committee.path,
            kind=kind,
            social_org_kind=social,
            name=name,
            credit_code=code,
            address=address,
            office_phone=f"021-{rng.randint(54000000, 64999999)}" if code else "",
            responsibilities=RESPONSIBILITIES[kind],
        )
        plans.append((record, areas, contacts))

    for committee in committees:
        stem = committee.name[:2]
        compounds = by_committee[committee.pk]
        all_ids = [c.place.pk for c in compounds]
        for compound in compounds:
            if compound.public_housing or compound.developer or rng.random() < 0.12:
                continue
            ids = [compound.place.pk]
            contacts = [contact_from(ids, "主任", 50, 75)]
            if rng.random() < 0.5:
                contacts.append(contact_from(ids, "副主任", 35, 70))
            org(
                committee,
                OrganisationKind.OWNERS_COMMITTEE,
                f"{compound.place.name}业主委员会",
                [compound.place],
                contacts,
                address=f"{compound.place.name}物业管理用房",
            )
        start, used = 0, set()
        while start < len(compounds):
            group = compounds[start : start + rng.randint(1, 3)]
            start += len(group)
            company = next(
                name
                for name in (f"上海{rng.choice(PROPERTY_STEMS)}物业管理有限公司" for _ in range(99))
                if name not in used
            )
            used.add(company)
            contacts = [contact_from([], "项目经理", 30, 55)]
            if rng.random() < 0.6:
                contacts.append(contact_from([], "客服主管", 25, 50))
            org(
                committee,
                OrganisationKind.PROPERTY_MANAGER,
                company,
                [c.place for c in group],
                contacts,
                code=credit_code(rng, "91"),
                address=f"{group[0].place.name}物业服务中心",
            )
        for pattern, prefix, title, second in rng.sample(RESIDENT_UNITS, rng.randint(2, 4)):
            contacts = [contact_from([], title, 35, 60)]
            if rng.random() < 0.5:
                contacts.append(contact_from([], second, 25, 55))
            served = [rng.choice(compounds).place] if rng.random() < 0.4 else []
            org(
                committee,
                OrganisationKind.RESIDENT_UNIT,
                pattern.format(s=stem),
                served,
                contacts,
                code=credit_code(rng, prefix),
                address=f"梧桐路{rng.randint(1, 480)}号",
            )
        for _ in range(rng.randint(1, 3)):
            kind = social_kinds[social_index % len(social_kinds)]
            social_index += 1
            name = rng.choice(SOCIAL_ORGS[kind]).format(s=stem)
            if any(p[0].committee_id == committee.pk and p[0].name == name for p in plans):
                continue
            contacts = [contact_from([], "理事长" if kind != "social_service" else "主任", 40, 68)]
            if rng.random() < 0.5:
                contacts.append(contact_from([], "秘书长", 30, 60))
            org(
                committee,
                OrganisationKind.SOCIAL_ORG,
                name,
                [],
                contacts,
                social=kind,
                code=credit_code(rng, SOCIAL_ORG_CODE[kind]),
                address=f"{committee.name}活动室",
            )
        for team in rng.sample(ACTIVITY_TEAMS, rng.randint(3, 6)):
            contacts = [contact_from(all_ids, "队长", 50, 78)]
            if rng.random() < 0.3:
                contacts.append(contact_from(all_ids, "副队长", 45, 75))
            org(
                committee,
                OrganisationKind.ACTIVITY_TEAM,
                f"{stem}{team}",
                [],
                contacts,
                address=f"{committee.name}活动室",
            )

    Organisation.objects.bulk_create([p[0] for p in plans], batch_size=BATCH)
    through = Organisation.areas.through
    through.objects.bulk_create(
        [through(organisation_id=o.pk, place_id=a.pk) for o, areas, _ in plans for a in areas],
        batch_size=BATCH,
    )
    contacts = []
    for record, _, people in plans:
        for name, title, phone in people:
            contact = OrganisationContact(organisation_id=record.pk, name=name, title=title)
            pii_assign(contact, "phone", phone)
            contacts.append(contact)
    OrganisationContact.objects.bulk_create(contacts, batch_size=BATCH)
    return {"organisations": len(plans), "contacts": len(contacts)}
