"""Demo notices: a few current notices on every committee's board, through the services (so
they are audited and screened like real ones), one objection answered, one notice withdrawn.

Call after the accounts exist: `populate_notices(world, users)`. Notices of meetings and votes
come from those apps' own demo data; these are the committee's routine disclosures (居务公开).
"""

from django.db import transaction

from linli.demo.builder import World
from linli.notices.choices import NoticeKind
from linli.notices.services import (
    notice_publish,
    notice_withdraw,
    notify,
    objection_answer,
    objection_file,
)

ROUTINE = [
    (
        NoticeKind.ACCOUNTS,
        "{name}第一季度工作经费收支公示",
        "一、上季度结余：3,260.00 元。\n二、本季度收入：街道拨付办公经费 15,000.00 元。\n"
        "三、本季度支出：办公用品 1,180.00 元；活动室水电 2,430.50 元；"
        "居民活动物料 3,615.00 元。\n四、本季度结余：11,034.50 元。\n\n"
        "明细账目可在居委会办公室查阅。",
        7,
    ),
    (
        NoticeKind.BUDGET,
        "{name}2026年自治金项目预算公示",
        "经居民区“三会”讨论，拟申报以下自治项目：\n"
        "1. 楼道微更新（加装扶手、照明），预算 28,000 元；\n"
        "2. 为老助餐点志愿服务，预算 12,000 元；\n"
        "3. 非机动车棚充电设施改造，预算 35,000 元。\n\n合计 75,000 元。",
        10,
    ),
    (
        NoticeKind.PROCEDURE,
        "关于启动加装电梯意见征询的公告",
        "根据居民提议，经居委会与党支部联席会议商议，拟对本居民区多层住宅加装电梯事项"
        "开展书面意见征询。征询期间，工作人员将逐户上门，请居民配合。",
        15,
    ),
]


@transaction.atomic
def populate_notices(world: World, users: dict | None = None) -> dict[str, int]:
    counts = {"notices": 0, "objections": 0, "withdrawn": 0}
    first = None
    for committee in world.committees:
        short = committee.name.removesuffix("居民委员会")
        for kind, title, body, days in ROUTINE:
            notice = notice_publish(
                actor=None,
                place=committee,
                kind=kind,
                title=title.format(name=f"{short}居委会"),
                body=body,
                window_days=days,
                source="demo",
            )
            counts["notices"] += 1
            if first is None and kind == NoticeKind.BUDGET:
                first = notice
    wrong = notice_publish(
        actor=None,
        place=world.committees[0],
        kind=NoticeKind.OTHER,
        title="关于暂停活动室开放的通知",
        body="因设备检修，活动室暂停开放一周。",
        window_days=3,
        source="demo",
    )
    notice_withdraw(actor=None, notice=wrong, reason="检修时间调整，另行通知。")
    counts["withdrawn"] += 1
    users = users or {}
    if first is not None and "resident" in users and "worker" in users:
        objection = objection_file(
            actor=users["resident"],
            notice=first,
            text="非机动车棚充电设施改造的预算偏高，建议多比较几家报价。",
        )
        objection_answer(
            actor=users["worker"],
            objection=objection,
            answer="感谢意见。居委会将邀请三家单位报价，比选结果将另行公示。",
        )
        counts["objections"] += 1
        notify(
            users=[users["resident"]],
            kind="notice",
            title=f"新公示：{first.title}",
            url=f"/board/notice/{first.pk}/",
        )
    return counts
