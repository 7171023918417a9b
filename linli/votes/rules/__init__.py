"""Vote arithmetic: the legal heart of the vote engine (pure Python, no ORM, no settings).

``evaluate(rule_id, facts, on, *, overrides=None)`` decides a vote under the rule version in
force on the day ``on`` and returns the answer with its basis and the arithmetic (``steps``).
Meetings' live quorum, votes' results pages and the API all call it, so they never disagree.

Threshold words (RULES.md §0.1), all computed on exact fractions by cross-multiplying:

- 以上 / 以下 / 以内 / 届满 include the number itself: ``at_least`` (≥). 民法典 art. 1259.
- 不满 / 超过 / 以外 exclude it; 过半数 ("more than half") is read as 超过半数: ``more_than``
  (>), so exactly half fails. Two-thirds 以上 of 9 is 6; 过半数 of 100 is 51.
- Counts are ints; areas and money are decimal strings converted through ``Decimal`` to
  ``Fraction``; floats are refused.

Where each number comes from (``verified`` uses RULES.md's legend):

====================================  ===============================================  ==========
rule id                               numbers and source                               status
====================================  ===============================================  ==========
residents_meeting                     quorum > 1/2 of the mode's base; passed > 1/2    PRIMARY
                                      of those present. 城市居民委员会组织法 art. 9(3)    (2018)
residents_meeting_petition            ≥ 1/5 adults or households, ≥ 1/3 of groups.     PRIMARY
                                      Same law art. 10(2)                              (2018)
representatives_meeting               quorum ≥ 2/3 of members, passed > 1/2 present.   UNVERIFIED
                                      村民委员会组织法 art. 26(2) as analogue (PR-05)
consultative_meeting                  no quorum, passed > 1/2 of those present         POLICY
owners_ordinary / owners_special      ≥ 2/3 area and heads take part; > 1/2 (ordinary) PRIMARY
                                      or ≥ 3/4 (special) of participating area and
                                      heads. 民法典 art. 278(2), from 2021-01-01
owners_petition                       ≥ 20% of owners. 上海市住宅物业管理规定 art. 25     PRIMARY
committee_election                    5–9 seats (art. 7, PRIMARY); turnout > 1/2,      UNVERIFIED
                                      winner > 1/2 of ballots, run-off ≥ 1/3:
                                      村民委员会组织法 art. 15(2) as analogue
participatory_budget, poll_*          project policy                                   POLICY
====================================  ===============================================  ==========

Versions: the 2018 residents' committee law (profile ``rc_law_2018``) applies from 2018-12-29
to 2025-12-31. Its 2025 revision (``rc_law_2025``) is in force from 2026-01-01; its chapter 4
was not read, so the 2018 numbers are kept and marked UNVERIFIED, and communities may override
them. Owners' rules start with the 民法典 on 2021-01-01; earlier dates raise "no rule in force"
(物权法 art. 76 is not in shared/laws, so its numbers are not assumed).
"""

from linli.votes.rules.budget import (
    OVER_BUDGET,
    TOO_FEW,
    TOO_MANY,
    UNDER_MIN_SHARE,
    budget_ballot_check,
    participatory_budget,
)
from linli.votes.rules.engine import EVALUATORS, evaluate
from linli.votes.rules.owners import (
    OWNERS_MATTER_LABELS,
    OWNERS_MATTERS,
    OwnersMatter,
    owners_rule_for,
)
from linli.votes.rules.polls import poll_multiple, poll_ranking, poll_score, poll_single
from linli.votes.rules.registry import (
    REGISTRY,
    RULE_IDS,
    Basis,
    Rule,
    Verified,
    apply_overrides,
    rule_for,
    rules_in_force,
)
from linli.votes.rules.thresholds import at_least, more_than, parse_decimal, to_fraction

__all__ = [
    "EVALUATORS",
    "OVER_BUDGET",
    "OWNERS_MATTERS",
    "OWNERS_MATTER_LABELS",
    "REGISTRY",
    "RULE_IDS",
    "TOO_FEW",
    "TOO_MANY",
    "UNDER_MIN_SHARE",
    "Basis",
    "OwnersMatter",
    "Rule",
    "Verified",
    "apply_overrides",
    "at_least",
    "budget_ballot_check",
    "evaluate",
    "more_than",
    "owners_rule_for",
    "parse_decimal",
    "participatory_budget",
    "poll_multiple",
    "poll_ranking",
    "poll_score",
    "poll_single",
    "rule_for",
    "rules_in_force",
    "to_fraction",
]
