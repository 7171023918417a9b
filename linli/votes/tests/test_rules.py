"""The vote arithmetic at its boundaries (RULES.md §0.1, §1, §2, §3, §5). Pure Python: no DB."""

import datetime as dt
import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.votes.rules import (
    OWNERS_MATTER_LABELS,
    OWNERS_MATTERS,
    RULE_IDS,
    OwnersMatter,
    at_least,
    budget_ballot_check,
    evaluate,
    more_than,
    owners_rule_for,
    poll_single,
    rule_for,
    rules_in_force,
    to_fraction,
)

# Generation speed depends on machine load (CI shares 2 cores); correctness does not.
settings.register_profile("linli", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("linli")

OLD = dt.date(2025, 6, 1)  # rc_law_2018, 民法典 in force
LAST_OLD = dt.date(2025, 12, 31)
NEW = dt.date(2026, 1, 1)  # rc_law_2025 (UNVERIFIED)


def meeting(entitled=100, present=51, yes=26, no=0, abstain=0, mode="adults") -> dict:
    return {
        "mode": mode,
        "entitled": entitled,
        "present": present,
        "yes": yes,
        "no": no,
        "abstain": abstain,
    }


def owners(voted_area="8000.00", voted_heads=80, yes_area="6000.00", yes_heads=60, **over) -> dict:
    """Fixture E1: total exclusive area 10,000 m², 100 heads."""
    facts = {
        "total_area": "10000.00",
        "total_heads": 100,
        "voted_area": voted_area,
        "voted_heads": voted_heads,
        "yes_area": yes_area,
        "yes_heads": yes_heads,
    }
    return facts | over


def election(candidates, voters=100, ballots_cast=60, seats=5, **extra) -> dict:
    return {
        "voters": voters,
        "ballots_cast": ballots_cast,
        "seats": seats,
        "candidates": candidates,
    } | extra


def step(result: dict, key: str) -> dict:
    (found,) = [s for s in result["steps"] if s["key"] == key]
    return found


# --- threshold helpers ---------------------------------------------------------------------


class TestThresholds:
    def test_exactly_half_fails_more_than_half(self):
        assert not more_than(50, 100, Fraction(1, 2))
        assert more_than(51, 100, Fraction(1, 2))

    def test_two_thirds_of_nine_is_six(self):
        assert at_least(6, 9, Fraction(2, 3))
        assert not at_least(5, 9, Fraction(2, 3))
        assert not more_than(6, 9, Fraction(2, 3))

    def test_exactly_three_quarters_is_at_least(self):
        assert at_least(75, 100, "3/4")
        assert not at_least(74, 100, "3/4")

    def test_decimal_areas_are_exact(self):
        total = Decimal("10000.00")
        assert at_least(Decimal("6666.67"), total, "2/3")
        assert not at_least(Decimal("6666.66"), total, "2/3")
        assert at_least(Fraction(20000, 3), total, "2/3")

    @pytest.mark.parametrize(
        "args",
        [(0.5, 1, "1/2"), (1, 2.0, "1/2"), (1, 2, 0.5), (True, 2, "1/2"), (1, 2, "x/y")],
    )
    def test_floats_bools_and_garbage_refused(self, args):
        with pytest.raises(ValueError):
            at_least(*args)
        with pytest.raises(ValueError):
            more_than(*args)

    def test_negative_refused(self):
        with pytest.raises(ValueError, match="negative"):
            at_least(-1, 2, "1/2")

    @pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), "1", None, 0.1])
    def test_to_fraction_refuses(self, value):
        with pytest.raises(ValueError):
            to_fraction(value)

    @given(st.integers(0, 10**6), st.integers(0, 10**6))
    def test_more_than_half_is_twice_n_over_d(self, n, d):
        assert more_than(n, d, Fraction(1, 2)) == (2 * n > d)
        assert at_least(n, d, Fraction(2, 3)) == (3 * n >= 2 * d)
        assert at_least(n, d, "3/4") == (4 * n >= 3 * d)


# --- registry, dates and overrides -----------------------------------------------------------


class TestVersions:
    def test_last_day_of_2018_law(self):
        result = evaluate("residents_meeting", meeting(), LAST_OLD)
        assert result["profile"] == "rc_law_2018"
        assert result["verified"] == "PRIMARY"
        assert result["version"] == "2018-12-29"
        assert result["effective_to"] == "2025-12-31"
        assert result["basis"] == "城市居民委员会组织法, art. 9(3), 2018-12-29"
        assert result["citation"] == "《城市居民委员会组织法》第九条第三款（2018年修正）"

    def test_first_day_of_2025_revision(self):
        result = evaluate("residents_meeting", meeting(), NEW)
        assert "条文待核实" in result["citation"] and "第九条第三款" in result["citation"]
        assert result["profile"] == "rc_law_2025"
        assert result["verified"] == "UNVERIFIED"
        assert result["effective_from"] == "2026-01-01"
        assert result["effective_to"] is None
        assert result["params"] == {"quorum": "1/2", "majority": "1/2"}
        assert result["passed"]

    def test_overrides_only_on_unverified_profile(self):
        facts = meeting(present=60, yes=31)
        with pytest.raises(ValueError, match="cannot be overridden"):
            evaluate("residents_meeting", facts, LAST_OLD, overrides={"quorum": "2/3"})
        result = evaluate("residents_meeting", facts, NEW, overrides={"quorum": "2/3"})
        assert result["overridden"] == ["quorum"]
        assert step(result, "quorum")["fraction"] == "2/3"
        assert not result["quorate"]
        assert not result["passed"]

    def test_empty_overrides_are_no_overrides(self):
        assert evaluate("owners_ordinary", owners(), OLD, overrides={})["passed"]

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            ({"nonsense": "1/2"}, "no parameter"),
            ({"quorum": "3/2"}, "between 0 and 1"),
            ({"quorum": 0.5}, "floats"),
            ({"quorum": "a third"}, "fraction like"),
            ({"quorum": True}, "booleans"),
            (["quorum"], "must be a dict"),
        ],
    )
    def test_bad_overrides(self, overrides, message):
        with pytest.raises(ValueError, match=message):
            evaluate("residents_meeting", meeting(), NEW, overrides=overrides)

    def test_before_2018_law_no_rule(self):
        with pytest.raises(ValueError, match="no rule in force"):
            evaluate("residents_meeting", meeting(), dt.date(2018, 12, 28))
        assert evaluate("residents_meeting", meeting(), dt.date(2018, 12, 29))["passed"]

    def test_owners_before_civil_code_no_rule(self):
        with pytest.raises(ValueError, match="no rule in force"):
            evaluate("owners_ordinary", owners(), dt.date(2020, 12, 31))
        result = evaluate("owners_ordinary", owners(), dt.date(2021, 1, 1))
        assert result["basis"] == "民法典, art. 278(2), 2021-01-01"
        assert result["citation"] == "《民法典》第二百七十八条第二款"

    @pytest.mark.parametrize(
        "on", [dt.datetime(2025, 6, 1, tzinfo=dt.UTC), "2025-06-01", None, 20250601]
    )
    def test_on_must_be_a_date(self, on):
        with pytest.raises(ValueError, match=r"datetime\.date"):
            evaluate("residents_meeting", meeting(), on)

    @pytest.mark.parametrize("rule_id", ["nope", "", None, 3, "Residents_Meeting"])
    def test_unknown_rule(self, rule_id):
        with pytest.raises(ValueError, match="unknown rule id"):
            evaluate(rule_id, meeting(), OLD)

    def test_every_rule_has_a_version_in_force_today_and_after_switch(self):
        for day in (OLD, NEW):
            assert {rule.rule_id for rule in rules_in_force(day)} == set(RULE_IDS)

    def test_versions_do_not_overlap(self):
        for day in (dt.date(2018, 12, 29), LAST_OLD, NEW, dt.date(2030, 1, 1)):
            ids = [rule.rule_id for rule in rules_in_force(day)]
            assert len(ids) == len(set(ids))

    def test_rule_for_reports_status(self):
        assert rule_for("owners_special", OLD).verified == "PRIMARY"
        assert rule_for("consultative_meeting", OLD).verified == "POLICY"
        assert rule_for("committee_election", OLD).verified == "UNVERIFIED"


# --- residents' meeting (RC-03, RC-04) -------------------------------------------------------


class TestResidentsMeeting:
    @pytest.mark.parametrize(("present", "quorate"), [(50, False), (51, True), (100, True)])
    def test_quorum_more_than_half(self, present, quorate):
        result = evaluate("residents_meeting", meeting(present=present, yes=0), OLD)
        assert result["quorate"] is quorate
        assert step(result, "quorum")["min_count"] == 51

    def test_quorum_odd_base(self):
        assert evaluate("residents_meeting", meeting(9, 5, 3), OLD)["quorate"]
        assert not evaluate("residents_meeting", meeting(9, 4, 3), OLD)["quorate"]

    @pytest.mark.parametrize(("yes", "passed"), [(50, False), (51, True)])
    def test_majority_of_present_exactly_half_fails(self, yes, passed):
        result = evaluate("residents_meeting", meeting(present=100, yes=yes, no=100 - yes), OLD)
        assert result["passed"] is passed

    def test_abstentions_and_silent_attendees_count_in_denominator(self):
        facts = meeting(present=60, yes=30, no=10, abstain=10)
        result = evaluate("residents_meeting", facts, OLD)
        assert result["quorate"]
        assert not result["passed"]
        majority = step(result, "majority")
        assert (majority["value"], majority["base"], majority["op"]) == ("30", "60", ">")
        assert evaluate("residents_meeting", facts | {"yes": 31}, OLD)["passed"]

    def test_majority_without_quorum_does_not_pass(self):
        result = evaluate("residents_meeting", meeting(present=50, yes=50), OLD)
        assert step(result, "majority")["ok"]
        assert not result["passed"]

    @pytest.mark.parametrize("mode", ["adults", "households", "group_reps"])
    def test_all_modes(self, mode):
        result = evaluate(
            "residents_meeting", meeting(mode=mode, entitled=24, present=13, yes=7), OLD
        )
        assert result["mode"] == mode
        assert result["quorate"]

    def test_steps_shape(self):
        quorum = step(evaluate("residents_meeting", meeting(), OLD), "quorum")
        assert quorum | {"mode": None} == {
            "key": "quorum",
            "value": "51",
            "base": "100",
            "op": ">",
            "fraction": "1/2",
            "threshold": "50",
            "threshold_approx": "50.00",
            "min_count": 51,
            "ok": True,
            "mode": None,
        }


class TestPetition:
    @pytest.mark.parametrize(
        ("mode", "entitled", "petitioners", "passed"),
        [
            ("adults", 100, 20, True),  # exactly 1/5
            ("adults", 100, 19, False),
            ("households", 101, 21, True),  # 1/5 of 101 = 20.2
            ("households", 101, 20, False),
            ("group_reps", 9, 3, True),  # exactly 1/3 of 9 groups
            ("group_reps", 9, 2, False),
            ("group_reps", 10, 4, True),  # 1/3 of 10 = 3.33
            ("group_reps", 10, 3, False),
        ],
    )
    def test_thresholds(self, mode, entitled, petitioners, passed):
        facts = {"mode": mode, "entitled": entitled, "petitioners": petitioners}
        result = evaluate("residents_meeting_petition", facts, OLD)
        assert result["quorate"] is True
        assert result["passed"] is passed
        assert step(result, "petition")["op"] == ">="

    def test_after_switch(self):
        facts = {"mode": "adults", "entitled": 100, "petitioners": 20}
        result = evaluate("residents_meeting_petition", facts, NEW)
        assert (result["profile"], result["passed"]) == ("rc_law_2025", True)


class TestRepresentatives:
    @pytest.mark.parametrize(
        ("entitled", "present", "quorate"),
        [(9, 6, True), (9, 5, False), (30, 20, True), (30, 19, False)],
    )
    def test_quorum_two_thirds_inclusive(self, entitled, present, quorate):
        facts = {"entitled": entitled, "present": present, "yes": present, "no": 0, "abstain": 0}
        result = evaluate("representatives_meeting", facts, OLD)
        assert result["quorate"] is quorate
        assert result["passed"] is quorate
        assert result["verified"] == "UNVERIFIED"

    def test_majority_exactly_half_fails(self):
        facts = {"entitled": 30, "present": 20, "yes": 10, "no": 10, "abstain": 0}
        assert not evaluate("representatives_meeting", facts, OLD)["passed"]
        assert evaluate("representatives_meeting", facts | {"yes": 11, "no": 9}, OLD)["passed"]

    def test_overridable_in_both_profiles(self):
        facts = {"entitled": 30, "present": 16, "yes": 9, "no": 7, "abstain": 0}
        for day in (OLD, NEW):
            result = evaluate("representatives_meeting", facts, day, overrides={"quorum": "1/2"})
            assert result["passed"]


class TestConsultative:
    def test_no_quorum_and_simple_majority(self):
        facts = {"present": 10, "yes": 5, "no": 5, "abstain": 0}
        result = evaluate("consultative_meeting", facts, OLD)
        assert result["quorate"] and not result["passed"]
        assert [s["key"] for s in result["steps"]] == ["majority"]
        assert evaluate("consultative_meeting", facts | {"yes": 6, "no": 4}, OLD)["passed"]
        assert result["verified"] == "POLICY"

    def test_quorum_override_needs_entitled(self):
        facts = {"present": 10, "yes": 6, "no": 4, "abstain": 0}
        with pytest.raises(ValueError, match="entitled"):
            evaluate("consultative_meeting", facts, OLD, overrides={"quorum": "1/2"})
        result = evaluate(
            "consultative_meeting", facts | {"entitled": 20}, OLD, overrides={"quorum": "1/2"}
        )
        assert result["quorate"] and result["passed"]
        result = evaluate(
            "consultative_meeting", facts | {"entitled": 21}, OLD, overrides={"quorum": "1/2"}
        )
        assert not result["quorate"] and not result["passed"]


# --- owners (民法典 art. 278) -----------------------------------------------------------------


class TestOwners:
    @pytest.mark.parametrize(
        ("voted_area", "voted_heads", "quorate"),
        [
            ("6666.67", 67, True),
            ("6666.66", 67, False),  # 2/3 of 10000.00 is 6666.666…
            ("6666.67", 66, False),  # 2/3 of 100 heads is 66.67
            ("10000.00", 100, True),
        ],
    )
    def test_double_two_thirds_participation(self, voted_area, voted_heads, quorate):
        facts = owners(voted_area, voted_heads, yes_area=voted_area, yes_heads=voted_heads)
        for rule_id in ("owners_ordinary", "owners_special"):
            result = evaluate(rule_id, facts, OLD)
            assert result["quorate"] is quorate
            assert result["passed"] is quorate

    def test_participation_threshold_shown_exactly(self):
        result = evaluate("owners_ordinary", owners("6666.67", 67, "6666.67", 67), OLD)
        area = step(result, "area_participation")
        assert (area["threshold"], area["threshold_approx"], area["op"]) == (
            "20000/3",
            "6666.67",
            ">=",
        )
        assert "min_count" not in area
        assert step(result, "head_participation")["min_count"] == 67

    @pytest.mark.parametrize(
        ("yes_area", "yes_heads", "passed"),
        [
            ("4000.00", 41, False),  # area exactly half of 8000.00
            ("4000.01", 40, False),  # heads exactly half of 80
            ("4000.01", 41, True),
        ],
    )
    def test_ordinary_more_than_half_of_participants(self, yes_area, yes_heads, passed):
        result = evaluate("owners_ordinary", owners(yes_area=yes_area, yes_heads=yes_heads), OLD)
        assert result["quorate"]
        assert result["passed"] is passed

    @pytest.mark.parametrize(
        ("yes_area", "yes_heads", "passed"),
        [
            ("6000.00", 60, True),  # exactly 3/4 of 8000.00 and of 80
            ("5999.99", 60, False),
            ("6000.00", 59, False),
        ],
    )
    def test_special_three_quarters_of_participants(self, yes_area, yes_heads, passed):
        result = evaluate("owners_special", owners(yes_area=yes_area, yes_heads=yes_heads), OLD)
        assert result["passed"] is passed
        assert step(result, "area_majority")["op"] == ">="

    def test_two_thirds_of_nine_heads(self):
        facts = owners("7000", 6, "7000", 6, total_heads=9)
        assert evaluate("owners_ordinary", facts, OLD)["quorate"]
        assert not evaluate("owners_ordinary", facts | {"voted_heads": 5, "yes_heads": 5}, OLD)[
            "quorate"
        ]

    def test_e1_ordinary_passes_special_fails(self):
        facts = owners("7000.00", 70, "5000.00", 50)  # 5000/7000 > 1/2 but < 3/4
        assert evaluate("owners_ordinary", facts, OLD)["passed"]
        assert not evaluate("owners_special", facts, OLD)["passed"]

    def test_not_quorate_never_passes(self):
        facts = owners("5000.00", 50, "5000.00", 50)
        result = evaluate("owners_special", facts, OLD)
        assert step(result, "area_majority")["ok"]
        assert not result["quorate"] and not result["passed"]

    def test_areas_may_be_decimal_or_int(self):
        facts = owners(Decimal("8000.00"), 80, 6000, 60)
        assert evaluate("owners_special", facts, OLD)["passed"]

    def test_primary_rule_refuses_overrides(self):
        with pytest.raises(ValueError, match="PRIMARY"):
            evaluate("owners_ordinary", owners(), NEW, overrides={"majority": "1/3"})

    def test_counted_echo(self):
        result = evaluate("owners_ordinary", owners(), OLD)
        assert result["counted"]["total_area"] == "10000.00"
        assert result["counted"]["voted_heads"] == "80"


class TestOwnersMatters:
    @pytest.mark.parametrize(
        ("matter", "rule_id"),
        [
            (OwnersMatter.RULES_OF_PROCEDURE, "owners_ordinary"),
            (OwnersMatter.MANAGEMENT_STATUTE, "owners_ordinary"),
            (OwnersMatter.OWNERS_COMMITTEE, "owners_ordinary"),
            (OwnersMatter.PROPERTY_MANAGER, "owners_ordinary"),
            (OwnersMatter.FUND_USE, "owners_ordinary"),  # using is not raising
            (OwnersMatter.FUND_RAISE, "owners_special"),
            (OwnersMatter.ALTER_REBUILD, "owners_special"),
            (OwnersMatter.COMMON_PARTS_USE, "owners_special"),
            (OwnersMatter.OTHER_MAJOR, "owners_ordinary"),
            (OwnersMatter.COMMON_PARTS_DISPOSAL, "owners_ordinary"),
        ],
    )
    def test_mapping(self, matter, rule_id):
        assert owners_rule_for(matter) == rule_id
        assert owners_rule_for(matter.value) == rule_id

    def test_labels_cover_every_matter(self):
        assert set(OWNERS_MATTER_LABELS) == {m.value for m in OwnersMatter}
        assert OWNERS_MATTER_LABELS["maintenance_fund_use"] == "使用建筑物及其附属设施的维修资金"
        assert sorted({item for _m, _l, item, _r in OWNERS_MATTERS}) == list(range(1, 10))

    @pytest.mark.parametrize("matter", ["", "fund", None, 5])
    def test_unknown_matter(self, matter):
        with pytest.raises(ValueError, match="unknown owners' matter"):
            owners_rule_for(matter)


class TestOwnersPetition:
    @pytest.mark.parametrize(
        ("heads", "petitioners", "passed"),
        [(100, 20, True), (100, 19, False), (7, 2, True), (7, 1, False)],
    )
    def test_twenty_percent(self, heads, petitioners, passed):
        facts = {"total_heads": heads, "petitioners": petitioners}
        result = evaluate("owners_petition", facts, OLD)
        assert result["passed"] is passed
        assert result["basis"] == "上海市住宅物业管理规定, art. 25, 2020-12-30"


# --- committee election ----------------------------------------------------------------------


class TestElection:
    CANDIDATES = {"甲": 55, "乙": 50, "丙": 45, "丁": 40, "戊": 35, "己": 20, "庚": 10}

    @pytest.mark.parametrize(("ballots", "quorate"), [(50, False), (51, True)])
    def test_turnout_more_than_half(self, ballots, quorate):
        votes = {name: min(v, ballots) for name, v in self.CANDIDATES.items()}
        result = evaluate("committee_election", election(votes, ballots_cast=ballots), OLD)
        assert result["quorate"] is quorate
        if not quorate:
            assert (result["elected"], result["vacant"], result["passed"]) == ([], 5, False)

    def test_all_seats_filled(self):
        result = evaluate("committee_election", election(self.CANDIDATES), OLD)
        assert result["elected"] == ["甲", "乙", "丙", "丁", "戊"]
        assert (result["ties"], result["vacant"], result["passed"]) == ([], 0, True)
        assert result["verified"] == "UNVERIFIED"

    def test_exactly_half_of_ballots_is_not_elected(self):
        votes = self.CANDIDATES | {"戊": 30}
        result = evaluate("committee_election", election(votes), OLD)
        assert "戊" not in result["elected"]
        assert (result["vacant"], result["passed"]) == (1, False)
        candidate = next(s for s in result["steps"] if s.get("subject") == "戊")
        assert (candidate["value"], candidate["base"], candidate["ok"]) == ("30", "60", False)
        votes = self.CANDIDATES | {"戊": 31}
        assert "戊" in evaluate("committee_election", election(votes), OLD)["elected"]

    def test_tie_at_last_seat_goes_to_runoff(self):
        votes = self.CANDIDATES | {"戊": 40, "己": 40}
        result = evaluate("committee_election", election(votes), OLD)
        assert result["elected"] == ["甲", "乙", "丙"]
        assert result["ties"] == ["丁", "己", "戊"]
        assert (result["vacant"], result["passed"]) == (2, False)

    def test_tie_inside_the_seats_elects_both(self):
        votes = self.CANDIDATES | {"乙": 55}
        result = evaluate("committee_election", election(votes), OLD)
        assert result["elected"] == ["乙", "甲", "丙", "丁", "戊"]
        assert result["ties"] == []

    def test_more_majority_candidates_than_seats(self):
        votes = {"a": 60, "b": 59, "c": 58, "d": 57, "e": 56, "f": 55, "g": 51}
        facts = election(votes, voters=150, ballots_cast=100)
        result = evaluate("committee_election", facts, OLD)
        assert result["elected"] == ["a", "b", "c", "d", "e"]
        assert result["passed"]

    def test_runoff_most_votes_with_a_third(self):
        facts = election({"x": 20, "y": 19, "z": 10}, seats=1, round="runoff")
        result = evaluate("committee_election", facts, OLD)
        assert (result["round"], result["elected"], result["passed"]) == ("runoff", ["x"], True)
        facts = election({"x": 19, "y": 18, "z": 10}, seats=1, round="runoff")
        result = evaluate("committee_election", facts, OLD)  # 1/3 of 60 = 20
        assert (result["elected"], result["vacant"]) == ([], 1)

    @pytest.mark.parametrize("seats", [4, 10, 0])
    def test_seats_outside_five_to_nine(self, seats):
        with pytest.raises(ValueError, match="between 5 and 9"):
            evaluate("committee_election", election(self.CANDIDATES, seats=seats), OLD)

    def test_nine_seats_need_ten_candidates(self):
        nine = {f"c{i}": 31 for i in range(9)}
        with pytest.raises(ValueError, match="more candidates"):
            evaluate("committee_election", election(nine, seats=9), OLD)
        ten = nine | {"c9": 1}
        assert evaluate("committee_election", election(ten, seats=9), OLD)["passed"]

    def test_seat_range_fixed_in_2018_but_overridable_after_switch(self):
        facts = election({"甲": 55, "乙": 50, "丙": 45, "丁": 20, "戊": 5}, seats=3)
        with pytest.raises(ValueError, match="fixed"):
            evaluate("committee_election", facts, OLD, overrides={"seats_min": "3"})
        result = evaluate("committee_election", facts, NEW, overrides={"seats_min": "3"})
        assert result["elected"] == ["甲", "乙", "丙"]

    def test_turnout_overridable(self):
        facts = election(self.CANDIDATES, ballots_cast=60, voters=100)
        result = evaluate("committee_election", facts, OLD, overrides={"turnout": "2/3"})
        assert not result["quorate"]

    @pytest.mark.parametrize(
        ("facts", "message"),
        [
            (election({"a": 61, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1}), "must not exceed"),
            (election({"a": -1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1}), "at least 0"),
            (election({"a": "5", "b": 1, "c": 1, "d": 1, "e": 1, "f": 1}), "must be an int"),
            (election({"": 5, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1}), "non-empty"),
            (election({f"c{i}": 60 for i in range(7)}), "exceed ballots_cast"),
            (election(["a", "b"]), "dict of candidate"),
            (election({"a": 1}, ballots_cast=101), "must not exceed voters"),
            (election({"a": 1}, round="second"), "round"),
        ],
    )
    def test_malformed(self, facts, message):
        with pytest.raises(ValueError, match=message):
            evaluate("committee_election", facts, OLD)


# --- participatory budget --------------------------------------------------------------------


def projects(**specs: tuple[str, int]) -> dict:
    return {pid: {"cost": cost, "votes": votes} for pid, (cost, votes) in specs.items()}


class TestBudget:
    def test_fits_exactly(self):
        facts = {
            "budget": "100000.00",
            "projects": projects(a=("60000.50", 30), b=("50000", 25), c=("39999.50", 10)),
        }
        result = evaluate("participatory_budget", facts, OLD)
        assert result["funded"] == ["a", "c"]
        assert result["unfunded"] == ["b"]
        assert (result["spent"], result["left"]) == ("100000.00", "0.00")
        assert result["passed"] and result["quorate"]
        assert [s["ok"] for s in result["steps"]] == [True, False, True]

    def test_stop_at_first_unfunded(self):
        facts = {
            "budget": "100000",
            "projects": projects(a=("60000", 30), b=("50000", 25), c=("40000", 10)),
            "stop_at_first_unfunded": True,
        }
        result = evaluate("participatory_budget", facts, OLD)
        assert (result["funded"], result["unfunded"], result["left"]) == (
            ["a"],
            ["b", "c"],
            "40000",
        )

    def test_ties_by_lower_cost_then_id(self):
        facts = {
            "budget": "10",
            "projects": projects(b=("5", 7), a=("5", 7), c=("4", 7), d=("9", 8)),
        }
        result = evaluate("participatory_budget", facts, OLD)
        assert [s["subject"] for s in result["steps"]] == ["d", "c", "a", "b"]
        assert result["funded"] == ["d"]

    def test_int_ids_sort_numerically(self):
        facts = {
            "budget": "30",
            "projects": {10: {"cost": "10", "votes": 1}, 9: {"cost": "10", "votes": 1}},
        }
        assert evaluate("participatory_budget", facts, OLD)["funded"] == [9, 10]

    def test_nothing_fits(self):
        facts = {"budget": "10", "projects": projects(a=("11", 3))}
        result = evaluate("participatory_budget", facts, OLD)
        assert (result["funded"], result["passed"], result["spent"]) == ([], False, "0")

    @pytest.mark.parametrize(
        ("facts", "message"),
        [
            ({"budget": 100.0, "projects": {}}, "floats"),
            ({"budget": "0", "projects": {}}, "positive"),
            ({"budget": "100", "projects": projects(a=("0", 1))}, "positive"),
            ({"budget": "100", "projects": projects(a=("1.5", -1))}, "at least 0"),
            ({"budget": "100", "projects": {"a": {"cost": "1"}}}, "exactly the keys"),
            ({"budget": "100", "projects": {True: {"cost": "1", "votes": 1}}}, "ids"),
            ({"budget": "100", "projects": ["a"]}, "dict of project"),
            ({"budget": "100", "projects": {}, "stop_at_first_unfunded": 1}, "true or false"),
            ({"budget": "lots", "projects": {}}, "decimal string"),
        ],
    )
    def test_malformed(self, facts, message):
        with pytest.raises(ValueError, match=message):
            evaluate("participatory_budget", facts, OLD)


class TestBudgetBallot:
    def test_valid_and_exact_fit(self):
        assert budget_ballot_check("100", ["60", "40.00"]) == []

    def test_problem_codes(self):
        assert budget_ballot_check("100", ["60", "40.01"]) == ["over_budget"]
        assert budget_ballot_check("100", ["49.99"], min_share="1/2") == ["under_min_share"]
        assert budget_ballot_check("100", ["50"], min_share="1/2") == []
        assert budget_ballot_check("100", ["10"], min_projects=2) == ["too_few"]
        assert budget_ballot_check("100", ["10", "10", "10"], max_projects=2) == ["too_many"]
        assert budget_ballot_check("100", [], min_share="1/5", min_projects=1) == [
            "under_min_share",
            "too_few",
        ]

    @pytest.mark.parametrize(
        ("args", "kwargs"),
        [
            (("100", [10.0]), {}),
            (("100", "10"), {}),
            (("100", ["10"]), {"min_share": "3/2"}),
            (("100", ["10"]), {"min_projects": -1}),
            ((100.0, ["10"]), {}),
        ],
    )
    def test_bad_input(self, args, kwargs):
        with pytest.raises(ValueError):
            budget_ballot_check(*args, **kwargs)


# --- polls -----------------------------------------------------------------------------------


class TestPolls:
    def test_single_tie_kept(self):
        facts = {"options": ["a", "b", "c"], "ballots": ["a", "b", "a", "b", None]}
        result = evaluate("poll_single", facts, OLD)
        assert result["tally"] == {"a": 2, "b": 2, "c": 0}
        assert result["winners"] == ["a", "b"]
        assert (result["passed"], result["quorate"], result["blank"]) == (False, True, 1)

    def test_single_pure_function(self):
        result = poll_single({"options": [1, 2], "ballots": [2, 2, 1]})
        assert (result["winners"], result["passed"]) == ([2], True)

    def test_all_blank_has_no_winner(self):
        result = evaluate("poll_single", {"options": ["a"], "ballots": [None]}, OLD)
        assert result["winners"] == [] and not result["passed"]

    def test_multiple(self):
        facts = {"options": ["a", "b", "c"], "ballots": [["a", "b"], ["b"], []], "max_choices": 2}
        result = evaluate("poll_multiple", facts, OLD)
        assert result["tally"] == {"a": 1, "b": 2, "c": 0}
        assert (result["winners"], result["blank"]) == (["b"], 1)
        with pytest.raises(ValueError, match="at most 2"):
            evaluate("poll_multiple", facts | {"ballots": [["a", "b", "c"]]}, OLD)

    def test_ranking_borda(self):
        # 3 options: first 2 points, second 1, third 0; unranked 0.
        facts = {"options": ["a", "b", "c"], "ballots": [["a", "b", "c"], ["b", "c"], ["c"]]}
        result = evaluate("poll_ranking", facts, OLD)
        assert result["tally"] == {"a": 2, "b": 3, "c": 3}
        assert result["winners"] == ["b", "c"]

    def test_score(self):
        facts = {
            "options": ["a", "b"],
            "ballots": [{"a": 3, "b": 5}, {"a": 4}, {}],
            "min_score": 0,
            "max_score": 5,
        }
        result = evaluate("poll_score", facts, OLD)
        assert result["tally"]["a"] == {
            "sum": "7",
            "count": 2,
            "mean": "7/2",
            "mean_approx": "3.50",
        }
        assert result["tally"]["b"]["mean"] == "5"
        assert (result["winners"], result["blank"]) == (["a"], 1)
        with pytest.raises(ValueError, match=r"outside 0\.\.5"):
            evaluate("poll_score", facts | {"ballots": [{"a": 6}]}, OLD)

    @pytest.mark.parametrize(
        ("rule_id", "facts", "message"),
        [
            ("poll_single", {"options": ["a"], "ballots": ["z"]}, "unknown option"),
            ("poll_single", {"options": [], "ballots": []}, "non-empty list"),
            ("poll_single", {"options": ["a", "a"], "ballots": []}, "distinct"),
            ("poll_single", {"options": ["a"], "ballots": "a"}, "must be a list"),
            ("poll_single", {"options": [1], "ballots": [True]}, "unknown option"),
            ("poll_multiple", {"options": ["a"], "ballots": [["a", "a"]]}, "twice"),
            ("poll_multiple", {"options": ["a"], "ballots": ["a"]}, "a list of option ids"),
            ("poll_ranking", {"options": ["a", "b"], "ballots": [["a", "a"]]}, "twice"),
            ("poll_score", {"options": ["a"], "ballots": [["a"]]}, "dict of option"),
            ("poll_score", {"options": ["a"], "ballots": [{"a": 1.5}]}, "must be an int"),
            (
                "poll_score",
                {"options": ["a"], "ballots": [], "min_score": 5, "max_score": 1},
                "min_score",
            ),
        ],
    )
    def test_malformed(self, rule_id, facts, message):
        with pytest.raises(ValueError, match=message):
            evaluate(rule_id, facts, OLD)


# --- malformed facts for the assembly and owners rules ---------------------------------------


MALFORMED = [
    ("residents_meeting", "not a dict", "must be a dict"),
    ("residents_meeting", {k: v for k, v in meeting().items() if k != "yes"}, "missing fact 'yes'"),
    ("residents_meeting", meeting() | {"extra": 1}, "unexpected fact"),
    ("residents_meeting", meeting(mode="everyone"), "mode"),
    ("residents_meeting", meeting(present=-1), "at least 0"),
    ("residents_meeting", meeting(entitled=0, present=0, yes=0), "at least 1"),
    ("residents_meeting", meeting(present=101), "present \\(101\\) must not exceed entitled"),
    ("residents_meeting", meeting(present=10, yes=6, no=3, abstain=2), "yes \\+ no \\+ abstain"),
    ("residents_meeting", meeting(present=51.0), "must be an int"),
    ("residents_meeting", meeting(present="51"), "must be an int"),
    ("residents_meeting", meeting(yes=True), "must be an int"),
    ("residents_meeting_petition", {"mode": "adults", "entitled": 5, "petitioners": 6}, "exceed"),
    ("residents_meeting_petition", {"mode": "adults", "entitled": 5}, "petitioners"),
    ("representatives_meeting", {"entitled": 5, "present": 3, "yes": 1, "no": 1}, "abstain"),
    ("consultative_meeting", {"present": 3, "yes": 4, "no": 0, "abstain": 0}, "exceed"),
    ("owners_ordinary", owners(voted_area=8000.0), "floats"),
    ("owners_ordinary", owners(voted_area="10000.01"), "voted_area .* must not exceed total_area"),
    ("owners_ordinary", owners(yes_area="8000.01"), "yes_area .* must not exceed voted_area"),
    ("owners_ordinary", owners(voted_heads=101), "voted_heads .* must not exceed total_heads"),
    ("owners_ordinary", owners(yes_heads=81), "yes_heads .* must not exceed voted_heads"),
    ("owners_ordinary", owners(voted_area="-1"), "negative"),
    ("owners_ordinary", owners(voted_area="NaN"), "finite"),
    ("owners_ordinary", owners(voted_area="abc"), "decimal string"),
    ("owners_ordinary", owners(voted_area=None), "decimal string"),
    ("owners_ordinary", owners(total_area="0", voted_area="0", yes_area="0"), "positive"),
    ("owners_ordinary", owners(total_heads=0, voted_heads=0, yes_heads=0), "at least 1"),
    ("owners_ordinary", owners(voted_heads=0, yes_heads=0), "voted_area must be 0"),
    ("owners_ordinary", owners(voted_heads=True), "must be an int"),
    ("owners_special", {"total_area": "1"}, "missing fact"),
    ("owners_petition", {"total_heads": 10, "petitioners": 11}, "exceed"),
    ("owners_petition", {"total_heads": 0, "petitioners": 0}, "at least 1"),
]


@pytest.mark.parametrize(("rule_id", "facts", "message"), MALFORMED)
def test_malformed_facts(rule_id, facts, message):
    with pytest.raises(ValueError, match=message):
        evaluate(rule_id, facts, OLD)


# --- contract and properties -----------------------------------------------------------------


SAMPLES = {
    "residents_meeting": meeting(),
    "residents_meeting_petition": {"mode": "households", "entitled": 10, "petitioners": 2},
    "representatives_meeting": {"entitled": 9, "present": 6, "yes": 4, "no": 1, "abstain": 1},
    "consultative_meeting": {"present": 9, "yes": 5, "no": 4, "abstain": 0},
    "owners_ordinary": owners(),
    "owners_special": owners(),
    "owners_petition": {"total_heads": 100, "petitioners": 20},
    "committee_election": election(TestElection.CANDIDATES),
    "participatory_budget": {"budget": "10", "projects": projects(a=("4", 2), b=("6", 1))},
    "poll_single": {"options": ["a", "b"], "ballots": ["a"]},
    "poll_multiple": {"options": ["a", "b"], "ballots": [["a", "b"], ["a"]]},
    "poll_ranking": {"options": ["a", "b"], "ballots": [["b", "a"]]},
    "poll_score": {"options": ["a", "b"], "ballots": [{"a": 1, "b": 2}]},
}


def test_samples_cover_every_rule():
    assert set(SAMPLES) == set(RULE_IDS)


@pytest.mark.parametrize("rule_id", sorted(SAMPLES))
@pytest.mark.parametrize("on", [OLD, NEW])
def test_contract_fields_and_json(rule_id, on):
    result = evaluate(rule_id, SAMPLES[rule_id], on)
    json.dumps(result)
    assert isinstance(result["quorate"], bool) and isinstance(result["passed"], bool)
    assert result["passed"], rule_id
    for key in ("basis", "rule_id", "profile", "version", "verified", "effective_from", "steps"):
        assert key in result
    assert result["verified"] in {"PRIMARY", "OFFICIAL_WEB", "SECONDARY", "UNVERIFIED", "POLICY"}
    for item in result["steps"]:
        assert {"key", "value", "base", "op", "fraction", "ok"} <= set(item)


@given(entitled=st.integers(1, 500), data=st.data())
def test_meetings_passed_implies_quorate(entitled, data):
    present = data.draw(st.integers(0, entitled))
    yes = data.draw(st.integers(0, present))
    no = data.draw(st.integers(0, present - yes))
    abstain = data.draw(st.integers(0, present - yes - no))
    facts = meeting(entitled, present, yes, no, abstain)
    result = evaluate("residents_meeting", facts, OLD)
    assert not result["passed"] or result["quorate"]
    assert result["quorate"] == (2 * present > entitled)
    assert result["passed"] == (2 * present > entitled and 2 * yes > present)
    representatives = {k: v for k, v in facts.items() if k != "mode"}
    result = evaluate("representatives_meeting", representatives, OLD)
    assert not result["passed"] or result["quorate"]
    assert result["quorate"] == (3 * present >= 2 * entitled)


@given(data=st.data())
def test_owners_passed_implies_quorate(data):
    total_heads = data.draw(st.integers(1, 300))
    voted_heads = data.draw(st.integers(0, total_heads))
    yes_heads = data.draw(st.integers(0, voted_heads))
    total_cents = data.draw(st.integers(1, 10**9))
    voted_cents = data.draw(st.integers(0, total_cents)) if voted_heads else 0
    yes_cents = data.draw(st.integers(0, voted_cents)) if yes_heads else 0

    def money(cents: int) -> str:
        return f"{cents // 100}.{cents % 100:02d}"

    facts = {
        "total_area": money(total_cents),
        "total_heads": total_heads,
        "voted_area": money(voted_cents),
        "voted_heads": voted_heads,
        "yes_area": money(yes_cents),
        "yes_heads": yes_heads,
    }
    quorate = 3 * voted_cents >= 2 * total_cents and 3 * voted_heads >= 2 * total_heads
    ordinary = evaluate("owners_ordinary", facts, OLD)
    special = evaluate("owners_special", facts, OLD)
    assert ordinary["quorate"] == special["quorate"] == quorate
    assert not ordinary["passed"] or ordinary["quorate"]
    assert not special["passed"] or special["quorate"]
    assert ordinary["passed"] == (
        quorate and 2 * yes_cents > voted_cents and 2 * yes_heads > voted_heads
    )
    assert special["passed"] == (
        quorate and 4 * yes_cents >= 3 * voted_cents and 4 * yes_heads >= 3 * voted_heads
    )


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1, "一"),
        (10, "十"),
        (15, "十五"),
        (26, "二十六"),
        (100, "一百"),
        (105, "一百零五"),
        (110, "一百一十"),
        (278, "二百七十八"),
    ],
)
def test_articles_are_cited_in_chinese_numerals(number, text):
    from linli.votes.rules.registry import cn_number

    assert cn_number(number) == text


def test_every_rule_has_a_chinese_citation():
    from linli.votes.rules.registry import REGISTRY

    for versions in REGISTRY.values():
        for rule in versions:
            assert rule.basis.citation and "art." not in rule.basis.citation, rule
