"""Participatory budgeting (自治金 projects; POLICY — RULES.md §4 gives no numbers).

Winners: projects in order of votes (most first; ties broken by the lower cost, then the id),
each funded if it still fits in what is left; a project that does not fit is skipped and the
next one tried, unless ``stop_at_first_unfunded`` is set (then the first misfit ends it).
Money is exact: costs and budget are decimal strings, summed as Fractions.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal, localcontext
from fractions import Fraction
from types import MappingProxyType

from linli.votes.rules.facts import Step, as_int, check_keys, flag
from linli.votes.rules.thresholds import approx, parse_decimal, parse_fraction, show

PROJECTS_NOT_DICT = "fact 'projects' must be a dict of project id -> {'cost': ..., 'votes': ...}"
PROJECT_NOT_DICT = "project {pid!r} must be a dict with 'cost' and 'votes'"
PROJECT_KEYS = "project {pid!r} must have exactly the keys 'cost' and 'votes'"
BAD_ID = "project and option ids must be strings or ints, got {pid!r}"
NOT_POSITIVE = "{what} must be positive"
BAD_LIMIT = "{what} must be a whole number of at least 0"
SHARE_RANGE = "min_share must be a fraction between 0 and 1"
COSTS_NOT_LIST = "costs must be a list of decimal strings"

OVER_BUDGET = "over_budget"
UNDER_MIN_SHARE = "under_min_share"
TOO_FEW = "too_few"
TOO_MANY = "too_many"

Outcome = dict[str, object]
NO_PARAMS: Mapping[str, Fraction] = MappingProxyType({})
ProjectId = str | int


def check_id(pid: object) -> ProjectId:
    if isinstance(pid, bool) or not isinstance(pid, str | int):
        raise ValueError(BAD_ID.format(pid=pid))
    return pid


def id_order(pid: ProjectId) -> tuple[int, int, str]:
    """Sort key for mixed ids: ints numerically, then strings."""
    return (0, pid, "") if isinstance(pid, int) else (1, 0, pid)


def _positive(value: object, what: str) -> Decimal:
    number = parse_decimal(value, what)
    if number <= 0:
        raise ValueError(NOT_POSITIVE.format(what=what))
    return number


def _projects(raw: object) -> dict[ProjectId, tuple[Decimal, int]]:
    if not isinstance(raw, Mapping):
        raise ValueError(PROJECTS_NOT_DICT)
    projects: dict[ProjectId, tuple[Decimal, int]] = {}
    for pid, spec in raw.items():
        check_id(pid)
        if not isinstance(spec, Mapping):
            raise ValueError(PROJECT_NOT_DICT.format(pid=pid))
        if set(spec) != {"cost", "votes"}:
            raise ValueError(PROJECT_KEYS.format(pid=pid))
        cost = _positive(spec["cost"], f"cost of project {pid!r}")
        projects[pid] = (cost, as_int(spec["votes"], f"votes of project {pid!r}"))
    return projects


def _places(*numbers: Decimal) -> int:
    return max(max(-int(n.as_tuple().exponent), 0) for n in numbers)


def _money(value: Fraction, places: int) -> str:
    """Exact decimal text for a sum of decimals, with `places` decimals ('100000.00')."""
    with localcontext(prec=80):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return show(exact.quantize(Decimal(1).scaleb(-places)))


def participatory_budget(facts: object, params: Mapping[str, Fraction] = NO_PARAMS) -> Outcome:
    facts = check_keys(facts, ("budget", "projects"), ("stop_at_first_unfunded",))
    budget_text = _positive(facts["budget"], "fact 'budget'")
    budget = Fraction(budget_text)
    stop = flag(facts, "stop_at_first_unfunded")
    projects = _projects(facts["projects"])
    places = _places(budget_text, *(cost for cost, _ in projects.values()))
    order = sorted(projects, key=lambda p: (-projects[p][1], projects[p][0], id_order(p)))
    left, funded, unfunded, steps = budget, [], [], []
    for pid in order:
        cost, votes = Fraction(projects[pid][0]), projects[pid][1]
        fits = not (stop and unfunded) and cost <= left
        steps.append(_fit_step(pid, projects[pid][0], _money(left, places), votes, fits))
        if fits:
            funded.append(pid)
            left -= cost
        else:
            unfunded.append(pid)
    return {
        "quorate": True,
        "passed": bool(funded),
        "steps": steps,
        "funded": funded,
        "unfunded": unfunded,
        "budget": _money(budget, places),
        "spent": _money(budget - left, places),
        "left": _money(left, places),
    }


def _fit_step(pid: ProjectId, cost: Decimal, left: str, votes: int, ok: bool) -> Step:
    return {
        "key": "budget_fit",
        "subject": pid,
        "votes": votes,
        "value": show(cost),
        "base": left,
        "op": "<=",
        "fraction": "1",
        "threshold": left,
        "threshold_approx": approx(Fraction(left)),
        "ok": ok,
    }


def _limit(value: object, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(BAD_LIMIT.format(what=what))
    return value


def budget_ballot_check(
    budget: object,
    costs: Sequence[object],
    *,
    min_share: object = None,
    min_projects: object = None,
    max_projects: object = None,
) -> list[str]:
    """Problem codes for one budget ballot (empty list = valid).

    ``over_budget``: the chosen projects cost more than the budget; ``under_min_share``: they
    use less than ``min_share`` (a fraction like "1/2") of it; ``too_few`` / ``too_many``: fewer
    than ``min_projects`` / more than ``max_projects`` projects.
    """
    total_budget = Fraction(_positive(budget, "budget"))
    if isinstance(costs, str | bytes) or not isinstance(costs, Sequence):
        raise ValueError(COSTS_NOT_LIST)
    total = sum((Fraction(_positive(cost, "cost")) for cost in costs), Fraction(0))
    share = None if min_share is None else parse_fraction(min_share, "min_share")
    if share is not None and not 0 <= share <= 1:
        raise ValueError(SHARE_RANGE)
    low, high = _limit(min_projects, "min_projects"), _limit(max_projects, "max_projects")
    problems = []
    if total > total_budget:
        problems.append(OVER_BUDGET)
    if share is not None and total < share * total_budget:
        problems.append(UNDER_MIN_SHARE)
    if low is not None and len(costs) < low:
        problems.append(TOO_FEW)
    if high is not None and len(costs) > high:
        problems.append(TOO_MANY)
    return problems
