"""Fact validation and the `steps` shown on results pages.

Facts are plain dicts: counts are ints (bools refused), areas and money are decimal strings
(floats refused). Every problem raises ValueError naming the fact.
"""

from collections.abc import Collection, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from linli.votes.rules.thresholds import (
    Number,
    approx,
    at_least,
    min_count,
    more_than,
    parse_decimal,
    show,
)

FACTS_NOT_DICT = "facts must be a dict, not {type}"
MISSING = "missing fact {key!r}"
UNEXPECTED = "unexpected fact(s): {keys}"
NOT_INT = "fact {key!r} must be an int, not {type}"
TOO_SMALL = "fact {key!r} must be at least {minimum}, got {value}"
NOT_IN = "fact {key!r} must be one of {allowed}, got {value!r}"
EXCEEDS = "{key} ({value}) must not exceed {other} ({limit})"
NOT_BOOL = "fact {key!r} must be true or false, not {type}"

Step = dict[str, Any]


def check_keys(
    facts: object, required: Collection[str], optional: Collection[str] = ()
) -> Mapping[str, object]:
    """The facts as a mapping, with every required key and no unknown key."""
    if not isinstance(facts, Mapping):
        raise ValueError(FACTS_NOT_DICT.format(type=type(facts).__name__))
    for key in required:
        if key not in facts:
            raise ValueError(MISSING.format(key=key))
    unknown = sorted(str(key) for key in facts if key not in required and key not in optional)
    if unknown:
        raise ValueError(UNEXPECTED.format(keys=", ".join(unknown)))
    return facts


def as_int(value: object, key: str, minimum: int | None = 0) -> int:
    """An int (not a bool) of at least `minimum` (None: any int)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(NOT_INT.format(key=key, type=type(value).__name__))
    if minimum is not None and value < minimum:
        raise ValueError(TOO_SMALL.format(key=key, minimum=minimum, value=value))
    return value


def count(facts: Mapping[str, object], key: str, minimum: int = 0) -> int:
    return as_int(facts[key], key, minimum)


def area(facts: Mapping[str, object], key: str) -> Decimal:
    """A non-negative decimal (string, int or Decimal; never a float)."""
    return parse_decimal(facts[key], f"fact {key!r}")


def choice(facts: Mapping[str, object], key: str, allowed: Collection[str]) -> str:
    value = facts[key]
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(NOT_IN.format(key=key, allowed=", ".join(allowed), value=value))
    return value


def flag(facts: Mapping[str, object], key: str, default: bool = False) -> bool:
    value = facts.get(key, default)
    if not isinstance(value, bool):
        raise ValueError(NOT_BOOL.format(key=key, type=type(value).__name__))
    return value


def not_above(value: Number, key: str, limit: Number, other: str) -> None:
    """`key` must not exceed `other` (present ≤ entitled, yes_area ≤ voted_area …)."""
    if value > limit:
        raise ValueError(EXCEEDS.format(key=key, value=show(value), other=other, limit=show(limit)))


def share_step(
    key: str, value: Number, base: Number, fraction: Fraction, *, strict: bool, **extra: object
) -> Step:
    """One threshold test, with the exact arithmetic for the results page.

    `ok` is value > fraction × base (strict, 过半数/超过) or value ≥ fraction × base (以上).
    A positive share of an empty base is never reached (so "≥ 3/4 of 0 voters" is not ok).
    `threshold` is fraction × base exactly; `min_count` is the smallest passing whole count
    when value and base are counts.
    """
    ok = more_than(value, base, fraction) if strict else at_least(value, base, fraction)
    if base == 0 and fraction > 0:
        ok = False
    threshold = fraction * Fraction(base)
    step: Step = {
        "key": key,
        "value": show(value),
        "base": show(base),
        "op": ">" if strict else ">=",
        "fraction": str(fraction),
        "threshold": str(threshold),
        "threshold_approx": approx(threshold),
        "ok": ok,
    }
    if isinstance(value, int) and isinstance(base, int):
        step["min_count"] = max(min_count(base, fraction, strict=strict), 1 if fraction else 0)
    step.update(extra)
    return step


def all_ok(steps: list[Step], *keys: str) -> bool:
    """True when every step with one of `keys` is ok (and at least one such step exists)."""
    chosen = [step["ok"] for step in steps if step["key"] in keys]
    return bool(chosen) and all(chosen)
