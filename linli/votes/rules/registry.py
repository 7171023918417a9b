"""The versioned rule registry: every number with its legal basis, dates and source status.

A rule id (``residents_meeting``, ``owners_special`` …) has one or more versions, each in a
*profile* (``rc_law_2018``, ``rc_law_2025``, ``civil_code_2021``, ``sh_property_2020``,
``policy``) with ``effective_from``/``effective_to`` dates (both inclusive; ``None`` = open).
`rule_for` picks the version in force on a date. ``verified`` uses RULES.md's legend; only
UNVERIFIED and POLICY rules accept ``overrides`` (a community's configured numbers), and even
then not for parameters listed in ``fixed`` (numbers read in a primary text).
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType

from linli.votes.rules.thresholds import parse_fraction


class Verified(StrEnum):
    """Source status, as in RULES.md's verification legend."""

    PRIMARY = "PRIMARY"  # article read in full from a copy of the official text
    OFFICIAL_WEB = "OFFICIAL_WEB"  # read on a government website (excerpt)
    SECONDARY = "SECONDARY"  # news or third-party pages
    UNVERIFIED = "UNVERIFIED"  # assumption: configurable
    POLICY = "POLICY"  # engineering default or common practice, not law


OVERRIDABLE = frozenset({Verified.UNVERIFIED, Verified.POLICY})
INTEGER_PARAMS = frozenset({"seats_min", "seats_max"})

# Profiles.
RC_2018 = "rc_law_2018"
RC_2025 = "rc_law_2025"
CIVIL_CODE = "civil_code_2021"
SH_PROPERTY = "sh_property_2020"
POLICY = "policy"

RC_2018_FROM = dt.date(2018, 12, 29)  # amendment decision date (changed only art. 8)
RC_2018_TO = dt.date(2025, 12, 31)
RC_2025_FROM = dt.date(2026, 1, 1)  # revision of 2025-10-28, in force 2026-01-01 (RULES §0.1)
CIVIL_CODE_FROM = dt.date(2021, 1, 1)  # 民法典 art. 1260

RC_LAW = "城市居民委员会组织法"
VILLAGE_LAW = "村民委员会组织法"
CIVIL_CODE_LAW = "民法典"
SH_PROPERTY_LAW = "上海市住宅物业管理规定"
SH_RC_REGULATION = "上海市居民委员会工作条例"

NO_RULE_IN_FORCE = "no rule in force for {rule_id!r} on {on}"
UNKNOWN_RULE = "unknown rule id {rule_id!r}; known ids: {known}"
NOT_A_DATE = "on must be a datetime.date (not a datetime or {type}), the day the vote was held"
OVERRIDES_REFUSED = (
    "rule {rule_id!r} ({profile}) is {verified}: its numbers come from the law and cannot be "
    "overridden; overrides apply only to UNVERIFIED or POLICY rules"
)
OVERRIDES_NOT_DICT = "overrides must be a dict of parameter name -> fraction string like '2/3'"
UNKNOWN_PARAM = "rule {rule_id!r} has no parameter {name!r}; parameters: {known}"
FIXED_PARAM = "parameter {name!r} of rule {rule_id!r} comes from a primary text and is fixed"
FRACTION_RANGE = "override {name!r} must be a fraction between 0 and 1, got {value}"
INTEGER_RANGE = "override {name!r} must be a whole number of at least 1, got {value}"
SEATS_ORDER = "seats_min must not exceed seats_max"
UNREAD_2025 = (
    "The 2025 revision's text was not read (RULES.md §0.1); re-verify before relying on it."
)


@dataclass(frozen=True)
class Basis:
    """Where a rule's numbers come from: law (Chinese title), article ('art. 9(3)'), version,
    and the citation as it is printed for residents (Chinese, as a notice cites a law)."""

    law: str
    article: str
    version: str
    citation: str

    def __str__(self) -> str:
        return f"{self.law}, {self.article}, {self.version}"


@dataclass(frozen=True)
class Rule:
    """One version of a rule: its basis, dates, status and parameters (exact fractions)."""

    rule_id: str
    profile: str
    basis: Basis
    verified: Verified
    effective_from: dt.date | None
    effective_to: dt.date | None
    params: Mapping[str, Fraction]
    refs: tuple[str, ...] = ()
    fixed: frozenset[str] = field(default_factory=frozenset)
    note: str = ""

    def in_force(self, on: dt.date) -> bool:
        starts = self.effective_from is None or self.effective_from <= on
        return starts and (self.effective_to is None or on <= self.effective_to)


_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1..999 in Chinese numerals as laws number their articles: 9 九, 15 十五, 278 二百七十八."""
    if not 0 < n < 1000:
        raise ValueError(f"article number out of range: {n}")
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    text = ""
    if hundreds:
        text += _DIGITS[hundreds] + "百"
    if tens:
        text += ("" if tens == 1 and not hundreds else _DIGITS[tens]) + "十"
    elif hundreds and units:
        text += "零"
    if units:
        text += _DIGITS[units]
    return text


def cn_article(article: str) -> str:
    """'9(3)' → 第九条第三款; '278' → 第二百七十八条."""
    number, _, paragraph = article.partition("(")
    text = f"第{cn_number(int(number))}条"
    if paragraph:
        text += f"第{cn_number(int(paragraph.rstrip(')')))}款"
    return text


def _params(**values: str) -> Mapping[str, Fraction]:
    return MappingProxyType({name: Fraction(value) for name, value in values.items()})


def _rc_pair(
    rule_id: str, article: str, refs: tuple[str, ...], params: Mapping[str, Fraction]
) -> tuple[Rule, Rule]:
    """The 2018 law's rule (PRIMARY) and the 2025 revision's (same numbers, UNVERIFIED)."""
    old = Rule(
        rule_id,
        RC_2018,
        Basis(
            RC_LAW,
            f"art. {article}",
            "2018-12-29",
            f"《{RC_LAW}》{cn_article(article)}（2018年修正）",
        ),
        Verified.PRIMARY,
        RC_2018_FROM,
        RC_2018_TO,
        params,
        refs,
    )
    new = Rule(
        rule_id,
        RC_2025,
        Basis(
            RC_LAW,
            f"ch. 4, articles not read (2018 art. {article} numbers kept)",
            "2025-10-28",
            f"《{RC_LAW}》（2025年修订，条文待核实；暂沿用2018年修正文本{cn_article(article)}）",
        ),
        Verified.UNVERIFIED,
        RC_2025_FROM,
        None,
        params,
        refs,
        note=UNREAD_2025,
    )
    return old, new


def _representatives() -> tuple[Rule, Rule]:
    params = _params(quorum="2/3", majority="1/2")
    basis = Basis(
        VILLAGE_LAW,
        "art. 26(2), as analogue for the 居民代表会议",
        "2018-12-29",
        f"参照《{VILLAGE_LAW}》{cn_article('26(2)')}（居民代表会议无全国性规定）",
    )
    note = (
        "The 2018 residents' committee law has no 居民代表会议; RULES.md PR-05/SH-19 use the "
        "village committee law as the default template."
    )
    refs = ("PR-05", "SH-19")
    old = Rule(
        rule_id="representatives_meeting",
        profile=RC_2018,
        basis=basis,
        verified=Verified.UNVERIFIED,
        effective_from=RC_2018_FROM,
        effective_to=RC_2018_TO,
        params=params,
        refs=refs,
        note=note,
    )
    new = Rule(
        rule_id="representatives_meeting",
        profile=RC_2025,
        basis=Basis(
            RC_LAW,
            "ch. 4, articles not read (村民委员会组织法 art. 26(2) analogue kept)",
            "2025-10-28",
            f"《{RC_LAW}》（2025年修订，条文待核实；暂参照《{VILLAGE_LAW}》{cn_article('26(2)')}）",
        ),
        verified=Verified.UNVERIFIED,
        effective_from=RC_2025_FROM,
        effective_to=None,
        params=params,
        refs=refs,
        note=UNREAD_2025 + " " + note,
    )
    return old, new


def _elections() -> tuple[Rule, Rule]:
    params = _params(turnout="1/2", elect="1/2", runoff_elect="1/3", seats_min="5", seats_max="9")
    note = (
        "Seats 5-9: 城市居民委员会组织法 art. 7 (PRIMARY). Turnout (more than half of voters "
        "cast ballots), election (more than half of ballots cast) and run-off (most votes, at "
        "least 1/3 of ballots cast): 村民委员会组织法 art. 15(2), used as an analogue because "
        "neither the 2018 law nor the stored Shanghai texts state them."
    )
    refs = ("RC-07", "RC-08", "RC-10")
    old = Rule(
        rule_id="committee_election",
        profile=RC_2018,
        basis=Basis(
            RC_LAW,
            "art. 7, 8 (turnout and majority: 村民委员会组织法 art. 15(2) analogue)",
            "2018-12-29",
            f"《{RC_LAW}》第七条、第八条（2018年修正）；参照《{VILLAGE_LAW}》{cn_article('15(2)')}",
        ),
        verified=Verified.UNVERIFIED,
        effective_from=RC_2018_FROM,
        effective_to=RC_2018_TO,
        params=params,
        refs=refs,
        fixed=frozenset({"seats_min", "seats_max"}),
        note=note,
    )
    new = Rule(
        rule_id="committee_election",
        profile=RC_2025,
        basis=Basis(
            RC_LAW,
            "articles not read (2018 art. 7 and 村民委员会组织法 art. 15(2) kept)",
            "2025-10-28",
            f"《{RC_LAW}》（2025年修订，条文待核实；暂沿用2018年修正文本第七条，"
            f"参照《{VILLAGE_LAW}》{cn_article('15(2)')}）",
        ),
        verified=Verified.UNVERIFIED,
        effective_from=RC_2025_FROM,
        effective_to=None,
        params=params,
        refs=refs,
        note=UNREAD_2025 + " " + note,
    )
    return old, new


def _owners(rule_id: str, majority: str, refs: tuple[str, ...]) -> Rule:
    return Rule(
        rule_id,
        CIVIL_CODE,
        Basis(
            CIVIL_CODE_LAW,
            "art. 278(2)",
            "2021-01-01",
            f"《{CIVIL_CODE_LAW}》{cn_article('278(2)')}",
        ),
        Verified.PRIMARY,
        CIVIL_CODE_FROM,
        None,
        _params(participation="2/3", majority=majority),
        refs,
        note="Same numbers in 上海市住宅物业管理规定 art. 18 (2020-12-30).",
    )


def _policy(rule_id: str, basis: Basis, note: str, **params: str) -> Rule:
    return Rule(rule_id, POLICY, basis, Verified.POLICY, None, None, _params(**params), note=note)


def _build() -> dict[str, tuple[Rule, ...]]:
    policy = Basis(
        "project policy", "no legal number", "RULES.md POLICY", "平台默认规则（法律未规定具体数字）"
    )
    rules: list[Rule] = [
        *_rc_pair(
            "residents_meeting", "9(3)", ("RC-03", "RC-04"), _params(quorum="1/2", majority="1/2")
        ),
        *_rc_pair(
            "residents_meeting_petition",
            "10(2)",
            ("RC-05",),
            _params(adults="1/5", households="1/5", groups="1/3"),
        ),
        *_representatives(),
        *_elections(),
        _owners("owners_ordinary", "1/2", ("OW-02", "OW-04", "OW-SH-01")),
        _owners("owners_special", "3/4", ("OW-02", "OW-03", "OW-SH-01")),
        Rule(
            "owners_petition",
            SH_PROPERTY,
            Basis(
                SH_PROPERTY_LAW, "art. 25", "2020-12-30", f"《{SH_PROPERTY_LAW}》{cn_article('25')}"
            ),
            Verified.PRIMARY,
            CIVIL_CODE_FROM,
            None,
            _params(petition="1/5"),
            ("OW-SH-03",),
            note="Starts with the owners' regime of this registry (民法典, 2021-01-01).",
        ),
        _policy(
            "consultative_meeting",
            Basis(
                SH_RC_REGULATION,
                "art. 16 (三会; the text sets no number)",
                "2020-05-14",
                f"《{SH_RC_REGULATION}》{cn_article('16')}（未规定人数，按平台默认规则）",
            ),
            "No quorum and a simple majority of those present: project default for 听证会, "
            "协调会, 评议会 and joint meetings; a positive quorum needs `entitled`.",
            quorum="0",
            majority="1/2",
        ),
        _policy(
            "participatory_budget",
            policy,
            "Greedy by votes until the money runs out (RULES.md §4 has no numbers).",
        ),
        _policy("poll_single", policy, "Plurality; ties kept."),
        _policy("poll_multiple", policy, "Approval count; ties kept."),
        _policy("poll_ranking", policy, "Borda count; unranked options score 0."),
        _policy("poll_score", policy, "Highest sum of scores; ties kept."),
    ]
    registry: dict[str, list[Rule]] = {}
    for rule in rules:
        registry.setdefault(rule.rule_id, []).append(rule)
    return {rule_id: tuple(versions) for rule_id, versions in registry.items()}


REGISTRY: Mapping[str, tuple[Rule, ...]] = MappingProxyType(_build())
RULE_IDS: tuple[str, ...] = tuple(REGISTRY)


def check_date(on: object) -> dt.date:
    """A plain date; datetimes are refused (a meeting is held on a day, not at an instant)."""
    if not isinstance(on, dt.date) or isinstance(on, dt.datetime):
        raise ValueError(NOT_A_DATE.format(type=type(on).__name__))
    return on


def rule_for(rule_id: object, on: object) -> Rule:
    """The version of `rule_id` in force on `on`; ValueError if unknown or none in force."""
    if not isinstance(rule_id, str) or rule_id not in REGISTRY:
        raise ValueError(UNKNOWN_RULE.format(rule_id=rule_id, known=", ".join(RULE_IDS)))
    day = check_date(on)
    for rule in REGISTRY[rule_id]:
        if rule.in_force(day):
            return rule
    raise ValueError(NO_RULE_IN_FORCE.format(rule_id=rule_id, on=day.isoformat()))


def rules_in_force(on: object) -> list[Rule]:
    """Every rule version in force on `on` (for admin pages showing the source status)."""
    day = check_date(on)
    return [rule for versions in REGISTRY.values() for rule in versions if rule.in_force(day)]


def apply_overrides(rule: Rule, overrides: object) -> dict[str, Fraction]:
    """The rule's parameters with a community's overrides applied (UNVERIFIED/POLICY only)."""
    params = dict(rule.params)
    if overrides is None:
        return params
    if not isinstance(overrides, Mapping):
        raise ValueError(OVERRIDES_NOT_DICT)
    if not overrides:
        return params
    if rule.verified not in OVERRIDABLE:
        raise ValueError(
            OVERRIDES_REFUSED.format(
                rule_id=rule.rule_id, profile=rule.profile, verified=rule.verified.value
            )
        )
    for name, value in overrides.items():
        params[name] = _override_value(rule, name, value)
    if "seats_min" in params and params["seats_min"] > params["seats_max"]:
        raise ValueError(SEATS_ORDER)
    return params


def _override_value(rule: Rule, name: object, value: object) -> Fraction:
    if name not in rule.params:
        known = ", ".join(rule.params) or "none"
        raise ValueError(UNKNOWN_PARAM.format(rule_id=rule.rule_id, name=name, known=known))
    if name in rule.fixed:
        raise ValueError(FIXED_PARAM.format(rule_id=rule.rule_id, name=name))
    number = parse_fraction(value, f"override {name!r}")
    if name in INTEGER_PARAMS:
        if number.denominator != 1 or number < 1:
            raise ValueError(INTEGER_RANGE.format(name=name, value=value))
    elif not 0 <= number <= 1:
        raise ValueError(FRACTION_RANGE.format(name=name, value=value))
    return number
