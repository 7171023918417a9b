"""Poll tallies (POLICY): single choice, multiple choice, ranking (Borda), score.

Facts: ``options`` (a non-empty list of distinct ids, strings or ints) and ``ballots`` (a list
of choices). A blank ballot is ``None`` (single), ``[]`` (multiple, ranking) or ``{}`` (score):
it is counted in ``ballots`` and ``blank`` and adds nothing to the tally.

- ``poll_single``: each ballot is one option id; tally = number of ballots naming it.
- ``poll_multiple``: each ballot is a list of distinct option ids (at most ``max_choices`` when
  that optional fact is given); tally = number of ballots naming it (approval count).
- ``poll_ranking``: each ballot is an ordered list of distinct option ids, best first; it may
  stop early. Borda count over the n options of the poll: the 1st gets n-1 points, the 2nd
  n-2, … so a full ranking gives the last 0; options a ballot leaves unranked get 0 from it.
- ``poll_score``: each ballot maps option ids to int scores (within the optional ``min_score``
  … ``max_score``); tally per option: ``sum``, ``count`` (ballots that scored it), ``mean``
  (exact fraction string, "" when nobody scored it) and ``mean_approx``. Ranked by sum.

``winners`` are the options with the highest tally (all of them on a tie; none when every
ballot is blank); ``passed`` is True when there is exactly one winner. ``quorate`` is always True.
"""

from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from types import MappingProxyType

from linli.votes.rules.budget import check_id
from linli.votes.rules.facts import Step, as_int, check_keys
from linli.votes.rules.thresholds import approx

OPTIONS_BAD = "fact 'options' must be a non-empty list of distinct option ids"
BALLOTS_BAD = "fact 'ballots' must be a list"
UNKNOWN_OPTION = "ballot {index} names an unknown option {option!r}"
DUPLICATE_OPTION = "ballot {index} names option {option!r} twice"
BALLOT_SHAPE = "ballot {index} must be {shape}"
TOO_MANY_CHOICES = "ballot {index} chooses {n} options; at most {limit} allowed"
SCORE_RANGE = "ballot {index} scores {option!r} {score}, outside {low}..{high}"

Outcome = dict[str, object]
NO_PARAMS: Mapping[str, Fraction] = MappingProxyType({})
Option = str | int


def _options(facts: Mapping[str, object]) -> list[Option]:
    raw = facts["options"]
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence) or not raw:
        raise ValueError(OPTIONS_BAD)
    options = [check_id(option) for option in raw]
    if len(set(options)) != len(options):
        raise ValueError(OPTIONS_BAD)
    return options


def _ballots(facts: Mapping[str, object]) -> Sequence[object]:
    raw = facts["ballots"]
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        raise ValueError(BALLOTS_BAD)
    return raw


def _id_list(ballot: object, index: int, options: list[Option], shape: str) -> list[Option]:
    if isinstance(ballot, str | bytes) or not isinstance(ballot, Sequence):
        raise ValueError(BALLOT_SHAPE.format(index=index, shape=shape))
    seen: list[Option] = []
    for option in ballot:
        _known(option, index, options)
        if option in seen:
            raise ValueError(DUPLICATE_OPTION.format(index=index, option=option))
        seen.append(option)
    return seen


def _known(option: object, index: int, options: list[Option]) -> Option:
    if isinstance(option, bool) or option not in options:
        raise ValueError(UNKNOWN_OPTION.format(index=index, option=option))
    return option  # type: ignore[return-value]


def _winners(
    options: list[Option], score: Callable[[Option], Fraction | int], empty: bool
) -> list[Option]:
    if empty:
        return []
    top = max(score(option) for option in options)
    return [option for option in options if score(option) == top]


def _result(
    options: list[Option],
    tally: dict[Option, object],
    score: Callable[[Option], Fraction | int],
    ballots: int,
    blank: int,
) -> Outcome:
    winners = _winners(options, score, empty=blank == ballots)
    ordered = sorted((score(option) for option in options), reverse=True)
    runner_up = ordered[1] if len(ordered) > 1 else 0
    step: Step = {
        "key": "plurality",
        "value": str(ordered[0]),
        "base": str(runner_up),
        "op": ">",
        "fraction": "1",
        "threshold": str(runner_up),
        "threshold_approx": approx(Fraction(runner_up)),
        "ok": len(winners) == 1,
    }
    return {
        "quorate": True,
        "passed": len(winners) == 1,
        "steps": [step],
        "tally": tally,
        "winners": winners,
        "ballots": ballots,
        "blank": blank,
    }


def poll_single(facts: object, params: Mapping[str, Fraction] = NO_PARAMS) -> Outcome:
    facts = check_keys(facts, ("options", "ballots"))
    options, ballots = _options(facts), _ballots(facts)
    tally: dict[Option, int] = dict.fromkeys(options, 0)
    blank = 0
    for index, ballot in enumerate(ballots):
        if ballot is None:
            blank += 1
        else:
            tally[_known(ballot, index, options)] += 1
    return _result(options, dict(tally), tally.__getitem__, len(ballots), blank)


def poll_multiple(facts: object, params: Mapping[str, Fraction] = NO_PARAMS) -> Outcome:
    facts = check_keys(facts, ("options", "ballots"), ("max_choices",))
    options, ballots = _options(facts), _ballots(facts)
    limit = as_int(facts["max_choices"], "max_choices", 1) if "max_choices" in facts else None
    tally: dict[Option, int] = dict.fromkeys(options, 0)
    blank = 0
    for index, ballot in enumerate(ballots):
        chosen = _id_list(ballot, index, options, "a list of option ids")
        if limit is not None and len(chosen) > limit:
            raise ValueError(TOO_MANY_CHOICES.format(index=index, n=len(chosen), limit=limit))
        blank += not chosen
        for option in chosen:
            tally[option] += 1
    return _result(options, dict(tally), tally.__getitem__, len(ballots), blank)


def poll_ranking(facts: object, params: Mapping[str, Fraction] = NO_PARAMS) -> Outcome:
    facts = check_keys(facts, ("options", "ballots"))
    options, ballots = _options(facts), _ballots(facts)
    tally: dict[Option, int] = dict.fromkeys(options, 0)
    blank = 0
    top_points = len(options) - 1
    for index, ballot in enumerate(ballots):
        ranked = _id_list(ballot, index, options, "an ordered list of option ids")
        blank += not ranked
        for position, option in enumerate(ranked):
            tally[option] += top_points - position
    return _result(options, dict(tally), tally.__getitem__, len(ballots), blank)


def _score_bounds(facts: Mapping[str, object]) -> tuple[int | None, int | None]:
    low = facts.get("min_score")
    high = facts.get("max_score")
    low = None if low is None else as_int(low, "min_score", minimum=None)
    high = None if high is None else as_int(high, "max_score", minimum=None)
    if low is not None and high is not None and low > high:
        raise ValueError("min_score must not exceed max_score")
    return low, high


def poll_score(facts: object, params: Mapping[str, Fraction] = NO_PARAMS) -> Outcome:
    facts = check_keys(facts, ("options", "ballots"), ("min_score", "max_score"))
    options, ballots = _options(facts), _ballots(facts)
    low, high = _score_bounds(facts)
    sums: dict[Option, int] = dict.fromkeys(options, 0)
    counts: dict[Option, int] = dict.fromkeys(options, 0)
    blank = 0
    for index, ballot in enumerate(ballots):
        if not isinstance(ballot, Mapping):
            raise ValueError(BALLOT_SHAPE.format(index=index, shape="a dict of option -> score"))
        blank += not ballot
        for option, raw in ballot.items():
            score = as_int(raw, f"score in ballot {index}", minimum=None)
            _known(option, index, options)
            if (low is not None and score < low) or (high is not None and score > high):
                raise ValueError(
                    SCORE_RANGE.format(index=index, option=option, score=score, low=low, high=high)
                )
            sums[option] += score
            counts[option] += 1
    tally = {option: _score_entry(sums[option], counts[option]) for option in options}
    return _result(options, tally, sums.__getitem__, len(ballots), blank)


def _score_entry(total: int, scored: int) -> dict[str, object]:
    mean = Fraction(total, scored) if scored else None
    return {
        "sum": str(total),
        "count": scored,
        "mean": "" if mean is None else str(mean),
        "mean_approx": "" if mean is None else approx(mean),
    }
