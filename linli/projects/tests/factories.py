"""Fund-project helpers for tests: a funded committee and a project walked to any state."""

import datetime as dt
import itertools
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from linli.deliberation import services as deliberation
from linli.deliberation.choices import TopicCategory
from linli.funds.models import FundProfile
from linli.funds.services import allocation_post
from linli.projects import services
from linli.projects.choices import ProjectState as S
from linli.projects.choices import Stage
from linli.projects.models import Project

INVOICE_NUMBERS = itertools.count(31001234)
LINES = [
    {"category": "materials", "item": "太阳能楼道灯 40 盏", "amount": "8000.00"},
    {"category": "services", "item": "电工安装服务", "amount": "2000.00"},
]
GOOD = {"need": 20, "feasibility": 20, "budget": 15, "benefit": 15, "sustainability": 8}  # 78
EVAL = {"goals": 25, "money": 20, "residents": 20, "lasting": 15}


def profile(world, **fields) -> FundProfile:
    year = timezone.localdate().year
    row, _created = FundProfile.objects.update_or_create(
        street=world.street, year=year, defaults=fields
    )
    return row


def funded(world, total="100000.00"):
    """The first committee's working funds allocated for this year."""
    return allocation_post(actor=None, place=world.committees[0], total=total)


def a_topic(world, users):
    return deliberation.topic_raise(
        actor=users["resident"],
        committee=world.committees[0],
        title="楼道灯太暗，老人晚上下楼不安全",
        body="希望居委会用自治金换成声控太阳能灯。",
        category=TopicCategory.FACILITIES,
    )


def invoice(name="发票.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 invoice", content_type="application/pdf")


def a_project(world, users, *, lines=None, topic=None, **fields) -> Project:
    values = {
        "title": "楼道灯改造",
        "plan": "更换 3 号楼至 8 号楼楼道灯，居民志愿者协助排查。",
        "beneficiaries": "3–8 号楼住户，其中 60 岁以上老人约 80 人",
        "beneficiary_count": 240,
        "starts_on": dt.date(2026, 12, 10),
        "ends_on": dt.date(2026, 12, 31),
        **fields,
    }
    return services.project_create(
        actor=users["worker"],
        place=world.committees[0],
        lines=lines if lines is not None else LINES,
        topic=topic if topic is not None else a_topic(world, users),
        **values,
    )


def review_all(project, users, stage=Stage.REVIEW, scores=None):
    for key in ("reviewer", "reviewer2", "reviewer3"):
        services.review_submit(
            actor=users[key],
            project=project,
            stage=stage,
            scores=scores or (GOOD if stage == Stage.REVIEW else EVAL),
            opinion="方案可行",
        )


def walk(project, users, to: str, *, world=None):
    """Take a project along the path to state `to`; the notice window is treated as over by
    moving the notice's window back (the only shortcut: tests cannot wait seven days)."""
    from linli.notices.models import Notice

    order = [
        S.SUBMITTED,
        S.CHECKED,
        S.REVIEWED,
        S.PUBLICISED,
        S.APPROVED,
        S.COMPLETED,
        S.ACCEPTED,
        S.EVALUATED,
        S.CLOSED,
    ]
    start = order.index(project.state) + 1 if project.state in order else 0
    for state in order[start : order.index(to) + 1]:
        if state == S.SUBMITTED:
            project = services.project_submit(actor=users["worker"], project=project)
        elif state == S.CHECKED:
            project = services.project_check(
                actor=users["director"], project=project, decision="pass"
            )
        elif state == S.REVIEWED:
            review_all(project, users)
            project = services.project_review_decide(
                actor=users["selfgov"], project=project, decision="pass"
            )
        elif state == S.PUBLICISED:
            project = services.project_publicise(actor=users["selfgov"], project=project)
        elif state == S.APPROVED:
            past = timezone.now() - dt.timedelta(minutes=1)
            Notice.objects.filter(pk=project.notice_id).update(
                published_at=past - dt.timedelta(days=8), window_until=past
            )
            project.refresh_from_db()
            project = services.project_approve(actor=users["selfgov"], project=project)
        elif state == S.COMPLETED:
            project = services.project_complete(
                actor=users["worker"], project=project, report="40 盏灯已安装完毕，居民验收满意。"
            )
        elif state == S.ACCEPTED:
            project = services.project_accept(
                actor=users["selfgov"], project=project, passed=True, note="现场验收合格"
            )
        elif state == S.EVALUATED:
            review_all(project, users, Stage.EVALUATION)
            project = services.project_evaluate(actor=users["selfgov"], project=project)
        elif state == S.CLOSED:
            project = services.project_close(
                actor=users["selfgov"], project=project, outcome="楼道灯全部更换，夜间照明改善。"
            )
    return project


def pay(project, users, amount="1000.00", *, line=None, memo="灯具首批", approve=True):
    line = line or project.lines.order_by("position").first()
    payment = services.payment_request(
        actor=users["worker"],
        project=project,
        line=line,
        amount=amount,
        payee="上海某某照明器材有限公司",
        memo=memo,
        invoice=invoice(),
        invoice_number=f"No.{next(INVOICE_NUMBERS)}",
    )
    if approve:
        payment = services.payment_approve(actor=users["director"], payment=payment)
    return payment


def money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))
