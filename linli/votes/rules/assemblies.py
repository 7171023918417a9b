"""Residents' meeting, its petition, representatives' meeting, consultative meetings.

- ``residents_meeting`` (RC-03, RC-04; 城市居民委员会组织法 art. 9(3)): quorate when
  present > 1/2 of the base of the chosen mode (adults 18+, households, or the group-elected
  representatives); passed when quorate and yes > 1/2 of *those present* — abstentions and
  present non-voters count in the denominator.
- ``residents_meeting_petition`` (RC-05; art. 10(2)): must convene when ≥ 1/5 of adults or of
  households, or ≥ 1/3 of the 居民小组, propose it. In mode ``group_reps``, ``entitled`` and
  ``petitioners`` count 居民小组 (groups), not people.
- ``representatives_meeting`` (PR-05 analogue, UNVERIFIED): quorate when present ≥ 2/3 of the
  members, passed when yes > 1/2 of those present.
- ``consultative_meeting`` (听证会, 协调会, 评议会, joint meetings; POLICY): no quorum unless a
  ``quorum`` override is set (then present ≥ quorum × entitled), passed when yes > 1/2 of those
  present.
"""

from collections.abc import Mapping
from fractions import Fraction

from linli.votes.rules.facts import (
    Step,
    all_ok,
    check_keys,
    choice,
    count,
    not_above,
    share_step,
)

MODES = ("adults", "households", "group_reps")
MOTION_KEYS = ("present", "yes", "no", "abstain")
QUORUM_NEEDS_ENTITLED = "fact 'entitled' is required when a quorum is set"

Outcome = dict[str, object]


def _motion(facts: Mapping[str, object], entitled: int | None) -> tuple[int, int]:
    """Validated (present, yes); yes + no + abstain ≤ present ≤ entitled."""
    present, yes = count(facts, "present"), count(facts, "yes")
    no, abstain = count(facts, "no"), count(facts, "abstain")
    if entitled is not None:
        not_above(present, "present", entitled, "entitled")
    not_above(yes + no + abstain, "yes + no + abstain", present, "present")
    return present, yes


def _decision(quorum: Step | None, present: int, yes: int, majority: Fraction) -> Outcome:
    steps = [quorum] if quorum else []
    steps.append(share_step("majority", yes, present, majority, strict=True))
    quorate = quorum is None or quorum["ok"]
    return {"quorate": quorate, "passed": quorate and all_ok(steps, "majority"), "steps": steps}


def residents_meeting(facts: object, params: Mapping[str, Fraction]) -> Outcome:
    facts = check_keys(facts, ("mode", "entitled", *MOTION_KEYS))
    mode = choice(facts, "mode", MODES)
    entitled = count(facts, "entitled", minimum=1)
    present, yes = _motion(facts, entitled)
    quorum = share_step("quorum", present, entitled, params["quorum"], strict=True, mode=mode)
    return _decision(quorum, present, yes, params["majority"]) | {"mode": mode}


def residents_meeting_petition(facts: object, params: Mapping[str, Fraction]) -> Outcome:
    facts = check_keys(facts, ("mode", "entitled", "petitioners"))
    mode = choice(facts, "mode", MODES)
    entitled = count(facts, "entitled", minimum=1)
    petitioners = count(facts, "petitioners")
    not_above(petitioners, "petitioners", entitled, "entitled")
    share = params["groups" if mode == "group_reps" else mode]
    step = share_step("petition", petitioners, entitled, share, strict=False, mode=mode)
    return {"quorate": True, "passed": step["ok"], "steps": [step], "mode": mode}


def representatives_meeting(facts: object, params: Mapping[str, Fraction]) -> Outcome:
    facts = check_keys(facts, ("entitled", *MOTION_KEYS))
    entitled = count(facts, "entitled", minimum=1)
    present, yes = _motion(facts, entitled)
    quorum = share_step("quorum", present, entitled, params["quorum"], strict=False)
    return _decision(quorum, present, yes, params["majority"])


def consultative_meeting(facts: object, params: Mapping[str, Fraction]) -> Outcome:
    facts = check_keys(facts, MOTION_KEYS, optional=("entitled",))
    entitled = count(facts, "entitled", minimum=1) if "entitled" in facts else None
    present, yes = _motion(facts, entitled)
    quorum = None
    if params["quorum"] > 0:
        if entitled is None:
            raise ValueError(QUORUM_NEEDS_ENTITLED)
        quorum = share_step("quorum", present, entitled, params["quorum"], strict=False)
    return _decision(quorum, present, yes, params["majority"])
