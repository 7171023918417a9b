"""The demo's work orders: a year of reports for the demo street, handled through every level.

`populate_orders` simulates every order step by step with the bookkeeping of
`linli.workorders.services` (the same actions, from/to states, levels, clocks, counters and
`data` facts; deadlines from `calendar.add_working_time` and the time limits) and writes the
result with bulk inserts: `order_act` costs about 5 ms a step, some 20 minutes for a year of
orders. `tests/test_workorders_demo.py` drives one path through both and compares the rows.

What the year looks like (everything is fictitious):
- about 55 reports a day, fewer at weekends, on holidays and at the Spring Festival, more in
  summer; grid workers on patrol find ~45 %, residents report ~25 %, the 12345 hotline passes
  on ~20 %, property managers and committees the rest; residents report in the mornings and
  evenings, the hotline round the clock, staff in working hours;
- everyone else works on the working calendar: the centre verifies, registers and dispatches
  within its limits (明责派单 by the street's routing rules), departments sign for and handle,
  some return a misrouted order, ask for more time (through their head), fail a check or are
  late; the committee settles its own matters (自治) and runs errands (一代理) for elderly and
  disabled residents;
- reporters rate most orders they can rate (about 90 % satisfied); the timer reminds at the
  yellow light, presses (督办) at the red one and archives after the rating window;
- the last days are cut at `now` wherever each order stands, and a share of them is held in
  every open state, so every board shows live work with green, yellow and red lights.

Only the builder's personas have accounts. Other staff act as `actor=None` with a name and
their role; a grid without a grid-worker account leaves `assignee` empty.
"""

import datetime as dt
import math
import random
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.management.color import no_style
from django.db import transaction
from django.db.models import DateField, DateTimeField, DecimalField, JSONField, Max
from django.utils import timezone

from linli.accounts.models import RoleAssignment
from linli.accounts.roles import Role
from linli.core.audit import audit_record
from linli.core.crypto import encrypt
from linli.demo.builder import World
from linli.people.choices import ResidentStatus
from linli.people.models import Resident
from linli.people.pii import mask_phone
from linli.places.choices import DepartmentKind
from linli.places.models import Grid
from linli.workorders import calendar
from linli.workorders.choices import (
    CLOSED_STATES,
    CategoryKind,
    Kind,
    Level,
    LimitUnit,
    Phase,
    RejectReason,
    Source,
    State,
    Urgency,
)
from linli.workorders.machine import ACTIONS, STATE_PHASE
from linli.workorders.models import (
    Category,
    RoutingRule,
    ServiceItem,
    Summons,
    TimeLimit,
    Transition,
    WorkOrder,
)

TZ = calendar.TZ
DEFAULT_LIMIT = (5, LimitUnit.DAYS)  # services.time_limit when no row applies
TICK_SECONDS = 300  # the timer (workorders_tick) runs every five minutes
BATCH = 2000
WRITE_EVERY = 2000  # orders simulated before they are written
JITTER_M = 80
# Sources that skip verification (services._VERIFIED_SOURCES).
VERIFIED_SOURCES = frozenset({Source.PATROL, Source.COMMITTEE, Source.DISTRICT})

# --- the catalogue, the routes --------------------------------------------------------------

# 一代理: (code, name, working days, what it takes, weight, minimum age, tag preferred)
SERVICE_ITEMS = [
    ("DL01", "养老金资格认证", 3, "退休人员每年一次的领取资格认证，上门协助人脸识别", 25, 60, ""),
    ("DL02", "高龄津贴申请", 5, "65周岁以上老人申领老年综合津贴", 15, 65, ""),
    ("DL03", "医保报销代办", 10, "门急诊、住院自负费用的报销材料代为递交", 18, 18, ""),
    ("DL04", "长护险评估申请", 10, "长期护理保险需求评估的申请与预约", 10, 60, ""),
    ("DL05", "敬老卡办理", 5, "上海市敬老卡的申领、补办和换卡", 8, 65, ""),
    ("DL06", "残疾人补贴申请", 10, "残疾人两项补贴及护理补贴的申请", 8, 18, "disabled"),
    ("DL07", "居住证办理", 10, "来沪人员居住登记、居住证申领与续签", 6, 18, ""),
    ("DL08", "低保申请", 15, "最低生活保障的申请材料收集与递交", 4, 18, "low_income"),
    ("DL09", "独生子女父母奖励费申领", 5, "退休时一次性奖励费的申领", 3, 55, ""),
    ("DL10", "门诊大病登记", 5, "医保门诊大病项目登记", 3, 18, ""),
]

# Lead department of each major class, by department kind; minor names override it.
MAJOR_DEPARTMENT = {
    (CategoryKind.COMPONENT, "01"): DepartmentKind.CITY_MANAGEMENT,
    (CategoryKind.COMPONENT, "02"): DepartmentKind.POLICE_STATION,
    (CategoryKind.COMPONENT, "03"): DepartmentKind.GREENING_SANITATION,
    (CategoryKind.COMPONENT, "04"): DepartmentKind.GREENING_SANITATION,
    (CategoryKind.COMPONENT, "05"): DepartmentKind.HOUSING_OFFICE,
    (CategoryKind.COMPONENT, "06"): DepartmentKind.HOUSING_OFFICE,
    (CategoryKind.EVENT, "01"): DepartmentKind.GREENING_SANITATION,
    (CategoryKind.EVENT, "02"): DepartmentKind.CITY_MANAGEMENT,
    (CategoryKind.EVENT, "03"): DepartmentKind.CITY_MANAGEMENT,
    (CategoryKind.EVENT, "04"): DepartmentKind.CITY_MANAGEMENT,
    (CategoryKind.EVENT, "05"): DepartmentKind.CITY_MANAGEMENT,
    (CategoryKind.EVENT, "06"): DepartmentKind.HOUSING_OFFICE,
}
D = DepartmentKind
MINOR_DEPARTMENT = {
    "路灯": (D.GREENING_SANITATION, ()),
    "消火栓": (D.POLICE_STATION, ()),
    "停车设施": (D.HOUSING_OFFICE, ()),
    "非机动车停放设施": (D.HOUSING_OFFICE, ()),
    "公共监控": (D.POLICE_STATION, ()),
    "餐饮油烟": (D.MARKET_REGULATION, (D.CITY_MANAGEMENT,)),
    "露天焚烧": (D.CITY_MANAGEMENT, ()),
    "燃气泄漏": (D.POLICE_STATION, (D.HOUSING_OFFICE,)),
    "火情": (D.POLICE_STATION, ()),
    "供水管道破裂": (D.HOUSING_OFFICE, ()),
    "下水道堵塞": (D.HOUSING_OFFICE, ()),
    "道路积水": (D.GREENING_SANITATION, ()),
    "树木倒伏": (D.GREENING_SANITATION, ()),
    "供电线路故障": (D.HOUSING_OFFICE, ()),
    "机动车乱停放": (D.POLICE_STATION, ()),
    "流浪乞讨人员": (D.POLICE_STATION, ()),
    "无照经营游商": (D.CITY_MANAGEMENT, (D.MARKET_REGULATION,)),
    "群租": (D.HOUSING_OFFICE, (D.POLICE_STATION,)),
    "违法搭建": (D.CITY_MANAGEMENT, (D.HOUSING_OFFICE,)),
    "高空抛物": (D.POLICE_STATION, (D.HOUSING_OFFICE,)),
    "噪声扰民": (D.POLICE_STATION, ()),
    "邻里纠纷": (D.POLICE_STATION, ()),
    "宠物扰民": (D.POLICE_STATION, ()),
    "电动车违规充电": (D.HOUSING_OFFICE, (D.POLICE_STATION,)),
    "占用消防通道": (D.POLICE_STATION, (D.HOUSING_OFFICE,)),
    "毁绿种菜": (D.GREENING_SANITATION, (D.HOUSING_OFFICE,)),
    "施工扰民": (D.CITY_MANAGEMENT, ()),
}
# A few grids route differently (a market street, a compound with its own cleaners …):
# (grid index, minor name, lead kind).
GRID_OVERRIDES = [
    (1, "店外经营", D.MARKET_REGULATION),
    (1, "占道堆物", D.MARKET_REGULATION),
    (2, "暴露垃圾", D.HOUSING_OFFICE),
    (3, "机动车乱停放", D.CITY_MANAGEMENT),
]

# --- what gets reported, by whom, when -----------------------------------------------------

SOURCES = [Source.PATROL, Source.RESIDENT, Source.HOTLINE, Source.PROPERTY, Source.COMMITTEE]
SOURCE_WEIGHTS = {  # working day, other day
    True: [48.5, 23, 18, 5, 5.5],
    False: [27, 34, 29, 5, 2],
}
# Relative weight of a minor category per source (patrol, resident, hotline, property,
# committee); categories not named here get DEFAULT_WEIGHT.
CATEGORY_WEIGHTS = {
    "暴露垃圾": (14, 5, 4, 2, 2),
    "积存垃圾渣土": (4, 2, 1.5, 2, 1),
    "大件垃圾乱堆": (4, 3, 1.5, 2, 1),
    "占道堆物": (6, 2, 2, 1, 1),
    "楼道堆物": (1, 6, 1, 4, 4),
    "店外经营": (10, 2, 4, 0.5, 0.5),
    "无照经营游商": (6, 1.5, 3, 0.3, 0.5),
    "非法小广告": (7, 1, 0.5, 1, 0.5),
    "机动车乱停放": (5, 3, 4, 1, 0.5),
    "非机动车乱停放": (4, 1.5, 1.5, 1, 0.5),
    "群租": (3, 6, 6, 4, 3),
    "违法搭建": (4, 5, 5, 5, 2),
    "井盖（类型待核实）": (3, 3, 2, 0.5, 0.5),
    "上水井盖": (1.2, 0.3, 0.3, 0.2, 0.1),
    "污水井盖": (1.2, 0.3, 0.3, 0.2, 0.1),
    "雨水井盖": (1.2, 0.3, 0.3, 0.2, 0.1),
    "电力井盖": (0.8, 0.2, 0.2, 0.1, 0.1),
    "通信井盖": (0.8, 0.2, 0.2, 0.1, 0.1),
    "燃气井盖": (0.5, 0.2, 0.2, 0.1, 0.1),
    "雨水箅子": (1.5, 0.5, 0.5, 0.2, 0.1),
    "路灯": (4, 3, 2, 1, 0.5),
    "噪声扰民": (0.5, 8, 6, 1, 1),
    "施工扰民": (1, 3, 6, 0.2, 0.5),
    "餐饮油烟": (1.5, 3, 4, 0.5, 0.5),
    "道路破损": (4, 2, 2, 0.5, 0.5),
    "道路不洁": (4, 1, 1, 0.5, 0.3),
    "绿地脏乱": (3, 0.5, 0.5, 0.5, 0.3),
    "行道树": (2, 1, 1, 0.5, 0.3),
    "绿地": (1.5, 0.5, 0.3, 1, 0.3),
    "毁绿种菜": (1, 1.5, 0.5, 2, 2),
    "下水道堵塞": (1, 2, 2, 1, 0.5),
    "道路积水": (1, 1, 1.5, 0.5, 0.3),
    "电动车违规充电": (1.5, 2, 1, 3, 2),
    "占用消防通道": (1, 2, 1.5, 2, 1),
    "漏水渗水": (0, 3, 2, 1, 1.5),
    "电梯": (0.2, 2, 2, 1, 0.5),
    "宠物扰民": (0.2, 2, 1, 0.5, 1),
    "邻里纠纷": (0, 2, 1, 0.5, 2),
    "物业服务": (0, 3, 3, 0, 1),
    "高空抛物": (0.3, 2, 1.5, 1, 0.5),
    "楼道公共设施": (0.5, 2, 0.5, 2, 1),
    "垃圾分类投放不规范": (2, 1, 0.3, 2, 2),
    "沿街晾挂": (2, 0.3, 0.3, 0.2, 0.3),
    "乱涂写": (2, 0.5, 0.3, 0.5, 0.3),
    "散发广告传单": (1.5, 0.3, 0.3, 0.3, 0.1),
}
DEFAULT_WEIGHT = (0.4, 0.15, 0.2, 0.1, 0.05)
# Minor things a grid worker often settles on the spot (自行处置).
ON_THE_SPOT = {
    "非法小广告",
    "暴露垃圾",
    "道路不洁",
    "绿地脏乱",
    "非机动车乱停放",
    "占道堆物",
    "沿街晾挂",
    "散发广告传单",
    "乱涂写",
    "垃圾分类投放不规范",
}
# Month factors (January first).
SUMMER = (0.9, 0.8, 0.9, 1, 1.1, 1.2, 1.3, 1.3, 1.1, 1, 0.9, 0.9)
RAIN = (0.3, 0.3, 0.5, 0.8, 1.2, 2.5, 2.5, 1.8, 1.2, 0.6, 0.4, 0.3)
TYPHOON = (0.4, 0.4, 0.6, 0.8, 1, 1.5, 2, 2.5, 2, 1, 0.6, 0.5)
WINTER = (1.5, 1.4, 1.1, 0.9, 0.8, 0.7, 0.7, 0.7, 0.8, 1, 1.2, 1.5)
BUILDING = (0.7, 0.5, 1, 1.1, 1.1, 1.1, 1, 1, 1.1, 1.1, 1.1, 1)
SEASONS = {
    "暴露垃圾": SUMMER,
    "餐饮油烟": SUMMER,
    "噪声扰民": SUMMER,
    "宠物扰民": SUMMER,
    "道路积水": RAIN,
    "下水道堵塞": RAIN,
    "树木倒伏": TYPHOON,
    "行道树": TYPHOON,
    "露天焚烧": WINTER,
    "电动车违规充电": WINTER,
    "施工扰民": BUILDING,
    "工地扬尘": BUILDING,
    "群租": (1, 1.2, 1.3, 1, 1, 1, 1, 1, 1.1, 1, 1, 1),
}
# Reports per day: the month (Spring Festival in February, summer peak, National Day).
MONTH_FACTOR = (0.9, 0.75, 0.95, 1.0, 1.05, 1.1, 1.15, 1.15, 1.05, 0.95, 1.0, 0.95)
# Hour-of-day weights (0–23) per source.
HOURS = {
    Source.PATROL: {8: 2, 9: 8, 10: 9, 11: 6, 12: 1, 13: 4, 14: 8, 15: 8, 16: 6},
    Source.RESIDENT: {
        **{6: 1, 7: 4, 8: 6, 9: 7, 10: 7, 11: 5, 12: 4, 13: 4, 14: 5, 15: 5, 16: 5, 17: 5},
        **{18: 6, 19: 8, 20: 8, 21: 6, 22: 3, 23: 1},
    },
    Source.HOTLINE: {
        **{0: 0.5, 1: 0.3, 2: 0.2, 3: 0.2, 4: 0.2, 5: 0.4, 6: 1, 7: 3, 8: 6, 9: 8, 10: 8},
        **{11: 6, 12: 4, 13: 5, 14: 7, 15: 7, 16: 6, 17: 5, 18: 4, 19: 4, 20: 4, 21: 3},
        **{22: 2, 23: 1},
    },
    Source.PROPERTY: {8: 4, 9: 8, 10: 8, 11: 6, 12: 2, 13: 4, 14: 7, 15: 7, 16: 5, 17: 3},
    Source.COMMITTEE: {9: 8, 10: 9, 11: 6, 13: 4, 14: 8, 15: 8, 16: 6},
}
PREFIX = {
    Source.PATROL: ["巡查发现：", "", ""],
    Source.RESIDENT: ["", "", "居民反映："],
    Source.HOTLINE: ["市民来电反映：", "12345转办：", "来电人反映："],
    Source.PROPERTY: ["物业报告：", "物业反映："],
    Source.COMMITTEE: ["居委会上报：", "居委走访发现："],
}
SPOTS = [
    "东门口",
    "西门口",
    "南门",
    "北门",
    "主干道",
    "弄口",
    "停车场旁",
    "垃圾厢房旁",
    "沿街商铺前",
]

# --- how it goes ----------------------------------------------------------------------------

P_ERRAND = 0.55  # of the committee's own entries, when the register has residents
P_REJECT = {Source.RESIDENT: 0.095, Source.HOTLINE: 0.095, Source.PROPERTY: 0.07}
P_REJECT_PATROL = 0.015
REJECT_MIX = [
    (RejectReason.DUPLICATE, 45),
    (RejectReason.UNTRUE, 35),
    (RejectReason.OUT_OF_SCOPE, 20),
]
P_SELF_RESOLVE = 0.3  # of patrol reports of a minor kind
P_ESCALATE = 0.15  # committee matters the committee passes to the street
P_RETURN = 0.078
P_RETURN_REFUSED = 0.15
P_EXTENSION = 0.065
P_EXTENSION_REFUSED = 0.15
P_SUSPEND = 0.013
P_REWORK = 0.052
P_LATE = 0.055
LATE_PRONE = {"违法搭建": 3.0, "群租": 2.5, "漏水渗水": 2.0, "电梯": 1.8, "餐饮油烟": 1.8}
P_SUMMONS = 0.06  # of orders routed with co-departments
P_DISTRICT = 0.004
P_RATED = {"reporter": 0.9, "phone": 0.88, "committee": 0.7}
P_REOPEN = 0.85  # of dissatisfied ratings
RATINGS = [(5, 64), (4, 28), (3, 3.5), (2, 3), (1, 1.5)]
RATINGS_TROUBLED = [(5, 40), (4, 36), (3, 10), (2, 10), (1, 4)]
RATINGS_AGAIN = [(5, 35), (4, 45), (3, 20)]
# Share of the last RECENT_DAYS' orders held in an open state (so every state shows).
RECENT_DAYS = 6
P_HOLD = 0.3

RESULTS = {
    "井盖": ["已更换井盖并加固", "已通知权属单位更换，现场已恢复", "已临时围护，井盖已更换"],
    "垃圾": ["已清运完毕", "已组织保洁清运，现场已清理干净", "已清运并责令相关商户整改"],
    "堆物": ["已清理堆物", "已督促当事人自行清理，现场已恢复", "已联合物业清理"],
    "路灯": ["已更换灯具，恢复照明", "已修复线路，路灯恢复正常"],
    "群租": ["已联合派出所上门检查，责令整改并恢复原状", "已约谈房东，群租人员已清退"],
    "违法搭建": ["已下达限期拆除通知，当事人已自行拆除", "已组织依法拆除"],
    "经营": ["已劝离，并告知相关规定", "已责令商户退店经营", "已依法暂扣经营物品"],
    "噪声": ["已上门劝导，噪声已停止", "已约谈相关方，承诺整改"],
    "广告": ["已清除小广告", "已拆除违规广告"],
    "停放": ["已联系车主挪车", "已清理乱停车辆"],
}
RESULT_DEFAULT = ["已处置完毕，现场已恢复", "已协调相关单位处理完毕", "已按要求整改到位"]
RETURN_REASONS = [
    "经核实不属于本单位职责，建议转派",
    "产权属于物业，非本部门管辖",
    "该事项属地不符",
]
EXTENSION_REASONS = ["需采购配件", "需协调产权单位", "涉及多户，需逐户上门", "需走维修资金审批程序"]
SUSPENSION_REASONS = ["需列入年度维修计划", "涉及工程立项，需分期实施"]
REWORK_REASONS = ["现场仍有残留", "问题未彻底解决", "照片与现场不符，请重新处置"]
REOPEN_REASONS = ["居民反映问题反复出现", "回访不满意，经核实确未解决"]
UNTRUE_REASONS = ["现场核实无此问题", "到场未发现反映情况"]
DUPLICATE_REASONS = ["与已有工单重复", "同一问题已在处置中"]
OUT_OF_SCOPE_REASONS = ["不属于网格化受理范围，已告知其他渠道", "属民事纠纷，已引导走司法途径"]
COMMITTEE_RESULTS = ["已上门协调，双方达成一致", "已组织楼组长劝导，现场已清理", "已调解完毕"]
ESCALATE_REASONS = ["居委协调未果，需职能部门介入", "涉及执法事项，报街道处置"]
SUMMONS_REASONS = ["涉及多个部门，居委会约请街道召集相关部门现场协调"]
SUMMONS_OUTCOMES = ["约请会议议定：明确牵头部门，配合部门协同处置，限期办结"]
DISTRICT_REASONS = ["涉及跨街道事项，提请区平台协调"]
RATING_COMMENTS = {
    5: ["处理很及时", "谢谢！", ""],
    4: ["", "还可以"],
    2: ["处理太慢"],
    1: ["没解决"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙朱胡郭何林高罗郑梁谢宋唐顾陆沈钱施"
GIVEN = ["伟", "敏", "丽", "强", "静", "磊", "燕", "军", "芳", "杰", "红", "斌", "婷", "华", "洁"]


class _Stop(Exception):
    """The order's story ends here for now (the next step lies after `now`, or it is held)."""


@dataclass(frozen=True)
class _Actor:
    user: object | None
    name: str
    role: str


SYSTEM = _Actor(None, "", "system")


@dataclass
class _Plan:
    reject: str = ""
    self_resolve: bool = False
    escalate: bool = False
    returned: bool = False
    return_refused: bool = False
    extension: bool = False
    extension_refused: bool = False
    suspend: bool = False
    rework: bool = False
    late: bool = False
    summons: bool = False
    district: bool = False
    hold: str = ""  # an open state to stay in
    duplicate: "_Sim | None" = None


_ORDER_FIELDS = WorkOrder._meta.concrete_fields
_ORDER_FACTORIES = {  # callable defaults (pending=dict): a fresh value per order
    f.attname: f.default for f in _ORDER_FIELDS if f.has_default() and callable(f.default)
}


class Order:
    """A work-order row in memory: the model's columns by attname (defaults on the class), the
    place and the reporting user; a fraction of a model instance's cost."""

    place = reporter = None

    def __init__(self, **values):
        for name, factory in _ORDER_FACTORIES.items():
            setattr(self, name, factory())
        self.__dict__.update(values)


for _field in _ORDER_FIELDS:
    if _field.attname not in _ORDER_FACTORIES:
        setattr(Order, _field.attname, _field.get_default())


class _Sim:
    """One order being simulated: its row, its log rows and what goes with them."""

    __slots__ = ("clock_at", "co", "dup", "last", "o", "plan", "rows", "summons", "warn_min")

    def __init__(self, order: Order, plan: _Plan | None = None):
        self.o = order
        self.plan = plan or _Plan()
        self.rows: list[tuple] = []
        self.co: list[int] = []
        self.summons: list[dict] = []
        self.dup: _Sim | None = None
        self.last: dt.datetime = order.created_at
        self.clock_at: dt.datetime | None = None
        # The yellow light is computed when needed (a timer might fire, or the order stays
        # open); meanwhile this is a lower bound of the clock's working minutes.
        self.warn_min: float | None = None


def _ceil_tick(moment: dt.datetime) -> dt.datetime:
    seconds = moment.timestamp()
    ticks = -(-seconds // TICK_SECONDS)
    return dt.datetime.fromtimestamp(ticks * TICK_SECONDS, TZ)


def _late(order: Order, now: dt.datetime) -> dict:
    """services._late: the facts about the phase being left."""
    if not order.phase:
        return {}
    facts: dict = {"phase": order.phase}
    if order.phase_due_at:
        facts["due"] = order.phase_due_at.isoformat()
        facts["late"] = now > order.phase_due_at
    return facts


# --- the services' bookkeeping, in memory ----------------------------------------------------


class _Clock(calendar.Clock):
    """The calendar's clock with each day's working spans computed once."""

    def __init__(self):
        base = calendar.clock_get()
        super().__init__(base.calendar, base.hours)
        self.cache: dict[dt.date, list] = {}

    def spans(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        spans = self.cache.get(day)
        if spans is None:
            spans = self.cache[day] = super().spans(day)
        return spans


class Deadlines:
    """`calendar.add_working_time` and `calendar.warn_point` over one snapshot of the calendar.

    The public functions re-read the calendar's version from the cache and parse the working
    hours on every call, which is most of their cost; a year of orders needs some 300,000 of
    them. Same arithmetic (the calendar's own clock), same results: the tests compare both."""

    def __init__(self, clock: _Clock | None = None):
        self.clock = clock or _Clock()
        self.percent = calendar.yellow_at_percent()
        self.day_minutes = (
            sum(
                (dt.datetime.combine(dt.date.min, b) - dt.datetime.combine(dt.date.min, a)).seconds
                for a, b in self.clock.hours
            )
            / 60
        )

    def least_minutes(self, amount: int, unit: str) -> float:
        """A lower bound of the working minutes from a start to its deadline."""
        per_unit = {
            LimitUnit.MINUTES: 1,
            LimitUnit.HOURS: 60,
            LimitUnit.DAYS: self.day_minutes,
        }
        return amount * per_unit.get(unit, 0)

    def add(self, start: dt.datetime, amount: int, unit: str) -> dt.datetime:
        start = start.astimezone(TZ)
        if unit == LimitUnit.NATURAL_DAYS:
            return start + dt.timedelta(days=amount)
        if unit == LimitUnit.MINUTES:
            return self.clock.add(start, dt.timedelta(minutes=amount))
        if unit == LimitUnit.HOURS:
            return self.clock.add(start, dt.timedelta(hours=amount))
        if unit == LimitUnit.DAYS:
            day = self.clock.add(start, dt.timedelta(0)).date()
            for _ in range(amount):
                day = self.clock.next_workday(day)
            return self.clock.close_of_business(day)
        raise ValueError(f"unknown time-limit unit {unit!r}")

    def between(self, a: dt.datetime, b: dt.datetime) -> int:
        """calendar.working_minutes_between."""
        a, b = a.astimezone(TZ), b.astimezone(TZ)
        if b <= a:
            return 0
        return int(self.clock.between(a, b).total_seconds() // 60)

    def warn(self, start: dt.datetime, due: dt.datetime) -> dt.datetime:
        start, due = start.astimezone(TZ), due.astimezone(TZ)
        if due <= start:
            return due
        working = int(self.clock.between(start, due).total_seconds())
        if working == 0:
            elapsed = int((due - start).total_seconds())
            return start + dt.timedelta(seconds=elapsed * self.percent // 100)
        return self.clock.add(start, dt.timedelta(seconds=working * self.percent // 100))


class Engine:
    """What `services.order_report`, `order_act` and `orders_tick` write, without the database.

    Guards are the caller's business (it only asks for allowed steps); effects, clocks and the
    log rows follow the services line by line."""

    def __init__(self, *, categories: dict[int, Category], item_days: dict[int, int], clock=None):
        self.deadlines = Deadlines(clock)
        self.categories = categories
        self.item_days = item_days
        self.specific: dict[tuple, tuple[int, str]] = {}
        self.default: dict[tuple, tuple[int, str]] = {}
        for category_id, urgency, phase, amount, unit in TimeLimit.objects.values_list(
            "category_id", "urgency", "phase", "amount", "unit"
        ):
            if category_id is None:
                self.default[(urgency, phase)] = (amount, unit)
            else:
                self.specific[(category_id, urgency, phase)] = (amount, unit)

    def limit(self, order: Order, phase: str) -> tuple[int, str]:
        """services.time_limit, from the rows read once."""
        return (
            self.specific.get((order.category_id, order.urgency, phase))
            or self.default.get((order.urgency, phase))
            or DEFAULT_LIMIT
        )

    # clocks
    def start_clock(self, sim: _Sim, phase: str, now, amount=None, unit=None) -> None:
        order = sim.o
        if amount is None:
            amount, unit = self.limit(order, phase)
        due = self.deadlines.add(now, amount, unit)
        order.phase, order.phase_started_at, order.phase_due_at = phase, now, due
        order.phase_warn_at = None
        sim.warn_min = self.deadlines.least_minutes(amount, unit)
        order.reminded_at = order.supervised_at = None
        sim.clock_at = now

    def warn_of(self, sim: _Sim) -> None:
        """Work out the clock's yellow light (services: calendar.warn_point at clock start)."""
        if sim.warn_min is not None:
            order = sim.o
            order.phase_warn_at = self.deadlines.warn(order.phase_started_at, order.phase_due_at)
            sim.warn_min = None

    def finish(self, sim: _Sim) -> None:
        """The order as it stays: with its yellow light, if its clock runs."""
        if sim.o.phase_due_at is not None:
            self.warn_of(sim)

    @staticmethod
    def stop_clock(order: Order) -> None:
        order.phase, order.phase_started_at, order.phase_warn_at, order.phase_due_at = (
            "",
            None,
            None,
            None,
        )

    def follow_handle_clock(self, sim: _Sim, now) -> None:
        order = sim.o
        if order.phase != Phase.HANDLE or order.phase_due_at != order.handle_due_at:
            order.phase = Phase.HANDLE
            order.phase_started_at = order.dispatched_at
            order.phase_due_at = order.handle_due_at
            order.phase_warn_at = None
            sim.warn_min = self.deadlines.least_minutes(*self.limit(order, Phase.HANDLE))
            order.reminded_at = order.supervised_at = None
            sim.clock_at = now

    def after_state(self, sim: _Sim, before: str, now) -> None:
        order = sim.o
        state = order.state
        if state in CLOSED_STATES or state == State.SUSPENDED:
            self.stop_clock(order)
            sim.warn_min = None
            if state == State.CLOSED and order.closed_at is None:
                order.closed_at = now
            return
        phase = STATE_PHASE.get(state)
        if phase == Phase.HANDLE:
            self.follow_handle_clock(sim, now)
        elif phase and (state != before or not order.phase):
            if phase == Phase.COMMITTEE and order.service_item_id:
                days = self.item_days[order.service_item_id]
                self.start_clock(sim, phase, now, days, LimitUnit.DAYS)
            else:
                self.start_clock(sim, phase, now)

    # the log
    @staticmethod
    def log(sim, action, before, now, actor, reason="", data=None, department=None) -> None:
        order = sim.o
        if (
            actor.user is not None
            and actor.user.pk == order.reporter_id
            and order.source in (Source.RESIDENT, Source.PROPERTY)
        ):
            actor = _Actor(actor.user, "", actor.role)  # as services._log: the reporter is private
        sim.rows.append(
            (action, before, order.state, order.level, actor, department, now, reason, data or {})
        )

    # T1
    def report(self, sim: _Sim, actor: _Actor, now) -> None:
        order = sim.o
        category = self.categories.get(order.category_id)
        to_committee = order.kind == Kind.ERRAND or (
            order.source in (Source.RESIDENT, Source.PROPERTY, Source.COMMITTEE)
            and category is not None
            and category.self_governable
        )
        order.level = Level.COMMITTEE if to_committee else Level.STREET
        order.state = State.RC_HANDLING if order.kind == Kind.ERRAND else State.REPORTED
        order.reporter = actor.user if order.source in (Source.RESIDENT, Source.PROPERTY) else None
        order.reporter_id = order.reporter.pk if order.reporter is not None else None
        order.created_at = order.updated_at = now
        order.version = 0
        if order.state == State.RC_HANDLING:
            days = self.item_days.get(order.service_item_id)
            self.start_clock(sim, Phase.COMMITTEE, now, days, LimitUnit.DAYS if days else None)
        else:
            self.start_clock(sim, Phase.REGISTER, now)
        self.log(sim, "report", "", now, actor, data={"source": order.source})
        sim.last = now

    # every other step
    def act(self, sim: _Sim, action: str, now, actor: _Actor, reason: str = "", **params) -> None:
        spec = ACTIONS[action]
        order = sim.o
        if order.state not in spec.sources:
            raise ValueError(f"{action} is not possible from {order.state}")
        before = order.state
        facts = _late(order, now)
        effect = getattr(self, f"_e_{action}", None)
        data = {}
        if effect is not None:
            data = effect(sim, now=now, actor=actor, reason=reason, **params) or {}
        department = data.pop("_department", None)
        if spec.target is not None:
            order.state = spec.target
        self.after_state(sim, before, now)
        order.updated_at = now
        order.version += 1
        self.log(sim, action, before, now, actor, reason, {**facts, **data}, department)
        sim.last = now

    # orders_tick
    def timers(self, sim: _Sim, until) -> None:
        """The reminder and the supervision the five-minute timer writes before `until`."""
        order = sim.o
        if order.phase_due_at is None or order.state in CLOSED_STATES:
            return
        since = sim.clock_at + dt.timedelta(microseconds=1)
        due = order.phase_due_at
        if order.reminded_at is None:
            if sim.warn_min is not None:
                elapsed = (until - order.phase_started_at).total_seconds() / 60
                if elapsed * 100 >= sim.warn_min * self.deadlines.percent:
                    self.warn_of(sim)
            warn = order.phase_warn_at
            if sim.warn_min is None and warn is not None and warn < until:
                at = _ceil_tick(max(warn, since))
                if at < until and at < due:
                    order.reminded_at = at
                    self._timer_row(sim, "remind", at)
        if order.supervised_at is None and due < until:
            at = _ceil_tick(max(due, since))
            if at < until:
                order.supervised_at = at
                self._timer_row(sim, "supervise", at)

    def _timer_row(self, sim: _Sim, action: str, now) -> None:
        sim.o.version += 1
        self.log(sim, action, sim.o.state, now, SYSTEM, data=_late(sim.o, now))

    def archive(self, sim: _Sim, now) -> None:
        order = sim.o
        before = order.state
        order.state = State.ARCHIVED
        order.updated_at = now
        order.version += 1
        data = {"unrated": True} if before == State.CLOSED else {}
        self.log(sim, "archive", before, now, SYSTEM, data=data)

    # effects (services._e_*)
    @staticmethod
    def _e_self_handle(sim, **_):
        sim.o.level = Level.COMMITTEE

    @staticmethod
    def _e_rc_close(sim, reason, **_):
        sim.o.result = reason

    @staticmethod
    def _e_escalate(sim, **_):
        sim.o.level = Level.STREET

    @staticmethod
    def _e_send_verify(sim, assignee=None, **_):
        sim.o.assignee_id = assignee.pk if assignee else None
        return {"assignee": sim.o.assignee_id}

    _e_send_check = _e_send_verify

    @staticmethod
    def _e_reject(sim, reject_reason="", duplicate_of=None, **_):
        if reject_reason == RejectReason.DUPLICATE:
            sim.dup = duplicate_of if isinstance(duplicate_of, _Sim) else None
            if sim.dup is None:
                sim.o.duplicate_of_id = duplicate_of
            return {"reject_reason": reject_reason, "duplicate_of": duplicate_of}
        return {"reject_reason": reject_reason}

    @staticmethod
    def _e_self_resolve(sim, actor, **_):
        sim.o.assignee_id = actor.user.pk if actor.user is not None else None

    @staticmethod
    def _e_register(sim, now, urgency=None, **_):
        if urgency is not None:
            sim.o.urgency = urgency
        sim.o.registered_at = now
        return {"urgency": sim.o.urgency}

    def _e_dispatch(self, sim, now, department=None, co_departments=(), **_):
        order = sim.o
        co = [d for d in co_departments if d != department]
        order.department_id = department
        order.dispatched_at = now
        amount, unit = self.limit(order, Phase.HANDLE)
        order.handle_due_at = self.deadlines.add(now, amount, unit)
        order.check_passed = None
        sim.co = co
        return {
            "_department": department,
            "co_departments": list(co),
            "handle_due": order.handle_due_at.isoformat(),
        }

    @staticmethod
    def _e_sign_for(sim, **_):
        return {"_department": sim.o.department_id}

    @staticmethod
    def _e_request_return(sim, **_):
        sim.o.pending = {"kind": "return", "state": sim.o.state}
        return {"_department": sim.o.department_id}

    @staticmethod
    def _e_approve_return(sim, **_):
        order = sim.o
        returned = order.department_id
        order.return_count += 1
        order.department_id = None
        order.handle_due_at = None
        order.dispatched_at = None
        order.pending = {}
        sim.co = []
        return {"_department": returned}

    @staticmethod
    def _e_refuse_return(sim, **_):
        sim.o.pending = {}
        return {"_department": sim.o.department_id}

    _e_refuse_extension = _e_refuse_return
    _e_refuse_suspension = _e_refuse_return

    @staticmethod
    def _e_request_extension(sim, hours=0, **_):
        sim.o.pending = {"kind": "extension", "hours": hours}
        return {"_department": sim.o.department_id, "hours": hours}

    def _e_approve_extension(self, sim, **_):
        order = sim.o
        hours = int(order.pending.get("hours", 0))
        order.handle_due_at = self.deadlines.add(order.handle_due_at, hours, LimitUnit.HOURS)
        order.extension_hours += hours
        order.pending = {}
        return {
            "_department": order.department_id,
            "hours": hours,
            "handle_due": order.handle_due_at.isoformat(),
        }

    @staticmethod
    def _e_request_suspension(sim, review_on=None, **_):
        sim.o.pending = {"kind": "suspension", "review_on": review_on.isoformat()}
        return {"_department": sim.o.department_id, "review_on": review_on.isoformat()}

    def _e_approve_suspension(self, sim, now, **_):
        order = sim.o
        order.review_on = dt.date.fromisoformat(order.pending["review_on"])
        order.pending = {}
        order.handle_left_minutes = (
            self.deadlines.between(now, order.handle_due_at) if order.handle_due_at else None
        )
        return {
            "_department": order.department_id,
            "handle_left_minutes": order.handle_left_minutes,
        }

    def _e_resume(self, sim, now, **_):
        order = sim.o
        left = order.handle_left_minutes
        if left is None:
            amount, unit = self.limit(order, Phase.HANDLE)
            order.handle_due_at = self.deadlines.add(now, amount, unit)
        else:
            order.handle_due_at = self.deadlines.add(now, left, LimitUnit.MINUTES)
        order.handle_left_minutes = None
        order.review_on = None
        return {"_department": order.department_id, "handle_due": order.handle_due_at.isoformat()}

    @staticmethod
    def _e_feedback(sim, now, reason, **_):
        order = sim.o
        order.result = reason
        order.check_passed = None
        return {
            "_department": order.department_id,
            "handle_due": order.handle_due_at.isoformat() if order.handle_due_at else None,
            "handle_late": bool(order.handle_due_at and now > order.handle_due_at),
        }

    @staticmethod
    def _e_check(sim, passed=None, **_):
        sim.o.check_passed = bool(passed)
        return {"passed": sim.o.check_passed}

    @staticmethod
    def _e_rework(sim, **_):
        order = sim.o
        order.rework_count += 1
        order.check_passed = None
        order.closed_at = None
        return {"_department": order.department_id}

    @staticmethod
    def _e_rate(sim, actor, rating=None, comment="", **_):
        order = sim.o
        order.rating = rating
        order.rating_comment = (comment or "")[:500]
        # Staff recording a rating on the phone (a demo name without an account is staff too).
        by_phone = actor.user is None or actor.user.pk != order.reporter_id
        return {"rating": rating, "by_phone": by_phone}

    def _e_reopen(self, sim, now, **_):
        # Only orders with a department are reopened here (services._e_reopen also sends
        # committee and on-the-spot ones back): fresh handling time.
        order = sim.o
        order.reopen_count += 1
        order.closed_at = None
        order.check_passed = None
        amount, unit = self.limit(order, Phase.HANDLE)
        order.handle_due_at = self.deadlines.add(now, amount, unit)
        return {"_department": order.department_id, "handle_due": order.handle_due_at.isoformat()}

    @staticmethod
    def _e_request_summons(sim, now, actor, reason, **_):
        sim.summons.append({"requested_by": actor.user, "requested_at": now, "reason": reason})
        sim.o.summons_requested = True
        return {}

    def _e_decide_summons(
        self, sim, now, reason, department=None, co_departments=(), meets_at=None, venue="", **_
    ):
        data = self._e_dispatch(sim, now=now, department=department, co_departments=co_departments)
        sim.summons[-1].update(
            outcome=reason,
            decided_at=now,
            meets_at=meets_at or now,
            venue=venue[:200],
            departments=[department, *data["co_departments"]],
        )
        sim.o.summons_requested = False
        sim.o.pending = {}
        sim.o.phase = ""  # as services: a new dispatch restarts the sign-for clock
        return data

    @staticmethod
    def _e_escalate_district(sim, **_):
        sim.o.escalated = True
        sim.o.level = Level.DISTRICT

    @staticmethod
    def _e_supervise(sim, now, **_):
        sim.o.supervised_at = now


# --- working time for the people (not the deadlines) -----------------------------------------


class _WorkTime:
    """When people act: working minutes on the working calendar (staff keep office hours; the
    deadlines they are measured against come from `Deadlines`)."""

    def __init__(self, clock: _Clock):
        self.spans = clock.spans

    def after(self, start: dt.datetime, minutes: float) -> dt.datetime:
        remaining = dt.timedelta(seconds=round(max(minutes, 1) * 60))
        start = start.astimezone(TZ)
        day = start.date()
        while True:
            for begin, end in self.spans(day):
                if end <= start:
                    continue
                begin = max(begin, start)
                if remaining <= end - begin:
                    return begin + remaining
                remaining -= end - begin
            day += dt.timedelta(days=1)

    def minutes_between(self, a: dt.datetime, b: dt.datetime) -> float:
        if b <= a:
            return 0.0
        a, b = a.astimezone(TZ), b.astimezone(TZ)
        total = dt.timedelta(0)
        day = a.date()
        while day <= b.date():
            for begin, end in self.spans(day):
                low, high = max(begin, a), min(end, b)
                if high > low:
                    total += high - low
            day += dt.timedelta(days=1)
        return total.total_seconds() / 60


# --- the street's staff ----------------------------------------------------------------------


class _Staff:
    """Who acts: the demo's accounts where they exist, named staff without accounts otherwise."""

    def __init__(self, world: World, rng: random.Random):
        self.rng = rng
        self.roles: dict[tuple[int, int], str] = {}
        names = iter(self._names(rng, 200))
        self.dispatchers: list = [f"网格中心 {next(names)}" for _ in range(3)]
        self.supervisors: list = [f"网格中心 {next(names)}" for _ in range(2)]
        self.bureau: list = [f"区网格中心 {next(names)}"]
        self.grid_workers: dict[int, object] = {g.pk: f"网格员 {next(names)}" for g in world.grids}
        self.handlers: dict[int, list] = {
            d.pk: [f"{d.name.removeprefix(world.street.name[:3])} {next(names)}" for _ in range(2)]
            for d in world.departments
        }
        self.committee: dict[int, list] = {
            c.pk: [f"{c.name[:2]}居委 {next(names)}" for _ in range(2)] for c in world.committees
        }
        # Each department's head (负责人) asks for more time (T13); named after the others so
        # the earlier staff keep their names.
        self.heads: dict[int, object] = {
            d.pk: f"{d.name.removeprefix(world.street.name[:3])} {next(names)}"
            for d in world.departments
        }
        self.residents: dict[str, list] = {}  # compound path → resident accounts
        self.property: dict[str, list] = {}
        compound_paths = {c.path for c in world.compounds}
        depth = len(world.compounds[0].path) if world.compounds else 0
        assignments = RoleAssignment.objects.filter(
            place__path__startswith=world.district.path
        ).select_related("user", "place")
        for a in assignments.order_by("pk"):
            user = a.user
            if a.role == Role.GRID_DISPATCHER:
                self.dispatchers[0] = user
            elif a.role == Role.GRID_SUPERVISOR:
                self.supervisors[0] = user
            elif a.role == Role.DISTRICT_BUREAU:
                self.bureau[0] = user
            elif a.role == Role.GRID_WORKER and a.grid_id in self.grid_workers:
                self.grid_workers[a.grid_id] = user
            elif a.role == Role.DEPARTMENT_HANDLER and a.department_id in self.handlers:
                self.handlers[a.department_id][0] = user
            elif a.role == Role.DEPARTMENT_HEAD and a.department_id in self.heads:
                self.heads[a.department_id] = user
            elif a.role in (
                Role.COMMUNITY_WORKER,
                Role.COMMITTEE_DIRECTOR,
                Role.COMMITTEE_SECRETARY,
            ) and (a.place_id in self.committee):
                self.committee[a.place_id].insert(0, user)
            elif a.role == Role.RESIDENT and a.place.path[:depth] in compound_paths:
                self.residents.setdefault(a.place.path[:depth], []).append(user)
            elif a.role == Role.PROPERTY_MANAGER and a.place.path in compound_paths:
                self.property.setdefault(a.place.path, []).append(user)

    @staticmethod
    def _names(rng: random.Random, n: int) -> list[str]:
        return [
            rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2))) for _ in range(n)
        ]

    def actor(self, who, place, role: str) -> _Actor:
        if isinstance(who, str):
            return _Actor(None, who, role)
        key = (who.pk, place.pk)
        if key not in self.roles:
            self.roles[key] = who.audit_role(place)
        return _Actor(who, who.get_username(), self.roles[key])

    def pick(self, pool: list, place, role: str) -> _Actor:
        return self.actor(
            pool[0] if self.rng.random() < 0.5 else self.rng.choice(pool), place, role
        )


# --- the year ---------------------------------------------------------------------------------


class _Year:
    """The street's year: who reports what and when, and how each order goes."""

    def __init__(self, world: World, *, seed: int, now: dt.datetime, size: int):
        self.world = world
        self.rng = random.Random(seed)
        self.now = now
        self.size = size
        clock = _Clock()
        self.work = _WorkTime(clock)
        self.window = dt.timedelta(days=settings.LINLI_RATING_WINDOW_DAYS)
        self.return_grace = settings.LINLI_RETURN_GRACE_HOURS
        self.staff = _Staff(world, self.rng)
        self.categories = {c.pk: c for c in Category.objects.filter(active=True)}
        self.by_name = {c.name: c for c in self.categories.values()}
        self.items = self._service_items()
        self.engine = Engine(
            categories=self.categories,
            item_days={i.pk: i.limit_days for i in self.items},
            clock=clock,
        )
        self.departments = {d.pk: d for d in world.departments}
        self.routes = self._routing_rules()
        self.grid_of = self._grids()
        self.committee_of = {c.pk: c.parent_id for c in world.compounds}
        self.persona_compounds = [
            c
            for c in world.compounds
            if not isinstance(self.staff.grid_workers.get(self.grid_of.get(c.pk), ""), str)
        ]
        self.beneficiaries = self._beneficiaries()
        self.errand_compounds = [c for c in world.compounds if self.beneficiaries.get(c.pk)]
        self.recent: deque[_Sim] = deque(maxlen=400)
        self.hotline_seq = Counter()
        self.callers: list[tuple | None] = [None] * max(20, size // 20)
        self.next_id = WorkOrder.objects.aggregate(top=Max("id"))["top"] or 0
        self.holds = Counter()

    # setup: the catalogue, the routes, the grids, the people errands are run for
    def _service_items(self) -> list[ServiceItem]:
        street = self.world.street
        have = set(ServiceItem.objects.filter(street=street).values_list("code", flat=True))
        ServiceItem.objects.bulk_create(
            [
                ServiceItem(street=street, code=code, name=name, limit_days=days, description=text)
                for code, name, days, text, *_ in SERVICE_ITEMS
                if code not in have
            ]
        )
        items = {i.code: i for i in ServiceItem.objects.filter(street=street, active=True)}
        self.item_rules = [
            (items[code], weight, age, tag)
            for code, _, _, _, weight, age, tag in SERVICE_ITEMS
            if code in items
        ]
        return list(items.values())

    def _department_of_kind(self, kind: str, salt: int):
        matches = [d for d in self.world.departments if d.kind == kind]
        if matches:
            return matches[0]
        return self.world.departments[salt % len(self.world.departments)]

    def _routing_rules(self) -> dict:
        """明责派单 for the street: every active category to a lead department (+ co), a few
        grid overrides. Existing rules are kept; returns (grid id | None, category id) → route."""
        street = self.world.street
        self.rules_created = 0
        if not self.world.departments:
            return {}
        existing = {
            (r.grid_id, r.category_id): r
            for r in RoutingRule.objects.filter(street=street).prefetch_related("co_departments")
        }
        new, co_links = [], []
        for category in sorted(self.categories.values(), key=lambda c: c.service_code):
            if (None, category.pk) in existing:
                continue
            kind, co_kinds = MINOR_DEPARTMENT.get(
                category.name, (MAJOR_DEPARTMENT.get((category.kind, category.major_code)), ())
            )
            lead = self._department_of_kind(kind, category.pk)
            co = [self._department_of_kind(k, category.pk) for k in co_kinds]
            new.append(RoutingRule(street=street, grid=None, category=category, department=lead))
            co_links.append([d for d in co if d != lead])
        for index, name, kind in GRID_OVERRIDES:
            category = self.by_name.get(name)
            if category is None or index >= len(self.world.grids):
                continue
            grid = self.world.grids[index]
            if (grid.pk, category.pk) in existing:
                continue
            lead = self._department_of_kind(kind, category.pk)
            new.append(RoutingRule(street=street, grid=grid, category=category, department=lead))
            co_links.append([])
        RoutingRule.objects.bulk_create(new)
        through = RoutingRule.co_departments.through
        through.objects.bulk_create(
            [
                through(routingrule_id=rule.pk, department_id=d.pk)
                for rule, co in zip(new, co_links, strict=True)
                for d in co
            ]
        )
        self.rules_created = len(new)
        routes = {
            key: (r.department_id, sorted(d.pk for d in r.co_departments.all()))
            for key, r in existing.items()
        }
        for rule, co in zip(new, co_links, strict=True):
            routes[(rule.grid_id, rule.category_id)] = (rule.department_id, [d.pk for d in co])
        return routes

    def route(self, order: Order) -> tuple[int, list[int]]:
        found = self.routes.get((order.grid_id, order.category_id)) or self.routes.get(
            (None, order.category_id)
        )
        if found is None:  # a category without a rule: the first department
            return self.world.departments[0].pk, []
        return found

    def _grids(self) -> dict[int, int]:
        """compound id → grid id, as selectors.grid_of picks it (first by code)."""
        through = Grid.compounds.through
        rows = through.objects.filter(grid__street=self.world.street).values_list(
            "place_id", "grid_id", "grid__code"
        )
        found: dict[int, tuple[str, int]] = {}
        for place_id, grid_id, code in rows:
            if place_id not in found or code < found[place_id][0]:
                found[place_id] = (code, grid_id)
        return {place_id: grid_id for place_id, (_, grid_id) in found.items()}

    def _beneficiaries(self) -> dict[int, list[tuple[int, int, set]]]:
        """compound id → [(resident id, age today, tag codes)] of active residents aged 18+."""
        depth = len(self.world.compounds[0].path) if self.world.compounds else 0
        compound_by_path = {c.path: c.pk for c in self.world.compounds}
        today = self.now.date()
        people: dict[int, list] = {}
        tags: dict[int, set] = {}
        residents = Resident.objects.filter(
            path__startswith=self.world.street.path, status=ResidentStatus.ACTIVE
        )
        through = Resident.tags.through
        for resident_id, code in through.objects.filter(
            resident__in=residents, tag__code__in=["disabled", "low_income"]
        ).values_list("resident_id", "tag__code"):
            tags.setdefault(resident_id, set()).add(code)
        for pk, path, birth in residents.order_by("pk").values_list("pk", "path", "birth_date"):
            age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
            compound = compound_by_path.get(path[:depth])
            if age >= 18 and compound is not None:
                people.setdefault(compound, []).append((pk, age, tags.get(pk, set())))
        return people

    # the reports
    def days(self) -> list[tuple[dt.date, float]]:
        first = (self.now - dt.timedelta(days=365)).date()
        span = (self.now.date() - first).days
        days = []
        for offset in range(span + 1):
            day = first + dt.timedelta(days=offset)
            workday = calendar.is_workday(day)
            weight = MONTH_FACTOR[day.month - 1] * (0.9 + 0.2 * offset / span)
            if not workday:
                weight *= 0.35 if day.weekday() < 5 else 0.5
            days.append((day, weight))
        return days

    def category_tables(self) -> dict:
        """(source, month) → (categories, cumulative weights)."""
        tables = {}
        public = [c for c in self.categories.values() if c.public]
        public.sort(key=lambda c: c.service_code)
        for index, source in enumerate(SOURCES):
            for month in range(1, 13):
                total, cum = 0.0, []
                for category in public:
                    weight = CATEGORY_WEIGHTS.get(category.name, DEFAULT_WEIGHT)[index]
                    total += weight * SEASONS.get(category.name, (1,) * 12)[month - 1]
                    cum.append(total)
                tables[(source, month)] = (public, cum)
        return tables

    def run(self) -> Iterator[_Sim]:
        """Every order of the year, simulated, in the order they were reported."""
        rng = self.rng
        days = self.days()
        chosen = sorted(
            rng.choices([d for d, _ in days], weights=[w for _, w in days], k=self.size)
        )
        tables = self.category_tables()
        hours = {s: (list(h), list(h.values())) for s, h in HOURS.items()}
        workdays = {d: calendar.is_workday(d) for d, _ in days}
        errands = bool(self.items) and any(self.beneficiaries.values())
        planned = []
        for day in chosen:
            source = rng.choices(SOURCES, weights=SOURCE_WEIGHTS[workdays[day]])[0]
            kind = Kind.PROBLEM
            if source == Source.COMMITTEE and errands and workdays[day]:
                kind = Kind.ERRAND if rng.random() < P_ERRAND else Kind.PROBLEM
            hour_list, hour_weights = hours[source]
            hour = rng.choices(hour_list, weights=hour_weights)[0]
            at = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)), TZ)
            if at >= self.now:
                at = self.now - dt.timedelta(minutes=rng.randint(5, 180))
            planned.append((at, source, kind))
        planned.sort(key=lambda p: p[0])
        for at, source, kind in planned:
            sim = self.new_order(at, source, kind, tables)
            self.simulate(sim)
            if sim.o.kind == Kind.PROBLEM:
                self.recent.append(sim)
            yield sim

    def new_order(self, at, source, kind, tables) -> _Sim:
        rng = self.rng
        held = at >= self.now - dt.timedelta(days=RECENT_DAYS) and rng.random() < P_HOLD
        # Half the held orders where the demo's grid worker works, so their boards are busy.
        near = held and self.persona_compounds and rng.random() < 0.5
        compound = rng.choice(self.persona_compounds if near else self.world.compounds)
        self.next_id += 1
        order = Order(
            id=self.next_id,
            kind=kind,
            source=source,
            street_id=self.world.street.pk,
            created_at=at,
            updated_at=at,
            pending={},
        )
        plan = _Plan()
        if kind == Kind.ERRAND:
            compound, item, beneficiary = self._errand_for(compound)
            order.service_item_id = item.pk
            order.beneficiary_id = beneficiary[0]
            order.description = f"{item.name}：居民{beneficiary[1]}岁，行动不便，委托居委会代办"
        else:
            categories, cum = tables[(source, at.month)]
            category = rng.choices(categories, cum_weights=cum)[0]
            plan = self._plan(source, category)
            target = None
            if plan.reject == RejectReason.DUPLICATE:
                target = self._duplicate_target(at)
                if target is None:
                    plan.reject = RejectReason.UNTRUE
                else:
                    category, compound = self.categories[target.o.category_id], target.o.place
            order.category_id = category.pk
            order.urgency = self._urgency(category)
            order.description = self._description(source, category, compound)
            order.address = f"{compound.name}{rng.choice(SPOTS)}"[:200]
            if source != Source.HOTLINE:  # 12345 orders come with an address, not a point
                order.lat, order.lng = self._near(compound)
            plan.duplicate = target if plan.reject == RejectReason.DUPLICATE else None
            if source == Source.HOTLINE:
                self._caller(order, at)
        order.place = compound
        order.place_id = compound.pk
        order.path = compound.path
        order.grid_id = self.grid_of.get(compound.pk)
        sim = _Sim(order, plan)
        if held:
            self._hold(sim)
        return sim

    def _errand_for(self, compound):
        """An item and a resident it fits (old enough, with the tag it needs)."""
        rng = self.rng
        if not self.beneficiaries.get(compound.pk):
            compound = rng.choice(self.errand_compounds)
        candidates = self.beneficiaries[compound.pk]
        weights = [r[1] for r in self.item_rules]
        for _ in range(5):
            item, _, age, tag = rng.choices(self.item_rules, weights=weights)[0]
            fit = [p for p in candidates if p[1] >= age and (not tag or tag in p[2])]
            if fit:
                break
        else:  # anyone adult fits the reimbursement errand
            item, fit = self.item_rules[2][0], candidates
        return compound, item, rng.choice(fit)[:2]

    def _plan(self, source, category) -> _Plan:
        rng = self.rng
        plan = _Plan()
        if source in P_REJECT and rng.random() < P_REJECT[source]:
            plan.reject = rng.choices(
                [r for r, _ in REJECT_MIX], weights=[w for _, w in REJECT_MIX]
            )[0]
        elif source == Source.PATROL and rng.random() < P_REJECT_PATROL:
            plan.reject = RejectReason.DUPLICATE
        if source == Source.PATROL and category.name in ON_THE_SPOT:
            plan.self_resolve = rng.random() < P_SELF_RESOLVE
        plan.escalate = rng.random() < P_ESCALATE
        plan.returned = rng.random() < P_RETURN
        plan.return_refused = rng.random() < P_RETURN_REFUSED
        plan.extension = rng.random() < P_EXTENSION
        plan.extension_refused = rng.random() < P_EXTENSION_REFUSED
        plan.suspend = rng.random() < P_SUSPEND
        plan.rework = rng.random() < P_REWORK
        plan.late = rng.random() < P_LATE * LATE_PRONE.get(category.name, 1.0)
        plan.summons = rng.random() < P_SUMMONS
        plan.district = rng.random() < P_DISTRICT
        return plan

    def _duplicate_target(self, at) -> "_Sim | None":
        window = at - dt.timedelta(days=3)
        options = [
            s
            for s in self.recent
            if s.o.created_at >= window and not s.plan.reject and s.o.category_id is not None
        ]
        return self.rng.choice(options) if options else None

    def _urgency(self, category) -> str:
        rng = self.rng
        if category.kind == CategoryKind.EVENT and category.major_code == "04":
            weights = (55, 35, 10)
        elif "燃气" in category.name:
            weights = (60, 30, 10)
        else:
            weights = (1.5, 9, 89.5)
        return rng.choices([Urgency.URGENT, Urgency.PRESSING, Urgency.NORMAL], weights=weights)[0]

    def _description(self, source, category, compound) -> str:
        rng = self.rng
        examples = [e for e in category.examples.splitlines() if e.strip()]
        text = rng.choice(examples) if examples else f"{category.name}问题"
        where = f"{compound.name}{rng.choice(SPOTS)}" if rng.random() < 0.5 else ""
        return f"{rng.choice(PREFIX[source])}{where}{'，' if where else ''}{text}"

    def _near(self, compound) -> tuple[Decimal | None, Decimal | None]:
        if compound.lat is None or compound.lng is None:
            return None, None
        rng = self.rng
        distance = JITTER_M * rng.random() ** 0.5
        bearing = rng.uniform(0, 2 * math.pi)
        dlat = distance * math.cos(bearing) / 111_320
        dlng = distance * math.sin(bearing) / (111_320 * math.cos(math.radians(compound.lat)))
        q = Decimal("0.000001")
        return (
            (compound.lat + Decimal(f"{dlat:.6f}")).quantize(q),
            (compound.lng + Decimal(f"{dlng:.6f}")).quantize(q),
        )

    def _caller(self, order: Order, at) -> None:
        """Who called 12345 (a few hundred people, some of them often)."""
        rng = self.rng
        number = min(int(rng.paretovariate(1.2)), len(self.callers)) - 1
        if self.callers[number] is None:
            phone = "1" + rng.choice("3589") + "".join(str(rng.randrange(10)) for _ in range(9))
            name = rng.choice(SURNAMES) + rng.choice(["先生", "女士", "阿姨", "老伯"])
            self.callers[number] = (name, encrypt(phone), mask_phone(phone))
        name, cipher, masked = self.callers[number]
        order.reporter_name, order.reporter_phone_cipher, order.reporter_phone_masked = (
            name,
            cipher,
            masked,
        )
        day = at.date()
        self.hotline_seq[day] += 1
        order.external_id = f"12345-{day:%y%m%d}-{self.hotline_seq[day]:04d}"

    def _hold(self, sim: _Sim) -> None:
        """Keep a recent order in an open state; the rarest states first."""
        order, plan = sim.o, sim.plan
        public = order.source not in VERIFIED_SOURCES
        category = self.categories.get(order.category_id)
        committee = order.kind == Kind.ERRAND or (
            order.source in (Source.RESIDENT, Source.PROPERTY, Source.COMMITTEE)
            and category is not None
            and category.self_governable
        )
        if order.kind == Kind.ERRAND:
            options = [State.RC_HANDLING]
        elif committee:
            options = [State.REPORTED, State.RC_HANDLING]
        else:
            options = [
                State.REPORTED,
                State.REGISTERED,
                State.DISPATCHED,
                State.IN_PROGRESS,
                State.RETURN_REQUESTED,
                State.EXTENSION_REQUESTED,
                State.SUSPENSION_REQUESTED,
                State.SUSPENDED,
                State.FEEDBACK,
                State.CHECKING,
            ]
            if public:
                options += [State.VERIFYING, State.ACCEPTED]
            elif order.source == Source.PATROL and category and category.name in ON_THE_SPOT:
                options.append(State.SELF_RESOLVED)
        state = min(options, key=lambda s: (self.holds[s], self.rng.random()))
        self.holds[state] += 1
        plan.hold = state
        plan.reject = ""
        plan.escalate = False
        plan.self_resolve = state == State.SELF_RESOLVED
        plan.returned = plan.returned or state == State.RETURN_REQUESTED
        plan.extension = plan.extension or state == State.EXTENSION_REQUESTED
        plan.suspend = plan.suspend or state in (State.SUSPENSION_REQUESTED, State.SUSPENDED)

    # the story of one order
    def simulate(self, sim: _Sim) -> None:
        order = sim.o
        try:
            self.engine.report(sim, self._reporter(sim), order.created_at)
            if sim.plan.hold == State.REPORTED:
                raise _Stop
            if order.kind == Kind.ERRAND:
                self._errand(sim)
            elif order.level == Level.COMMITTEE and self._committee(sim):
                pass
            else:
                self._street(sim)
        except _Stop:
            pass
        self.engine.timers(sim, self.now)
        self.engine.finish(sim)

    def step(self, sim: _Sim, action: str, actor: _Actor, *, after=None, at=None, **params):
        if at is None:
            at = self.work.after(sim.last, after)
        if at > self.now:
            raise _Stop
        self.engine.timers(sim, at)
        self.engine.act(sim, action, at, actor, **params)
        if sim.plan.hold and sim.plan.hold == sim.o.state:
            raise _Stop

    def minutes(self, low, high, late=None, p_late=0.0) -> float:
        if late and self.rng.random() < p_late:
            return self.rng.uniform(*late)
        return self.rng.uniform(low, high)

    # actors
    def _reporter(self, sim: _Sim) -> _Actor:
        order, rng = sim.o, self.rng
        place = order.place
        if order.source == Source.PATROL:
            return self.grid_worker(sim)
        if order.source == Source.COMMITTEE:
            return self.committee_staff(sim)
        if order.source == Source.HOTLINE:  # the centre enters the 12345 orders
            return self.dispatcher(sim)
        if order.source == Source.RESIDENT:
            accounts = self.staff.residents.get(place.path)
            if accounts and rng.random() < 0.3:
                return self.staff.actor(rng.choice(accounts), place, Role.RESIDENT)
        if order.source == Source.PROPERTY:
            accounts = self.staff.property.get(place.path)
            if accounts:
                return self.staff.actor(rng.choice(accounts), place, Role.PROPERTY_MANAGER)
        return SYSTEM

    def grid_worker(self, sim: _Sim) -> _Actor:
        who = self.staff.grid_workers.get(sim.o.grid_id, "网格员")
        return self.staff.actor(who, sim.o.place, Role.GRID_WORKER)

    def committee_staff(self, sim: _Sim) -> _Actor:
        pool = self.staff.committee[self.committee_of[sim.o.place_id]]
        return self.staff.pick(pool, sim.o.place, Role.COMMUNITY_WORKER)

    def dispatcher(self, sim: _Sim) -> _Actor:
        if sim.o.escalated:
            return self.staff.pick(self.staff.bureau, sim.o.place, Role.DISTRICT_BUREAU)
        return self.staff.pick(self.staff.dispatchers, sim.o.place, Role.GRID_DISPATCHER)

    def supervisor(self, sim: _Sim) -> _Actor:
        if sim.o.escalated:
            return self.staff.pick(self.staff.bureau, sim.o.place, Role.DISTRICT_BUREAU)
        return self.staff.pick(self.staff.supervisors, sim.o.place, Role.GRID_SUPERVISOR)

    def handler(self, sim: _Sim) -> _Actor:
        pool = self.staff.handlers[sim.o.department_id]
        return self.staff.pick(pool, sim.o.place, Role.DEPARTMENT_HANDLER)

    def head(self, sim: _Sim) -> _Actor:
        """The lead department's head: only they ask for more time (T13)."""
        who = self.staff.heads[sim.o.department_id]
        return self.staff.actor(who, sim.o.place, Role.DEPARTMENT_HEAD)

    # flows
    def _errand(self, sim: _Sim) -> None:
        staff = self.committee_staff(sim)
        item = next(i for i in self.items if i.pk == sim.o.service_item_id)
        self.step(
            sim,
            "rc_close",
            staff,
            after=self._within(sim, sim.o.phase_due_at, late=self.rng.random() < 0.05),
            reason=f"已代为办理{item.name}，结果已告知本人",
        )
        self._rate_and_archive(sim)

    def _committee(self, sim: _Sim) -> bool:
        """The committee takes its own matter; True when it settled it."""
        staff = self.committee_staff(sim)
        self.step(sim, "self_handle", staff, after=self.minutes(10, 50, (61, 300), 0.1))
        if sim.plan.escalate:
            reason = self.rng.choice(ESCALATE_REASONS)
            self.step(sim, "escalate", staff, after=self.minutes(240, 1800), reason=reason)
            return False
        self.step(
            sim,
            "rc_close",
            staff,
            after=self._within(sim, sim.o.phase_due_at, late=self.rng.random() < 0.08),
            reason=self.rng.choice(COMMITTEE_RESULTS),
        )
        self._rate_and_archive(sim)
        return True

    def _street(self, sim: _Sim) -> None:
        order, plan, rng = sim.o, sim.plan, self.rng
        if plan.reject in (RejectReason.DUPLICATE, RejectReason.OUT_OF_SCOPE):
            duplicate = plan.reject == RejectReason.DUPLICATE
            self.step(
                sim,
                "reject",
                self.dispatcher(sim),
                after=self.minutes(5, 40),
                reason=rng.choice(DUPLICATE_REASONS if duplicate else OUT_OF_SCOPE_REASONS),
                reject_reason=plan.reject,
                duplicate_of=plan.duplicate,
            )
            self._archive(sim)
            return
        if order.source not in VERIFIED_SOURCES:
            worker = self.grid_worker(sim)
            self.step(
                sim,
                "send_verify",
                self.dispatcher(sim),
                after=self.minutes(5, 40, (40, 120), 0.04),
                assignee=worker.user,
            )
            if plan.reject == RejectReason.UNTRUE:
                self.step(
                    sim,
                    "reject",
                    self.dispatcher(sim),
                    after=self.minutes(15, 60),
                    reason=rng.choice(UNTRUE_REASONS),
                    reject_reason=RejectReason.UNTRUE,
                )
                self._archive(sim)
                return
            self.step(sim, "verify", worker, after=self.minutes(8, 28, (31, 120), 0.05))
        elif plan.self_resolve:
            self.step(sim, "self_resolve", self.grid_worker(sim), after=self.minutes(3, 25))
            self.step(
                sim, "approve_self_resolved", self.supervisor(sim), after=self.minutes(10, 50)
            )
            self._archive(sim)
            return
        raise_urgency = order.urgency == Urgency.NORMAL and rng.random() < 0.03
        self.step(
            sim,
            "register",
            self.supervisor(sim),
            after=self.minutes(3, 50, (61, 200), 0.04),
            urgency=Urgency.PRESSING if raise_urgency else None,
        )
        if plan.district:
            self.step(
                sim,
                "escalate_district",
                self.supervisor(sim),
                after=self.minutes(10, 120),
                reason=rng.choice(DISTRICT_REASONS),
            )
        self._handle(sim)

    def _dispatch(self, sim: _Sim, department: int, co: list[int]) -> None:
        self.step(
            sim,
            "dispatch",
            self.dispatcher(sim),
            after=self.minutes(3, 25, (31, 120), 0.04),
            department=department,
            co_departments=co,
        )

    def _sign(self, sim: _Sim) -> None:
        self.step(sim, "sign_for", self.handler(sim), after=self.minutes(10, 110, (125, 500), 0.05))

    def _handle(self, sim: _Sim) -> None:
        order, plan, rng = sim.o, sim.plan, self.rng
        lead, co = self.route(order)
        if plan.returned and len(self.departments) > 1:
            wrong = rng.choice([d for d in self.departments if d != lead])
            self._dispatch(sim, wrong, [])
            sign_due = order.phase_due_at  # the sign-for clock dispatch started
            self._sign(sim)
            # services.return_due: before the sign-for deadline plus the grace (T12).
            limit = self.engine.deadlines.add(sign_due, self.return_grace, LimitUnit.HOURS)
            left = self.work.minutes_between(sim.last, limit)
            at = self.work.after(sim.last, min(self.minutes(20, 400), max(1.0, left * 0.8)))
            self.step(
                sim,
                "request_return",
                self.handler(sim),
                at=at,
                reason=rng.choice(RETURN_REASONS),
            )
            if plan.return_refused:
                self.step(
                    sim,
                    "refuse_return",
                    self.supervisor(sim),
                    after=self.minutes(20, 240),
                    reason="经核查属于贵单位职责范围，请按期处置",
                )
            else:
                self.step(sim, "approve_return", self.dispatcher(sim), after=self.minutes(10, 120))
                self._dispatch(sim, lead, co)
                self._sign(sim)
        else:
            self._dispatch(sim, lead, co)
            self._sign(sim)
        if plan.summons and sim.co:
            self._summons(sim, lead, co)
        if plan.suspend:
            self._suspend(sim)
        if plan.extension:
            self._extension(sim)
        self._feedback(sim, late=plan.late)
        self._check_and_close(sim, failures=1 if plan.rework else 0)
        rating = self._rate(sim)
        if rating is not None and rating <= 2 and rng.random() < P_REOPEN:
            self.step(
                sim,
                "reopen",
                self.supervisor(sim),
                after=self.minutes(60, 900),
                reason=rng.choice(REOPEN_REASONS),
            )
            self.step(
                sim,
                "feedback",
                self.handler(sim),
                after=self.minutes(240, 2400),
                reason=self._result(sim),
            )
            self._check_and_close(sim, failures=0)
            self._rate(sim, again=True)
        self._archive(sim)

    def _summons(self, sim: _Sim, lead: int, co: list[int]) -> None:
        rng = self.rng
        self.step(
            sim,
            "request_summons",
            self.committee_staff(sim),
            after=self.minutes(240, 1200),
            reason=rng.choice(SUMMONS_REASONS),
        )
        self.step(
            sim,
            "decide_summons",
            self.supervisor(sim),
            after=self.minutes(480, 1800),
            reason=rng.choice(SUMMONS_OUTCOMES),
            department=lead,
            co_departments=co,
            venue=f"{self.world.street.name}城运中心会议室",
        )
        self._sign(sim)

    def _suspend(self, sim: _Sim) -> None:
        rng = self.rng
        at = self.work.after(sim.last, self.minutes(240, 1440))
        review_on = at.date() + dt.timedelta(days=rng.randint(30, 75))
        self.step(
            sim,
            "request_suspension",
            self.handler(sim),
            at=at,
            reason=rng.choice(SUSPENSION_REASONS),
            review_on=review_on,
        )
        self.step(sim, "approve_suspension", self.supervisor(sim), after=self.minutes(60, 600))
        morning = dt.datetime.combine(review_on, dt.time(9), TZ)
        self.step(
            sim, "resume", self.supervisor(sim), at=self.work.after(morning, rng.uniform(5, 120))
        )

    def _extension(self, sim: _Sim) -> None:
        order, rng = sim.o, self.rng
        left = self.work.minutes_between(sim.last, order.handle_due_at)
        if left < 60:
            return
        self.step(
            sim,
            "request_extension",
            self.head(sim),
            after=left * rng.uniform(0.5, 0.9),
            reason=rng.choice(EXTENSION_REASONS),
            hours=rng.choice([8, 16, 16, 24, 24, 40]),
        )
        if sim.plan.extension_refused:
            self.step(
                sim,
                "refuse_extension",
                self.supervisor(sim),
                after=self.minutes(30, 300),
                reason="时限内可以完成，请按期处置",
            )
        else:
            self.step(sim, "approve_extension", self.supervisor(sim), after=self.minutes(30, 300))

    def _within(self, sim: _Sim, due, *, late: bool) -> float:
        """Working minutes until an action that ends inside (or, if late, after) `due`."""
        left = self.work.minutes_between(sim.last, due) if due else 0.0
        if late or left < 5:
            return left + self.rng.uniform(30, 600) * (8 if self.rng.random() < 0.25 else 1)
        return max(5.0, left * min(0.97, max(0.03, self.rng.betavariate(1.6, 2.4))))

    def _result(self, sim: _Sim) -> str:
        name = self.categories[sim.o.category_id].name
        for key, results in RESULTS.items():
            if key in name:
                return self.rng.choice(results)
        return self.rng.choice(RESULT_DEFAULT)

    def _feedback(self, sim: _Sim, *, late: bool) -> None:
        self.step(
            sim,
            "feedback",
            self.handler(sim),
            after=self._within(sim, sim.o.handle_due_at, late=late),
            reason=self._result(sim),
        )

    def _check_and_close(self, sim: _Sim, *, failures: int) -> None:
        rng = self.rng
        while True:
            worker = self.grid_worker(sim)
            self.step(
                sim,
                "send_check",
                self.dispatcher(sim),
                after=self.minutes(5, 25, (31, 180), 0.03),
                assignee=worker.user,
            )
            passed = failures <= 0
            self.step(
                sim, "check", worker, after=self.minutes(5, 16, (31, 120), 0.03), passed=passed
            )
            if passed:
                break
            failures -= 1
            self.step(
                sim,
                "rework",
                self.supervisor(sim),
                after=self.minutes(2, 20),
                reason=rng.choice(REWORK_REASONS),
            )
            self.step(
                sim,
                "feedback",
                self.handler(sim),
                after=self.minutes(240, 1200),
                reason=self._result(sim),
            )
        self.step(sim, "close", self.supervisor(sim), after=self.minutes(2, 8))

    def _rate(self, sim: _Sim, *, again: bool = False) -> int | None:
        order, rng = sim.o, self.rng
        if order.reporter_id is not None:
            if rng.random() >= P_RATED["reporter"]:
                return None
            actor = self.staff.actor(order.reporter, order.place, "")
            at = sim.last + dt.timedelta(hours=rng.uniform(0.5, 72))
        elif order.level == Level.COMMITTEE:
            if rng.random() >= P_RATED["committee"]:
                return None
            actor = self.committee_staff(sim)
            at = self.work.after(sim.last, self.minutes(30, 1500))
        elif order.source in (Source.RESIDENT, Source.HOTLINE, Source.PROPERTY):
            if rng.random() >= P_RATED["phone"]:
                return None
            actor = self.dispatcher(sim)
            at = self.work.after(sim.last, self.minutes(60, 1500))
        else:
            return None  # found on patrol or by the committee: nobody to ask
        if at - sim.last >= self.window - dt.timedelta(hours=2):
            return None
        troubled = order.rework_count or sim.plan.late
        table = RATINGS_AGAIN if again else RATINGS_TROUBLED if troubled else RATINGS
        rating = rng.choices([r for r, _ in table], weights=[w for _, w in table])[0]
        comment = rng.choice(RATING_COMMENTS.get(rating, [""]))
        self.step(sim, "rate", actor, at=at, rating=rating, comment=comment)
        return rating

    def _rate_and_archive(self, sim: _Sim) -> None:
        self._rate(sim)
        self._archive(sim)

    def _archive(self, sim: _Sim) -> None:
        order = sim.o
        base = order.updated_at
        if order.state == State.CLOSED:
            base = max(order.closed_at, base)
        at = _ceil_tick(base + self.window)
        if at > self.now:
            raise _Stop
        self.engine.archive(sim, at)


# --- writing ------------------------------------------------------------------------------------


TRANSITION_FIELDS = [
    Transition._meta.get_field(name)
    for name in (
        "order", "action", "from_state", "to_state", "level", "actor", "actor_name", "role",
        "department", "at", "reason", "data",
    )
]  # fmt: skip


def _transition_rows(sims: list[_Sim]):
    for sim in sims:
        order_id = sim.o.id
        for action, before, after, level, actor, department, at, reason, data in sim.rows:
            if action == "reject" and isinstance(data.get("duplicate_of"), _Sim):
                data = {**data, "duplicate_of": data["duplicate_of"].o.id}
            user = actor.user
            yield (
                order_id, action, before, after, level, user.pk if user is not None else None,
                actor.name, actor.role, department, at, reason, data,
            )  # fmt: skip


def _moment_adapter(ops):
    """ops.adapt_datetimefield_value; for SQLite's text form a quicker equal (checked)."""

    def text(value):
        return str(value.astimezone(dt.UTC).replace(tzinfo=None))

    sample = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=TZ)
    if ops.connection.vendor == "sqlite" and text(sample) == ops.adapt_datetimefield_value(sample):
        return text
    return ops.adapt_datetimefield_value


def _adapter(field, ops):
    """What Field.get_db_prep_save does with a plain value of this field, or None."""
    if isinstance(field, DateTimeField):
        return _moment_adapter(ops)
    if isinstance(field, DateField):
        return ops.adapt_datefield_value
    if isinstance(field, DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    if isinstance(field, JSONField):
        return lambda v: ops.adapt_json_value(v, field.encoder)
    return None


def _insert(model, fields, rows) -> int:
    """Plain multi-row INSERTs of `rows` (tuples in `fields` order, values as Python has
    them); dates, decimals and JSON are adapted by the backend as the ORM would."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names from the model)
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    adapt = [(i, a) for i, a in enumerate(_adapter(f, connection.ops) for f in fields) if a]
    count = 0
    with connection.cursor() as cursor:
        batch = []
        for row in rows:
            row = list(row)
            for i, a in adapt:
                if row[i] is not None:
                    row[i] = a(row[i])
            batch.append(row)
            if len(batch) == 10_000:
                cursor.executemany(sql, batch)
                count, batch = count + len(batch), []
        cursor.executemany(sql, batch)
    return count + len(batch)


def _write(sims: list[_Sim]) -> dict[str, int]:
    for sim in sims:
        if sim.dup is not None:
            sim.o.duplicate_of_id = sim.dup.o.id
    _insert(
        WorkOrder,
        _ORDER_FIELDS,
        ([getattr(s.o, f.attname) for f in _ORDER_FIELDS] for s in sims),
    )
    connection = transaction.get_connection()
    with connection.cursor() as cursor:  # ids were given: move the sequence past them
        for statement in connection.ops.sequence_reset_sql(no_style(), [WorkOrder]):
            cursor.execute(statement)
    through = WorkOrder.co_departments.through
    through.objects.bulk_create(
        [through(workorder_id=s.o.id, department_id=d) for s in sims for d in s.co],
        batch_size=BATCH,
    )
    transitions = _insert(Transition, TRANSITION_FIELDS, _transition_rows(sims))
    summonses = 0
    links = []
    for sim in sims:
        for entry in sim.summons:
            departments = entry.pop("departments", [])
            summons = Summons.objects.create(order_id=sim.o.id, **entry)
            links += [
                Summons.departments.through(summons_id=summons.pk, department_id=d)
                for d in departments
            ]
            summonses += 1
    Summons.departments.through.objects.bulk_create(links)
    for sim in sims:  # written: let the log rows go
        sim.rows = []
    return {"transitions": transitions, "summonses": summonses}


@transaction.atomic
def populate_orders(
    world: World, *, seed: int, size: int = 20_000, today: dt.date | dt.datetime | None = None
) -> dict[str, int]:
    """A year of work orders for `world.street`, ending at `today` (a date: 16:30 that day; a
    datetime: that moment; None: now), deterministic for a seed and a day. Also writes the
    street's errand catalogue and routing rules. Returns the counts."""
    if today is None:
        now = timezone.now().astimezone(TZ)
    elif isinstance(today, dt.datetime):
        now = today.astimezone(TZ)
    else:
        now = dt.datetime.combine(today, dt.time(16, 30), TZ)
    year = _Year(world, seed=seed, now=now, size=size)
    written: Counter[str] = Counter()
    states: Counter[str] = Counter()
    batch: list[_Sim] = []
    for sim in year.run():
        batch.append(sim)
        states[sim.o.state] += 1
        written["errands"] += sim.o.kind == Kind.ERRAND
        if len(batch) == WRITE_EVERY:
            written.update(_write(batch))
            batch = []
    written.update(_write(batch))
    counts = {
        "orders": sum(states.values()),
        "transitions": written["transitions"],
        "open": sum(n for s, n in states.items() if s not in CLOSED_STATES),
        "closed": states[State.CLOSED],
        "rated": states[State.RATED],
        "rejected": states[State.REJECTED],
        "archived": states[State.ARCHIVED],
        "errands": written["errands"],
        "summonses": written["summonses"],
        "routing_rules": year.rules_created,
        "service_items": len(year.items),
    }
    audit_record(actor=None, action="demo.orders.build", place=world.street, changes=counts)
    return counts
