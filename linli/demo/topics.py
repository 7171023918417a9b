"""The demo's topics (议题): about forty across the street's committees, at every stage.

Everything goes through `linli.deliberation.services` (raising, backing, answers, merges,
referrals with their work orders, comments, hiding, an appeal, archiving), with past dates, so
the rows, counters, notifications and audit events are exactly what the services write. Only
the accounts are bulk-inserted:

- backers: residents need an account to back a topic. Each committee gets up to
  `BACKERS_PER_COMMITTEE` resident accounts, one per household (reusing any resident account a
  household already has, such as the persona "resident"), linked to an adult of the register
  when there is one. Their passwords are unusable: they never sign in;
- moderators: a committee without a staff account (only the first two have personas) gets one
  community worker account, also without a usable password.

`populate_topics` is deterministic for a given world, rng seed and `now`.
"""

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from linli.accounts.models import RoleAssignment, User
from linli.accounts.roles import Role
from linli.core.audit import audit_record
from linli.core.scoping import under_q
from linli.deliberation import services
from linli.deliberation.choices import (
    MERGE_TARGET_STATES,
    AnswerKind,
    SupportUnit,
    TopicCategory,
    TopicState,
)
from linli.deliberation.models import Topic
from linli.demo.builder import World
from linli.people.choices import ResidentStatus
from linli.people.models import Resident
from linli.places.choices import PlaceKind
from linli.places.models import Place
from linli.workorders.models import Category

TOTAL = 40
BACKERS_PER_COMMITTEE = 16
STAFF_ROLES = services.STAFF_ROLES
C = TopicCategory


@dataclass(frozen=True)
class Idea:
    title: str
    body: str
    category: str
    work_category: str = ""  # the work-order minor class when the committee refers it


IDEAS = [
    Idea(
        "小花园增设休息长椅",
        "小花园里只有两张长椅，老人散步累了只能站着，建议沿步道再增设四到六张。",
        C.FACILITIES,
        "公共座椅",
    ),
    Idea(
        "非机动车棚加装充电桩",
        "很多人把电动车推进楼道充电，很危险。建议在车棚集中安装智能充电桩，按次付费。",
        C.SAFETY,
        "电动自行车充电设施",
    ),
    Idea(
        "楼道堆物集中清理",
        "几栋楼的楼道里堆了旧家具和纸箱，堵住了消防通道，建议组织一次集中清理。",
        C.SAFETY,
        "楼道堆物",
    ),
    Idea(
        "后门小路路灯太暗",
        "后门到菜场的小路晚上很黑，有两盏路灯坏了很久，老人晚上出门不放心。",
        C.SAFETY,
        "路灯",
    ),
    Idea(
        "错峰共享停车位",
        "小区车位不够，晚上车停到人行道上。附近写字楼晚上车位空着，建议居委会协调错峰共享。",
        C.PARKING,
        "停车设施",
    ),
    Idea(
        "垃圾箱房异味与分类指导",
        "垃圾箱房夏天异味很重，分类也经常混投。建议增加清运次数，并安排志愿者在投放时段指导。",
        C.ENVIRONMENT,
        "垃圾分类投放不规范",
    ),
    Idea(
        "更换老旧儿童游乐设施",
        "儿童滑梯已经生锈，有一处螺丝松动，孩子玩的时候很危险，希望尽快更换。",
        C.ELDERLY_CHILDREN,
        "儿童游乐设施",
    ),
    Idea(
        "老年助餐点延长供餐时间",
        "助餐点十一点半就不供餐了，一些行动慢的老人赶不上，建议延长到十二点半。",
        C.ELDERLY_CHILDREN,
    ),
    Idea(
        "广场舞音量与时间约定",
        "晚上广场舞音响太大，临街几栋楼的住户休息受影响，希望大家一起商量一个音量和时间的约定。",
        C.NEIGHBOURS,
        "噪声扰民",
    ),
    Idea(
        "宠物粪便文明养犬倡议",
        "草坪和步道上经常有狗粪，建议设置拾便袋箱，并发起文明养犬倡议。",
        C.ENVIRONMENT,
        "宠物扰民",
    ),
    Idea(
        "多层住宅加装电梯意见征集",
        "我们这栋六层楼老人多，上下楼困难，希望居委会帮忙征集全楼意见，推进加装电梯。",
        C.FACILITIES,
        "电梯",
    ),
    Idea(
        "消防通道被私家车占用",
        "夜里总有车停在消防通道上，消防车根本进不来，建议画线并加装地锁或提示牌。",
        C.PARKING,
        "占用消防通道",
    ),
    Idea(
        "公共绿地被毁种菜",
        "有住户在公共绿地上种菜、搭架子，既不美观也影响其他人使用，希望恢复绿化。",
        C.ENVIRONMENT,
        "毁绿种菜",
    ),
    Idea(
        "物业保洁频次不够",
        "楼道一周才拖一次，电梯里也经常很脏，希望和物业沟通增加保洁频次。",
        C.SERVICES,
        "物业服务",
    ),
    Idea(
        "高空抛物隐患加装监控",
        "上周又有人从楼上扔东西，差点砸到人。建议在几栋高楼加装朝上的监控探头。",
        C.SAFETY,
        "公共监控",
    ),
    Idea(
        "增加室外健身器材",
        "现有健身器材太少，早上排队，建议在小广场再增加几件适合老人的器材。",
        C.FACILITIES,
        "健身设施",
    ),
    Idea(
        "顶楼屋面漏水影响多户",
        "一下雨顶楼几户家里就渗水，已经好几年了，希望尽快修缮屋面防水。",
        C.FACILITIES,
        "漏水渗水",
    ),
    Idea(
        "组建楼组邻里互助群",
        "很多独居老人有事找不到人帮忙，建议每个楼组建一个互助群，年轻人结对帮扶。",
        C.NEIGHBOURS,
    ),
    Idea(
        "快递柜位置调整",
        "快递柜放在小区最里面，取件要走很远，建议挪到大门附近，方便老人取件。",
        C.SERVICES,
    ),
    Idea(
        "雨天小区门口积水",
        "每次下大雨小区门口就积水，进出要蹚水，希望疏通雨水管道。",
        C.ENVIRONMENT,
        "道路积水",
    ),
]

COMMENTS = [
    "非常赞同，早就该解决了。",
    "我家老人也反映过这个问题。",
    "希望居委会尽快组织大家商量。",
    "可以先在一栋楼试点，看看效果。",
    "费用怎么分摊需要说清楚。",
    "我愿意当志愿者帮忙。",
    "物业应该承担一部分责任。",
    "建议开个协调会，把物业也叫上。",
]
STAFF_REPLIES = [
    "已收到，居委会会尽快了解情况。",
    "感谢反映，我们已经和物业联系。",
    "下次居民代表会议会讨论这个议题。",
]
MEETINGS = [
    "居民代表会议（{month}月）",
    "听证会：{title}",
    "协调会：{title}",
    "联席会议（1+5+X）",
]
DECLINE_REASONS = [
    "该事项属于业主大会决定的范围，请向业委会提出，居委会可协助召集。",
    "经现场查看，相关设施已在街道年度改造计划中，将统一实施。",
    "该事项涉及个人纠纷，建议通过人民调解处理，居委会可以安排调解员。",
]
DONE_OUTCOMES = [
    "会议表决通过，相关工作已于本月完成。",
    "工单已办结，居民回访满意。",
    "已按会议决议实施，费用由自治金列支并公示。",
]
# Stages, in the proportions of a living community; merged topics are made last.
STAGES = (
    ["open"] * 10
    + ["flagged"] * 6
    + ["scheduled"] * 5
    + ["referred"] * 4
    + ["declined"] * 4
    + ["archived"] * 4
    + ["done"] * 4
    + ["merged"] * 3
)


def _households(committee: Place, limit: int) -> list[Place]:
    """Households of a committee spread over its compounds, occupied ones first."""
    units = list(
        Place.objects.filter(under_q(committee.path), kind=PlaceKind.HOUSEHOLD)
        .order_by("path")
        .only("pk", "path")
    )
    occupied = set(
        Resident.objects.filter(under_q(committee.path), status=ResidentStatus.ACTIVE)
        .values_list("household__place_id", flat=True)
        .distinct()
    )
    preferred = [u for u in units if u.pk in occupied] or units
    if len(preferred) <= limit:
        return preferred
    step = len(preferred) / limit
    return [preferred[int(i * step)] for i in range(limit)]


def _backers(committee: Place, now: dt.datetime) -> list[User]:
    """Resident accounts of the committee, one per household (created where missing)."""
    homes = _households(committee, BACKERS_PER_COMMITTEE)
    existing = {
        a.place_id: a.user
        for a in RoleAssignment.objects.filter(
            role=Role.RESIDENT, place_id__in=[h.pk for h in homes]
        )
        .select_related("user")
        .order_by("place_id", "user_id")
    }
    missing = [h for h in homes if h.pk not in existing]
    adults = {}
    cutoff = (now - dt.timedelta(days=18 * 366)).date()
    for resident in (
        Resident.objects.filter(
            household__place_id__in=[h.pk for h in missing],
            account__isnull=True,
            status=ResidentStatus.ACTIVE,
            birth_date__lte=cutoff,
        )
        .select_related("household")
        .order_by("household__place_id", "birth_date", "pk")
    ):
        adults.setdefault(resident.household.place_id, resident)
    users = User.objects.bulk_create(
        [
            User(
                username=f"demo-resident-{home.pk}",
                display_name=adults[home.pk].name if home.pk in adults else f"居民{home.pk % 1000}",
                password=make_password(None),
            )
            for home in missing
        ]
    )
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(user=user, role=Role.RESIDENT, place_id=home.pk, created_at=now)
            for home, user in zip(missing, users, strict=True)
        ]
    )
    linked = []
    for home, user in zip(missing, users, strict=True):
        existing[home.pk] = user
        if home.pk in adults:
            adults[home.pk].account = user
            linked.append(adults[home.pk])
    Resident.objects.bulk_update(linked, ["account"])
    return [existing[h.pk] for h in homes]


def _with_persona(backers: list[User], persona: User | None, committee: Place) -> list[User]:
    """The persona "resident" backs in their own committee, so the demo shows "you backed it"."""
    if persona is None or persona in backers or not backers:
        return backers
    if services.household_under(persona, committee) is None:
        return backers
    return [persona, *backers[:-1]]


def _moderator(committee: Place, users: dict[str, User], now: dt.datetime) -> User:
    """A staff account of the committee: a persona when there is one, else a demo worker."""
    for key in ("director", "worker", "secretary", "stranger"):
        user = users.get(key)
        if user is not None and services.is_moderator(user, committee):
            return user
    assignment = (
        RoleAssignment.objects.filter(place=committee, role__in=STAFF_ROLES)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if assignment is not None:
        return assignment.user
    user = User.objects.create(
        username=f"demo-worker-{committee.pk}",
        display_name=f"{committee.name[:2]}社工",
        password=make_password(None),
    )
    RoleAssignment.objects.create(
        user=user, role=Role.COMMUNITY_WORKER, place=committee, created_at=now
    )
    return user


def _between(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    if end <= start:
        return start
    return start + dt.timedelta(seconds=rng.randint(0, int((end - start).total_seconds())))


@dataclass
class _Community:
    committee: Place
    compounds: list[Place]
    backers: list[User]
    staff: User
    threshold: int
    ideas: list[Idea]


class _Builder:
    def __init__(self, communities: list[_Community], rng: random.Random, now: dt.datetime):
        self.communities = communities
        self.rng = rng
        self.now = now
        self.topics: dict[int, list[Topic]] = {c.committee.pk: [] for c in communities}
        # Left quiet on purpose: touching them (a merge, a comment) would keep them awake.
        self.to_archive: set[int] = set()
        self.states: Counter[str] = Counter()
        self.comments = 0
        self.categories = {
            c.name: c for c in Category.objects.filter(active=True).order_by("service_code")
        }

    def idea(self, community: _Community, *, referable: bool = False) -> Idea:
        pool = [i for i in community.ideas if i.work_category] if referable else community.ideas
        idea = pool[0]
        community.ideas.remove(idea)
        community.ideas.append(idea)  # reused only once every idea had its turn
        return idea

    def raise_topic(self, community: _Community, idea: Idea, when: dt.datetime) -> Topic:
        rng = self.rng
        author = rng.choice(community.backers) if rng.random() < 0.85 else community.staff
        compound = rng.choice(community.compounds) if community.compounds else None
        return services.topic_raise(
            actor=author,
            committee=community.committee,
            title=idea.title,
            body=idea.body,
            category=idea.category,
            compound=compound if rng.random() < 0.7 else None,
            now=when,
        )

    def back(self, community: _Community, topic: Topic, count: int, start, end) -> dt.datetime:
        """`count` backings between start and end; returns the moment of the last one."""
        backers = self.rng.sample(community.backers, min(count, len(community.backers)))
        moments = sorted(_between(self.rng, start, end) for _ in backers)
        last = start
        for user, moment in zip(backers, moments, strict=True):
            services.topic_support(actor=user, topic=topic, now=moment)
            last = moment
        return last

    def discuss(self, community: _Community, topic: Topic, start, end) -> list:
        rng = self.rng
        made = []
        for _ in range(rng.randint(1, 4)):
            author = rng.choice(community.backers)
            made.append(
                services.comment_post(
                    actor=author,
                    topic=topic,
                    body=rng.choice(COMMENTS),
                    now=_between(rng, start, end),
                )
            )
        if rng.random() < 0.5:
            services.comment_post(
                actor=community.staff,
                topic=topic,
                body=rng.choice(STAFF_REPLIES),
                parent=made[0],
                now=_between(rng, start, end),
            )
            made.append(None)
        self.comments += len(made)
        return [c for c in made if c is not None]

    def build(self, stage: str, community: _Community) -> Topic:
        rng, now = self.rng, self.now
        threshold = community.threshold
        staff = community.staff
        if stage == "archived":
            created = now - dt.timedelta(days=rng.randint(80, 150))
            topic = self.raise_topic(community, self.idea(community), created)
            self.back(community, topic, rng.randint(0, 3), created, created + dt.timedelta(days=9))
            self.to_archive.add(topic.pk)
            return topic
        if stage == "merged":
            targets = [
                t
                for t in self.topics[community.committee.pk]
                if t.state in MERGE_TARGET_STATES and t.pk not in self.to_archive
            ]
            target = targets[0] if targets else self.build("open", community)
            target.refresh_from_db()
            created = max(target.created_at, now - dt.timedelta(days=20)) + dt.timedelta(hours=3)
            idea = Idea(f"{target.title}（重复）", target.body, target.category)
            topic = self.raise_topic(community, idea, created)
            self.back(community, topic, rng.randint(1, 4), created, created + dt.timedelta(days=2))
            services.topic_merge(
                actor=staff,
                topic=topic,
                into=target,
                reason="与已有议题内容相同，附议已合并计入原议题。",
                now=created + dt.timedelta(days=3),
            )
            return topic
        created = now - dt.timedelta(days=rng.randint(12, 50))
        idea = self.idea(community, referable=stage == "referred" or stage == "done")
        topic = self.raise_topic(community, idea, created)
        backing_ends = created + (now - created) * 0.5
        if stage == "open":
            last = self.back(community, topic, rng.randint(0, threshold - 2), created, now)
            if rng.random() < 0.6:
                self.discuss(community, topic, created, now)
            return topic
        if stage == "declined":
            last = self.back(
                community, topic, rng.randint(2, max(2, threshold - 3)), created, backing_ends
            )
            self.discuss(community, topic, created, last + dt.timedelta(days=1))
            return services.topic_answer(
                actor=staff,
                topic=topic,
                kind=AnswerKind.DECLINED,
                text=rng.choice(DECLINE_REASONS),
                now=last + dt.timedelta(days=rng.randint(2, 6)),
            )
        last = self.back(community, topic, threshold + rng.randint(0, 4), created, backing_ends)
        self.discuss(community, topic, created, last)
        if stage == "flagged":
            return topic
        answered = last + dt.timedelta(days=rng.randint(1, 5))
        via_work_order = stage == "referred" or (
            stage == "done" and idea.work_category and rng.random() < 0.5
        )
        if via_work_order:
            category = self.categories.get(idea.work_category) or next(
                iter(self.categories.values())
            )
            topic = services.topic_answer(
                actor=staff,
                topic=topic,
                kind=AnswerKind.REFERRED,
                text="已转为工单，由相关部门处理。",
                category=category,
                now=answered,
            )
        else:
            label = rng.choice(MEETINGS).format(month=answered.month, title=topic.title[:20])
            topic = services.topic_answer(
                actor=staff,
                topic=topic,
                kind=AnswerKind.ACCEPTED_TO_AGENDA,
                text="居委会将把该议题列入会议议程。",
                meeting_label=label,
                now=answered,
            )
        if stage == "done":
            topic = services.topic_done(
                actor=staff,
                topic=topic,
                outcome=rng.choice(DONE_OUTCOMES),
                now=_between(rng, answered, now),
            )
        return topic


def _moderation(builder: _Builder) -> dict[str, int]:
    """One comment hidden with a public reason and appealed, one hidden pending review."""
    communities = [c for c in builder.communities if len(c.backers) >= 5]
    if not communities:
        return {}
    rng, now = builder.rng, builder.now
    community = communities[0]
    topics = [
        t
        for t in builder.topics[community.committee.pk]
        if t.state not in (TopicState.MERGED, TopicState.ARCHIVED)
        and t.pk not in builder.to_archive
    ]
    if not topics:
        return {}
    topic = topics[0]
    author, *others = rng.sample(community.backers, 5)
    when = now - dt.timedelta(days=4)
    rude = services.comment_post(
        actor=author, topic=topic, body="提这种议题的人就是闲得慌，3号楼那家最自私。", now=when
    )
    services.comment_hide(
        actor=community.staff,
        comment=rude,
        reason="含针对具体住户的攻击性内容，请文明讨论。",
        now=when + dt.timedelta(hours=5),
    )
    services.appeal_file(
        actor=author,
        comment=rude,
        text="我说的是事实，没有骂人，请恢复显示。",
        now=when + dt.timedelta(days=1),
    )
    advert = services.comment_post(
        actor=others[0], topic=topic, body="专业疏通管道、清洗油烟机，加微信。", now=when
    )
    rules = services.settings_for(community.committee)
    for reporter in others[1 : 1 + rules.hide_after_reports]:
        services.comment_report(actor=reporter, comment=advert, reason="广告", now=when)
    builder.comments += 2
    return {"hidden": 1, "appeals": 1, "pending_review": 1}


@transaction.atomic
def populate_topics(
    *,
    world: World,
    users: dict[str, User],
    rng: random.Random,
    now: dt.datetime | None = None,
    total: int = TOTAL,
) -> dict[str, int]:
    """About `total` topics across `world.committees` at every stage, with backing, comments,
    answers, merges, work orders, a hidden comment under appeal and archived topics. `users`
    are the builder's personas (they take part where they belong). Returns the counts."""
    now = now or timezone.now()
    committees = list(world.committees)
    compounds = Place.objects.filter(
        kind=PlaceKind.COMPOUND, parent_id__in=[c.pk for c in committees]
    ).order_by("path")
    communities = []
    for index, committee in enumerate(committees):
        staff = _moderator(committee, users, now)
        if index == 1:
            # One committee counts per person, with a lower threshold: both rules are shown.
            services.committee_settings_update(
                actor=staff,
                committee=committee,
                support_unit=SupportUnit.PERSON,
                support_threshold=8,
                hide_after_reports=3,
                archive_after_days=60,
                now=now - dt.timedelta(days=200),
            )
        rules = services.settings_for(committee)
        ideas = IDEAS[:]
        rng.shuffle(ideas)
        communities.append(
            _Community(
                committee=committee,
                compounds=[c for c in compounds if c.parent_id == committee.pk],
                backers=_with_persona(_backers(committee, now), users.get("resident"), committee),
                staff=staff,
                threshold=rules.support_threshold,
                ideas=ideas,
            )
        )
    communities = [c for c in communities if len(c.backers) >= 2]
    builder = _Builder(communities, rng, now)
    stages = (STAGES * (total // len(STAGES) + 1))[:total]
    live = [s for s in stages if s != "merged"]
    rng.shuffle(live)
    for index, stage in enumerate([*live, *(s for s in stages if s == "merged")]):
        community = communities[index % len(communities)]
        if stage in ("flagged", "scheduled", "referred", "done") and (
            len(community.backers) < community.threshold
        ):
            stage = "open"
        topic = builder.build(stage, community)
        builder.topics[community.committee.pk].append(topic)
    moderation = _moderation(builder)
    archived = services.topics_archive(now=now)["archived"]
    states = Counter(Topic.objects.filter(place__in=committees).values_list("state", flat=True))
    counts = {
        "topics": sum(states.values()),
        **{state: states.get(state, 0) for state in TopicState.values},
        "backers": sum(len(c.backers) for c in communities),
        "comments": builder.comments,
        "work_orders": Topic.objects.filter(place__in=committees, work_order__isnull=False).count(),
        "archived_now": archived,
        **moderation,
    }
    audit_record(actor=None, action="demo.topics.build", place=world.street, changes=counts)
    return counts
