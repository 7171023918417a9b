"""Residents' committee elections (RC-07, RC-08, RC-10).

Seats: 5–9 members (城市居民委员会组织法 art. 7, PRIMARY). The 2018 law states no turnout or
election majority, and no Shanghai election rules are in shared/laws, so the numbers come from
the village committee law art. 15(2) as an analogue (UNVERIFIED, overridable):

- turnout (``quorate``): more than half (过半数) of the registered voters cast a ballot;
- first round (``round`` = "first", default): a candidate needs more than half of the ballots
  cast (``elect`` = 1/2, strict);
- run-off (``round`` = "runoff", 另行选举 for the vacant seats): the candidates with the most
  votes win, but each needs at least 1/3 of the ballots cast (``runoff_elect``, inclusive);
  ``seats`` is then the number of vacancies (1 … seats_max).

Candidates who qualify are elected highest first, up to ``seats``. If qualifying candidates are
tied across the last seat (the seats-th and the next one have the same votes), none of the tied
ones is elected: they are listed in ``ties`` for a run-off and their seats stay ``vacant``.

``passed`` is True only when the election is valid (quorate) and every seat is filled;
``elected`` may be non-empty while ``passed`` is False (partial result, run-off needed).
"""

from collections.abc import Mapping
from fractions import Fraction

from linli.votes.rules.facts import Step, as_int, check_keys, choice, count, not_above, share_step

ROUNDS = ("first", "runoff")
SEATS_RANGE = "fact 'seats' must be between {low} and {high}, got {seats}"
NEED_MORE_CANDIDATES = "there must be more candidates ({candidates}) than seats ({seats})"
CANDIDATES_NOT_DICT = "fact 'candidates' must be a dict of candidate name -> votes"
BAD_NAME = "candidate names must be non-empty strings, got {name!r}"
TOO_MANY_MARKS = "the candidates' votes ({total}) exceed ballots_cast × seats ({limit})"

Outcome = dict[str, object]


def _candidates(facts: Mapping[str, object], ballots: int) -> dict[str, int]:
    raw = facts["candidates"]
    if not isinstance(raw, Mapping):
        raise ValueError(CANDIDATES_NOT_DICT)
    votes: dict[str, int] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(BAD_NAME.format(name=name))
        votes[name] = as_int(value, f"candidates[{name!r}]")
        not_above(votes[name], f"votes for {name!r}", ballots, "ballots_cast")
    return votes


def _seats(facts: Mapping[str, object], params: Mapping[str, Fraction], runoff: bool) -> int:
    seats = count(facts, "seats")
    low = 1 if runoff else int(params["seats_min"])
    high = int(params["seats_max"])
    if not low <= seats <= high:
        raise ValueError(SEATS_RANGE.format(low=low, high=high, seats=seats))
    return seats


def _allocate(qualified: list[tuple[str, int]], seats: int) -> tuple[list[str], list[str]]:
    """(elected, tied): highest first; a tie across the last seat elects none of the tied."""
    if len(qualified) <= seats:
        return [name for name, _ in qualified], []
    boundary = qualified[seats - 1][1]
    if qualified[seats][1] != boundary:
        return [name for name, _ in qualified[:seats]], []
    elected = [name for name, votes in qualified if votes > boundary]
    tied = [name for name, votes in qualified if votes == boundary]
    return elected, tied


def committee_election(facts: object, params: Mapping[str, Fraction]) -> Outcome:
    facts = check_keys(facts, ("voters", "ballots_cast", "seats", "candidates"), ("round",))
    runoff = "round" in facts and choice(facts, "round", ROUNDS) == "runoff"
    voters = count(facts, "voters", minimum=1)
    ballots = count(facts, "ballots_cast")
    not_above(ballots, "ballots_cast", voters, "voters")
    seats = _seats(facts, params, runoff)
    votes = _candidates(facts, ballots)
    if len(votes) <= seats:
        raise ValueError(NEED_MORE_CANDIDATES.format(candidates=len(votes), seats=seats))
    if sum(votes.values()) > ballots * seats:
        raise ValueError(TOO_MANY_MARKS.format(total=sum(votes.values()), limit=ballots * seats))

    turnout = share_step("turnout", ballots, voters, params["turnout"], strict=True)
    share, strict = (params["runoff_elect"], False) if runoff else (params["elect"], True)
    ranking = sorted(votes.items(), key=lambda item: (-item[1], item[0]))
    steps: list[Step] = [turnout]
    for name, got in ranking:
        steps.append(share_step("candidate", got, ballots, share, strict=strict, subject=name))
    qualified = [
        (name, got) for (name, got), step in zip(ranking, steps[1:], strict=True) if step["ok"]
    ]
    elected, tied = _allocate(qualified, seats) if turnout["ok"] else ([], [])
    return {
        "quorate": turnout["ok"],
        "passed": turnout["ok"] and len(elected) == seats,
        "steps": steps,
        "round": "runoff" if runoff else "first",
        "seats": seats,
        "elected": elected,
        "ties": tied,
        "vacant": seats - len(elected),
        "ranking": [{"name": name, "votes": got} for name, got in ranking],
    }
