"""`evaluate`: pick the rule version in force, apply overrides, run the arithmetic."""

import datetime as dt
from collections.abc import Callable, Mapping
from fractions import Fraction

from linli.votes.rules import assemblies, budget, elections, owners, polls
from linli.votes.rules.registry import apply_overrides, rule_for

Evaluator = Callable[[object, Mapping[str, Fraction]], dict[str, object]]

EVALUATORS: Mapping[str, Evaluator] = {
    "residents_meeting": assemblies.residents_meeting,
    "residents_meeting_petition": assemblies.residents_meeting_petition,
    "representatives_meeting": assemblies.representatives_meeting,
    "consultative_meeting": assemblies.consultative_meeting,
    "owners_ordinary": owners.owners_ordinary,
    "owners_special": owners.owners_special,
    "owners_petition": owners.owners_petition,
    "committee_election": elections.committee_election,
    "participatory_budget": budget.participatory_budget,
    "poll_single": polls.poll_single,
    "poll_multiple": polls.poll_multiple,
    "poll_ranking": polls.poll_ranking,
    "poll_score": polls.poll_score,
}


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def evaluate(
    rule_id: str, facts: dict, on: dt.date, *, overrides: dict | None = None
) -> dict[str, object]:
    """Decide one vote under the rule in force on `on`; see the package docstring.

    Returns a JSON-ready dict: ``quorate``, ``passed``, ``basis`` ("law, art. N, version"),
    ``citation`` (the same as printed for residents, in Chinese),
    ``rule_id``, ``profile``, ``version``, ``verified``, ``effective_from``/``effective_to``
    (ISO dates or None), ``refs`` (RULES.md ids), ``params`` and ``overridden`` (fractions as
    strings), ``note``, ``steps`` (one dict per threshold test) and rule-specific details.
    Raises ValueError for an unknown rule, a date with no rule in force, malformed facts, or
    overrides on a rule whose numbers come from the law.
    """
    rule = rule_for(rule_id, on)
    params = apply_overrides(rule, overrides)
    outcome = EVALUATORS[rule.rule_id](facts, params)
    return {
        "rule_id": rule.rule_id,
        "profile": rule.profile,
        "basis": str(rule.basis),
        "law": rule.basis.law,
        "article": rule.basis.article,
        "version": rule.basis.version,
        "citation": rule.basis.citation,
        "verified": rule.verified.value,
        "effective_from": _iso(rule.effective_from),
        "effective_to": _iso(rule.effective_to),
        "refs": list(rule.refs),
        "params": {name: str(value) for name, value in params.items()},
        "overridden": sorted(name for name in params if params[name] != rule.params[name]),
        "note": rule.note,
        **outcome,
    }
