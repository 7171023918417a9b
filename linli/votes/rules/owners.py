"""Owners' joint decisions: 民法典 art. 278 (in force 2021-01-01) and the Shanghai petition.

- Participation ("double two-thirds", OW-02): owners holding ≥ 2/3 of the total exclusive area
  AND ≥ 2/3 of the total headcount take part (voted_area, voted_heads).
- ``owners_ordinary`` (items 1–5 and 9, OW-04): yes > 1/2 of the *participating* area AND
  > 1/2 of the *participating* heads.
- ``owners_special`` (items 6–8, OW-03): yes ≥ 3/4 of the participating area AND heads.
- ``owners_petition`` (OW-SH-03, 上海市住宅物业管理规定 art. 25): ≥ 20% (1/5) of owners
  propose → the owners' committee must convene an extraordinary meeting.

Areas are decimal strings (不动产登记簿 area, else surveyed, else contract: 解释 art. 8);
heads follow 解释 art. 9 (one owner with several units = 1 head; the developer's unsold units
together = 1 head) — counting them is the caller's job (votes.selectors.electorate).

`owners_rule_for(matter)` maps art. 278(1)'s items to the rule: *using* the maintenance fund
(item 5) is ordinary; *raising* it (6), altering or rebuilding (7) and changing the use of
common parts or running a business on them (8) are special (RULES.md §0 item 3). Disposal of
common parts is item 9 "other major matters" per the SPC interpretation art. 7: ordinary.
"""

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from linli.votes.rules.facts import all_ok, area, check_keys, count, not_above, share_step
from linli.votes.rules.thresholds import show

OWNERS_KEYS = ("total_area", "total_heads", "voted_area", "voted_heads", "yes_area", "yes_heads")
ORDINARY = "owners_ordinary"
SPECIAL = "owners_special"
UNKNOWN_MATTER = "unknown owners' matter {matter!r}; known: {known}"
AREA_WITHOUT_HEADS = "{area} must be 0 when {heads} is 0"
TOTAL_AREA_ZERO = "fact 'total_area' must be positive"

Outcome = dict[str, object]


class OwnersMatter(StrEnum):
    """The matters of 民法典 art. 278(1), plus the SPC's disposal of common parts."""

    RULES_OF_PROCEDURE = "rules_of_procedure"  # (一)
    MANAGEMENT_STATUTE = "management_statute"  # (二)
    OWNERS_COMMITTEE = "owners_committee"  # (三)
    PROPERTY_MANAGER = "property_manager"  # (四)
    FUND_USE = "maintenance_fund_use"  # (五)
    FUND_RAISE = "maintenance_fund_raise"  # (六)
    ALTER_REBUILD = "alter_or_rebuild"  # (七)
    COMMON_PARTS_USE = "common_parts_use_or_business"  # (八)
    OTHER_MAJOR = "other_major_matter"  # (九)
    COMMON_PARTS_DISPOSAL = "common_parts_disposal"  # 解释 art. 7 → (九)


# (matter, Chinese label as in the statute, art. 278(1) item, rule id)
OWNERS_MATTERS: tuple[tuple[OwnersMatter, str, int, str], ...] = (
    (OwnersMatter.RULES_OF_PROCEDURE, "制定和修改业主大会议事规则", 1, ORDINARY),
    (OwnersMatter.MANAGEMENT_STATUTE, "制定和修改管理规约", 2, ORDINARY),
    (OwnersMatter.OWNERS_COMMITTEE, "选举业主委员会或者更换业主委员会成员", 3, ORDINARY),
    (OwnersMatter.PROPERTY_MANAGER, "选聘和解聘物业服务企业或者其他管理人", 4, ORDINARY),
    (OwnersMatter.FUND_USE, "使用建筑物及其附属设施的维修资金", 5, ORDINARY),
    (OwnersMatter.FUND_RAISE, "筹集建筑物及其附属设施的维修资金", 6, SPECIAL),
    (OwnersMatter.ALTER_REBUILD, "改建、重建建筑物及其附属设施", 7, SPECIAL),
    (
        OwnersMatter.COMMON_PARTS_USE,
        "改变共有部分的用途或者利用共有部分从事经营活动",
        8,
        SPECIAL,
    ),
    (OwnersMatter.OTHER_MAJOR, "有关共有和共同管理权利的其他重大事项", 9, ORDINARY),
    (OwnersMatter.COMMON_PARTS_DISPOSAL, "处分共有部分", 9, ORDINARY),
)
OWNERS_MATTER_LABELS: Mapping[str, str] = {
    matter.value: label for matter, label, *_ in OWNERS_MATTERS
}
_RULE_OF_MATTER = {matter.value: rule_id for matter, _label, _item, rule_id in OWNERS_MATTERS}


def owners_rule_for(matter: str) -> str:
    """``owners_ordinary`` or ``owners_special`` for a matter code (see OwnersMatter)."""
    if not isinstance(matter, str) or matter not in _RULE_OF_MATTER:
        raise ValueError(UNKNOWN_MATTER.format(matter=matter, known=", ".join(_RULE_OF_MATTER)))
    return _RULE_OF_MATTER[matter]


def _owners_facts(facts: object) -> dict[str, Decimal | int]:
    facts = check_keys(facts, OWNERS_KEYS)
    values: dict[str, Decimal | int] = {
        "total_area": area(facts, "total_area"),
        "voted_area": area(facts, "voted_area"),
        "yes_area": area(facts, "yes_area"),
        "total_heads": count(facts, "total_heads", minimum=1),
        "voted_heads": count(facts, "voted_heads"),
        "yes_heads": count(facts, "yes_heads"),
    }
    for kind in ("area", "heads"):
        total, voted, yes = (f"total_{kind}", f"voted_{kind}", f"yes_{kind}")
        not_above(values[voted], voted, values[total], total)
        not_above(values[yes], yes, values[voted], voted)
    if values["total_area"] == 0:
        raise ValueError(TOTAL_AREA_ZERO)
    for stage in ("voted", "yes"):
        if values[f"{stage}_heads"] == 0 and values[f"{stage}_area"] != 0:
            raise ValueError(
                AREA_WITHOUT_HEADS.format(area=f"{stage}_area", heads=f"{stage}_heads")
            )
    return values


def _owners(facts: object, params: Mapping[str, Fraction], *, strict: bool) -> Outcome:
    v = _owners_facts(facts)
    part, maj = params["participation"], params["majority"]
    steps = [
        share_step("area_participation", v["voted_area"], v["total_area"], part, strict=False),
        share_step("head_participation", v["voted_heads"], v["total_heads"], part, strict=False),
        share_step("area_majority", v["yes_area"], v["voted_area"], maj, strict=strict),
        share_step("head_majority", v["yes_heads"], v["voted_heads"], maj, strict=strict),
    ]
    quorate = all_ok(steps, "area_participation", "head_participation")
    passed = quorate and all_ok(steps, "area_majority", "head_majority")
    shown = {key: show(value) for key, value in v.items()}
    return {"quorate": quorate, "passed": passed, "steps": steps, "counted": shown}


def owners_ordinary(facts: object, params: Mapping[str, Fraction]) -> Outcome:
    return _owners(facts, params, strict=True)


def owners_special(facts: object, params: Mapping[str, Fraction]) -> Outcome:
    return _owners(facts, params, strict=False)


def owners_petition(facts: object, params: Mapping[str, Fraction]) -> Outcome:
    facts = check_keys(facts, ("total_heads", "petitioners"))
    total = count(facts, "total_heads", minimum=1)
    petitioners = count(facts, "petitioners")
    not_above(petitioners, "petitioners", total, "total_heads")
    step = share_step("petition", petitioners, total, params["petition"], strict=False)
    return {"quorate": True, "passed": step["ok"], "steps": [step]}
