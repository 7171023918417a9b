"""The demo's meetings and decisions, written through the services (so every row, notice, vote,
ballot and audit event is what the pages would have produced), in the first committee:

- a residents' meeting (one representative per household) approving the annual work report,
  with minutes and a published resolution, convened after a petition of more than 1/5 of
  households;
- a representatives' meeting, a hearing (听证会), a coordination meeting (协调会), a review
  meeting (评议会) scoring the committee and its workers, a joint meeting (1+5+X);
- an owners' assembly decided by written consultation (书面征求意见): paper ballots collected
  door to door, each confirmed by a second worker, passed by the double majority of art. 278;
- the committee election (a secret election at a residents' meeting, 7 candidates for 5 seats);
- a participatory budget vote over the households (paper ballots);
- a 四议两公开 procedure taken through all six steps.

Everything is deterministic from the seed; dates are in the past relative to `now`.
`populate_meetings(world, seed=…, users=…)` needs the personas' accounts ("worker" and
"director" of the first committee: paper ballots need a second worker).
"""

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from linli.demo.builder import World
from linli.meetings import services
from linli.meetings.choices import MeetingKind, MotionKind, Party
from linli.meetings.models import Meeting
from linli.places.choices import PlaceKind
from linli.places.models import Place

REPRESENTATIVES = 15
JOINT_PARTIES = [
    ("党总支书记", Party.PARTY_BRANCH),
    ("居委会主任", Party.COMMITTEE),
    ("业委会主任", Party.OWNERS_COMMITTEE),
    ("物业项目经理", Party.PROPERTY_MANAGER),
    ("社区民警", Party.UNIT),
    ("驻区单位代表", Party.UNIT),
    ("社会组织负责人", Party.ORGANISATION),
    ("居民代表甲", Party.RESIDENT_REP),
    ("居民代表乙", Party.RESIDENT_REP),
]
CANDIDATES = ["周建华", "郑敏", "吴丽萍", "陈国强", "王秀英", "李志明", "徐美华"]
PROJECTS = [
    ("楼道照明改造", "12000"),
    ("儿童游乐设施更新", "18000"),
    ("社区花园微更新", "15000"),
    ("老年助餐点设备", "9000"),
    ("非机动车棚扩建", "20000"),
    ("睦邻书屋图书添置", "6000"),
]
BUDGET = Decimal("50000")


def _at(now: dt.datetime, days_ago: int, hour: int = 14) -> dt.datetime:
    day = timezone.localtime(now).date() - dt.timedelta(days=days_ago)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


class _Run:
    def __init__(self, world: World, users: dict, seed: int, now: dt.datetime):
        self.world = world
        self.committee = world.committees[0]
        self.worker = users["worker"]
        self.users = users
        self.director = users["director"]
        self.rng = random.Random(seed)
        self.now = now
        self.counts: dict[str, int] = {}

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    # --- a meeting from draft to minutes ------------------------------------------------------

    def meeting(
        self,
        *,
        kind: str,
        title: str,
        days_ago: int,
        agenda: list[str],
        place: Place | None = None,
        mode: str | None = None,
        form: str = "in_person",
        members=(),
        location: str = "居委会会议室",
    ) -> Meeting:
        starts = _at(self.now, days_ago)
        meeting = services.meeting_create(
            actor=self.worker,
            place=place or self.committee,
            kind=kind,
            title=title,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            attendance_mode=mode,
            form=form,
            location=location,
        )
        for line in agenda:
            services.agenda_add(actor=self.worker, meeting=meeting, title=line)
        for label, party, resident in members:
            services.member_add(
                actor=self.worker, meeting=meeting, label=label, party=party, resident=resident
            )
        lead = services.notice_days(kind) + 2
        meeting = services.meeting_announce(
            actor=self.worker, meeting=meeting, now=starts - dt.timedelta(days=lead)
        )
        meeting = services.meeting_start(actor=self.worker, meeting=meeting, now=starts)
        self.count(f"meetings.{kind}")
        return meeting

    def attend(self, meeting: Meeting, share: float) -> list:
        invitations = list(meeting.invitations.order_by("position", "id"))
        n = min(len(invitations), int(len(invitations) * share) + 1)
        present = self.rng.sample(invitations, n)
        start = meeting.starts_at - dt.timedelta(minutes=20)
        for index, invitation in enumerate(present):
            services.meeting_check_in(
                actor=self.worker,
                meeting=meeting,
                invitation=invitation,
                method="qr" if index % 3 else "list",
                now=start + dt.timedelta(seconds=index * 3),
            )
        self.count("attendances", n)
        return present

    def decide(self, meeting, item, text, present, *, yes_share=0.8, **motion_fields):
        motion = services.motion_add(
            actor=self.worker, agenda_item=item, text=text, **motion_fields
        )
        at = meeting.starts_at + dt.timedelta(minutes=30 + 10 * item.position)
        motion = services.motion_open_vote(actor=self.worker, motion=motion, now=at)
        choices = {}
        for invitation in present:
            roll = self.rng.random()
            choices[invitation.pk] = (
                "yes" if roll < yes_share else ("no" if roll < yes_share + 0.1 else "abstain")
            )
        services.motion_record_hands(
            actor=self.worker, motion=motion, choices=choices, now=at + dt.timedelta(minutes=5)
        )
        motion = services.motion_close(
            actor=self.worker, motion=motion, now=at + dt.timedelta(minutes=8)
        )
        self.count("motions")
        return motion

    def finish(self, meeting: Meeting, minutes: str) -> Meeting:
        meeting = services.meeting_close(actor=self.worker, meeting=meeting, now=meeting.ends_at)
        record = services.minutes_save(actor=self.worker, meeting=meeting, text=minutes)
        record = services.minutes_approve(
            actor=self.director, minutes=record, now=meeting.ends_at + dt.timedelta(days=1)
        )
        services.minutes_publish(actor=self.worker, minutes=record)
        for resolution in meeting.resolutions.all():
            services.resolution_publish(actor=self.worker, resolution=resolution)
            self.count("resolutions")
        return meeting

    # --- the scenes ---------------------------------------------------------------------------

    def petition_and_residents_meeting(self) -> Meeting:
        from linli.votes.electorate import electorate

        petition = services.petition_create(
            actor=self.worker,
            place=self.committee,
            kind="residents_meeting",
            mode="households",
            subject="要求召开居民会议审议年度工作报告和加装电梯方案",
        )
        households = electorate(place=self.committee, unit="household", on=self.now.date())
        signers = self.rng.sample(households, len(households) // 5 + 3)
        for voter in signers:
            services.petition_sign(actor=self.worker, petition=petition, key=voter.key)
        self.count("petition_signatures", len(signers))
        meeting = self.meeting(
            kind=MeetingKind.RESIDENTS_MEETING,
            title="2026年度居民会议",
            days_ago=150,
            mode="households",
            agenda=["审议居委会年度工作报告", "加装电梯试点方案"],
            location="社区文化活动中心",
        )
        services.petition_link_meeting(actor=self.worker, petition=petition, meeting=meeting)
        present = self.attend(meeting, 0.56)
        first, second = meeting.agenda.order_by("position")
        self.decide(meeting, first, "通过居委会2025年度工作报告", present, yes_share=0.85)
        self.decide(meeting, second, "同意在3号楼、5号楼开展加装电梯试点", present, yes_share=0.7)
        return self.finish(
            meeting,
            "出席户代表过半数，会议有效。会议审议通过居委会年度工作报告，"
            "同意加装电梯试点方案。（详细发言记录存档于居委会）",
        )

    def representatives_meeting(self) -> Meeting:
        from linli.people.choices import ResidentStatus
        from linli.people.models import Resident

        people = list(
            Resident.objects.filter(
                path__startswith=self.committee.path, status=ResidentStatus.ACTIVE
            )
            .filter(birth_date__lte=dt.date(1990, 1, 1))
            .order_by("path", "id")[: REPRESENTATIVES * 3 : 3]
        )
        members = [(p.name, Party.RESIDENT_REP, p) for p in people]
        meeting = self.meeting(
            kind=MeetingKind.REPRESENTATIVES_MEETING,
            title="居民代表会议：停车管理规约",
            days_ago=120,
            agenda=["小区停车管理规约（草案）"],
            members=members,
        )
        present = self.attend(meeting, 0.8)
        item = meeting.agenda.first()
        self.decide(meeting, item, "通过小区停车管理规约", present, yes_share=0.8)
        return self.finish(meeting, "应到代表15人，实到13人，超过三分之二。规约获通过。")

    def three_meetings(self) -> list[Meeting]:
        done = []
        hearing = self.meeting(
            kind=MeetingKind.HEARING,
            title="听证会：地面停车收费标准调整",
            days_ago=100,
            agenda=["物业公司提出的停车收费调整方案"],
            members=[
                ("受影响居民代表（有车户）", Party.RESIDENT_REP, None),
                ("受影响居民代表（无车户）", Party.RESIDENT_REP, None),
                ("居民会议代表", Party.RESIDENT_REP, None),
                ("物业项目经理", Party.PROPERTY_MANAGER, None),
                ("业委会代表", Party.OWNERS_COMMITTEE, None),
                ("驻区单位代表", Party.UNIT, None),
            ],
        )
        present = self.attend(hearing, 0.9)
        self.decide(
            hearing, hearing.agenda.first(), "建议收费调整分两年逐步实施", present, yes_share=0.75
        )
        done.append(self.finish(hearing, "听证小组由居委会主任牵头。多数意见：分步实施。"))
        coordination = self.meeting(
            kind=MeetingKind.COORDINATION,
            title="协调会：楼道堆物与噪声纠纷",
            days_ago=80,
            agenda=["2号楼楼道堆物清理与夜间噪声"],
            members=[
                ("当事居民甲", Party.RESIDENT, None),
                ("当事居民乙", Party.RESIDENT, None),
                ("楼组长", Party.RESIDENT_REP, None),
                ("物业管家", Party.PROPERTY_MANAGER, None),
                ("社区民警", Party.UNIT, None),
            ],
        )
        present = self.attend(coordination, 0.9)
        self.decide(
            coordination,
            coordination.agenda.first(),
            "双方同意一周内清理堆物，晚十点后不再装修施工",
            present,
            yes_share=0.95,
        )
        done.append(self.finish(coordination, "双方达成一致，由楼组长跟进落实。"))
        return done

    def review_meeting(self) -> Meeting:
        meeting = self.meeting(
            kind=MeetingKind.REVIEW,
            title="评议会：2026年度居委会及社工民主评议",
            days_ago=60,
            agenda=["居委会及工作人员年度民主评议"],
            members=[(f"评议代表{i + 1}", Party.RESIDENT_REP, None) for i in range(12)],
        )
        present = self.attend(meeting, 0.9)
        motion = services.motion_add(
            actor=self.worker,
            agenda_item=meeting.agenda.first(),
            text="对居委会成员及社工年度工作评分（1-5分）",
            kind=MotionKind.EVALUATION,
            candidates=["周主任", "吴书记", "郑敏"],
        )
        at = meeting.starts_at + dt.timedelta(minutes=40)
        motion = services.motion_open_vote(actor=self.worker, motion=motion, now=at)
        options = list(motion.vote.options.order_by("position"))
        choices = {
            invitation.pk: {str(o.pk): self.rng.choice([3, 4, 4, 5, 5]) for o in options}
            for invitation in present
        }
        services.motion_record_hands(
            actor=self.worker, motion=motion, choices=choices, now=at + dt.timedelta(minutes=5)
        )
        services.motion_close(actor=self.worker, motion=motion, now=at + dt.timedelta(minutes=9))
        self.count("motions")
        return self.finish(meeting, "评议结果将报街道，纳入年度考核（居民评价权重较高）。")

    def joint_meeting(self) -> Meeting:
        meeting = self.meeting(
            kind=MeetingKind.JOINT_MEETING,
            title="1+5+X 联席会议：非机动车充电安全",
            days_ago=45,
            agenda=["非机动车集中充电点选址与管理"],
            members=[(label, party, None) for label, party in JOINT_PARTIES],
        )
        present = self.attend(meeting, 0.9)
        self.decide(
            meeting,
            meeting.agenda.first(),
            "在小区东门增设集中充电点，由物业负责日常管理",
            present,
            yes_share=0.9,
        )
        return self.finish(meeting, "各方就充电点选址、费用分担达成一致。")

    def owners_assembly(self) -> Meeting | None:
        compound = (
            Place.objects.filter(parent=self.committee, kind=PlaceKind.COMPOUND)
            .order_by("path")
            .first()
        )
        meeting = self.meeting(
            kind=MeetingKind.OWNERS_ASSEMBLY,
            title=f"{compound.name}业主大会（书面征求意见）：使用维修资金修缮屋面",
            days_ago=90,
            place=compound,
            form="written_consultation",
            agenda=["使用专项维修资金修缮屋面防水"],
            location="书面征求意见，表决票送达到户",
        )
        if not meeting.invitations.exists():
            return None
        motion = services.motion_add(
            actor=self.worker,
            agenda_item=meeting.agenda.first(),
            text="同意使用专项维修资金约28万元修缮各楼屋面防水",
            matter="maintenance_fund_use",
        )
        at = meeting.starts_at
        motion = services.motion_open_vote(actor=self.worker, motion=motion, now=at)
        self._paper_ballots(meeting, motion, at, share=0.78, yes_share=0.8)
        services.motion_close(actor=self.worker, motion=motion, now=at + dt.timedelta(days=14))
        self.count("motions")
        return self.finish(
            meeting,
            "书面征求意见期间共收回表决票若干份（含书面委托），经两名工作人员核对确认。"
            "参与表决的专有部分面积和人数均达到三分之二以上，同意票均过半数。",
        )

    def _paper_ballots(self, meeting, motion, at, *, share, yes_share) -> None:
        from linli.votes.services import ballot_confirm, ballot_record

        # Larger holdings (the developer's unsold units among them) answer first: the
        # participation by area must reach two-thirds too.
        invitations = sorted(
            meeting.invitations.order_by("position", "id"), key=lambda i: -(i.area or 0)
        )
        cut = int(len(invitations) * 0.6)
        rest = invitations[cut:]
        voters = invitations[:cut] + self.rng.sample(rest, int(len(rest) * (share - 0.6) / 0.4))
        for index, invitation in enumerate(voters):
            when = at + dt.timedelta(hours=2 + index)
            proxy = index % 9 == 4
            answer = "yes" if index == 0 or self.rng.random() < yes_share else "no"
            participation = ballot_record(
                actor=self.worker,
                vote=motion.vote,
                voter_key=invitation.key,
                choice=answer,
                channel="proxy" if proxy else "paper",
                proxy_name="业主家属（书面委托）" if proxy else "",
                provenance=f"表决票第{index + 1:04d}号" + ("，附委托书" if proxy else ""),
                now=when,
            )
            ballot_confirm(
                actor=self.director, participation=participation, now=when + dt.timedelta(hours=1)
            )
        self.count("paper_ballots", len(voters))

    def election(self) -> Meeting:
        meeting = self.meeting(
            kind=MeetingKind.RESIDENTS_MEETING,
            title="第十二届居民委员会换届选举大会",
            days_ago=30,
            mode="households",
            agenda=["选举居民委员会成员（5名）"],
            location="社区文化活动中心",
        )
        present = self.attend(meeting, 0.6)
        motion = services.motion_add(
            actor=self.worker,
            agenda_item=meeting.agenda.first(),
            text="选举第十二届居民委员会成员",
            kind=MotionKind.ELECTION,
            candidates=CANDIDATES,
            seats=5,
        )
        at = meeting.starts_at + dt.timedelta(minutes=30)
        motion = services.motion_open_vote(actor=self.worker, motion=motion, now=at)
        options = list(motion.vote.options.order_by("position"))
        weights = [0.92, 0.88, 0.8, 0.74, 0.66, 0.3, 0.22]
        choices = {}
        for invitation in present:
            picked = [o.pk for o, w in zip(options, weights, strict=True) if self.rng.random() < w]
            choices[invitation.pk] = picked[:5]
        services.motion_record_hands(
            actor=self.worker, motion=motion, choices=choices, now=at + dt.timedelta(minutes=40)
        )
        services.motion_close(actor=self.worker, motion=motion, now=at + dt.timedelta(hours=1))
        self.count("motions")
        return self.finish(meeting, "选举采用无记名投票，当场计票，当选名单已公告。")

    def participatory_budget(self) -> None:
        from linli.votes.services import ballot_confirm, ballot_record, vote_close, vote_create
        from linli.votes.services import vote_open as open_vote

        opened = _at(self.now, 20, 9)
        vote = vote_create(
            actor=self.worker,
            place=self.committee,
            kind="budget",
            title="2026年自治金项目居民投票",
            unit="household",
            budget=BUDGET,
            options=[{"label": label, "cost": Decimal(cost)} for label, cost in PROJECTS],
            description="每户可选择总额不超过5万元的项目组合。",
        )
        vote = open_vote(actor=self.worker, vote=vote, now=opened)
        options = list(vote.options.order_by("position"))
        entitled = list(vote.entitlements.order_by("id"))
        voters = self.rng.sample(entitled, len(entitled) * 2 // 5)
        for index, entitlement in enumerate(voters):
            order = options[:]
            self.rng.shuffle(order)
            chosen, total = [], Decimal(0)
            for option in order:
                if total + option.cost <= BUDGET and len(chosen) < 3:
                    chosen.append(option.pk)
                    total += option.cost
            when = opened + dt.timedelta(hours=index % 72)
            participation = ballot_record(
                actor=self.worker,
                vote=vote,
                voter_key=entitlement.key,
                choice=chosen,
                channel="paper",
                provenance=f"自治金投票单第{index + 1:04d}号",
                now=when,
            )
            ballot_confirm(actor=self.director, participation=participation, now=when)
        vote_close(actor=self.worker, vote=vote, now=opened + dt.timedelta(days=7))
        self.count("budget_ballots", len(voters))

    def open_poll(self) -> None:
        """A poll still open this week, so a resident signing in has something to vote on; a
        fifth of the households have answered on paper already."""
        from linli.votes.services import ballot_confirm, ballot_record, vote_create
        from linli.votes.services import vote_open as open_vote

        opened = self.now - dt.timedelta(days=2)
        vote = vote_create(
            actor=self.worker,
            place=self.committee,
            kind="poll",
            method="single",
            title="今年社区迎新春联欢会安排在哪一天？",
            unit="household",
            options=[{"label": label} for label in ("腊月廿三（小年）", "腊月廿六", "正月初八")],
            description="居委会将按多数意见安排场地和节目，每户选一项。",
            closes_at=self.now + dt.timedelta(days=5),
        )
        vote = open_vote(actor=self.worker, vote=vote, now=opened)
        options = list(vote.options.order_by("position"))
        home = self.users["resident"].assignments.get().place_id
        entitlements = vote.entitlements.select_related("household").order_by("id")
        entitled = [e for e in entitlements if e.household.place_id != home]
        for index, entitlement in enumerate(self.rng.sample(entitled, len(entitled) // 5)):
            when = opened + dt.timedelta(minutes=7 * index)
            participation = ballot_record(
                actor=self.worker,
                vote=vote,
                voter_key=entitlement.key,
                choice=self.rng.choices(options, weights=(5, 3, 2))[0].pk,
                channel="paper",
                provenance=f"征询单第{index + 1:04d}号",
                now=when,
            )
            ballot_confirm(actor=self.director, participation=participation, now=when)
        self.count("open_polls")

    def procedure(self, consultation: Meeting, resolution: Meeting) -> None:
        procedure = services.procedure_create(
            actor=self.worker,
            place=self.committee,
            title="小区停车管理规约制定",
            description="按“四议两公开”办理：党组织提议、两委商议、党员大会审议、居民代表会议决议。",
        )
        records = {
            1: ("居民区党总支会议提议制定停车管理规约。", None),
            2: ("居民区党总支、居委会联席会议商议，形成规约草案。", consultation),
            3: ("党员大会审议草案，到会党员超过三分之二，同意过半数。", None),
            4: ("", resolution),
            5: ("决议：通过小区停车管理规约，自公布之日起施行。", None),
            6: ("规约施行三个月，违停投诉下降六成，新增夜间临时车位20个。", None),
        }
        for step in procedure.steps.order_by("position"):
            text, meeting = records.get(step.position, ("已完成。", None))
            services.procedure_step_complete(
                actor=self.worker,
                procedure=procedure,
                position=step.position,
                record=text,
                meeting=meeting,
                now=self.now - dt.timedelta(days=110 - step.position * 12),
            )
        self.count("procedures")


@transaction.atomic
def populate_meetings(
    world: World, *, seed: int, users: dict, now: dt.datetime | None = None
) -> dict[str, int]:
    """Write the demo's meetings, votes, petitions and procedures (see the module docstring);
    returns counts of what was written."""
    run = _Run(world, users, seed, now or timezone.now())
    run.petition_and_residents_meeting()
    representatives = run.representatives_meeting()
    run.three_meetings()
    run.review_meeting()
    joint = run.joint_meeting()
    run.owners_assembly()
    run.election()
    run.participatory_budget()
    run.procedure(joint, representatives)
    run.open_poll()
    return run.counts
