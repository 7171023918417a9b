"""Exact threshold tests on `fractions.Fraction` (RULES.md §0.1).

以上 (at least) is inclusive and 过半数 / 超过 (more than) is strict (民法典 art. 1259; 过半数
read as 超过半数). Both tests cross-multiply integers, so they never round: two-thirds of 9 is
exactly 6, and 6666.67 m² is more than two-thirds of 10000.00 m² while 6666.66 m² is not.

Floats are refused everywhere (ValueError): a float such as 0.1 is not the number the user
typed. Areas arrive as decimal strings and go through `Decimal` to `Fraction` exactly.
"""

from decimal import Decimal, InvalidOperation
from fractions import Fraction

Number = int | Decimal | Fraction

FLOAT_REFUSED = "floats are not accepted ({what}); pass an int, a Decimal or a decimal string"
BOOL_REFUSED = "booleans are not numbers ({what})"
NOT_A_NUMBER = "{what} must be an int, a Decimal or a Fraction, not {type}"
NOT_FINITE = "{what} must be a finite number"
NEGATIVE = "{what} must not be negative"
BAD_FRACTION = "{what} must be a fraction like '2/3', got {value!r}"
TOO_LONG = "{what} has too many digits"

MAX_DIGITS = 30  # guard against absurd inputs (1e999999 would build a huge integer)
MAX_EXPONENT = 12


def to_fraction(value: object, what: str = "value") -> Fraction:
    """Convert an int, Decimal or Fraction to an exact Fraction; floats and bools are refused."""
    if isinstance(value, bool):
        raise ValueError(BOOL_REFUSED.format(what=what))
    if isinstance(value, float):
        raise ValueError(FLOAT_REFUSED.format(what=what))
    if isinstance(value, Fraction | int):
        return Fraction(value)
    if isinstance(value, Decimal):
        _check_decimal(value, what)
        return Fraction(value)
    raise ValueError(NOT_A_NUMBER.format(what=what, type=type(value).__name__))


def parse_decimal(value: object, what: str = "value") -> Decimal:
    """A non-negative decimal from a string (or an int/Decimal); floats are refused."""
    if isinstance(value, bool):
        raise ValueError(BOOL_REFUSED.format(what=what))
    if isinstance(value, float):
        raise ValueError(FLOAT_REFUSED.format(what=what))
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(
                f"{what} must be a decimal string like '86.50', got {value!r}"
            ) from None
    if not isinstance(value, Decimal):
        raise ValueError(
            f"{what} must be a decimal string like '86.50', not {type(value).__name__}"
        )
    _check_decimal(value, what)
    if value < 0:
        raise ValueError(NEGATIVE.format(what=what))
    return value


def parse_fraction(value: object, what: str = "fraction") -> Fraction:
    """A Fraction from '2/3', '0.5', an int, a Decimal or a Fraction (never a float)."""
    if isinstance(value, str):
        if len(value) > 40:
            raise ValueError(TOO_LONG.format(what=what))
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(BAD_FRACTION.format(what=what, value=value)) from None
    return to_fraction(value, what)


def _check_decimal(value: Decimal, what: str) -> None:
    if not value.is_finite():
        raise ValueError(NOT_FINITE.format(what=what))
    digits = value.as_tuple()
    if len(digits.digits) > MAX_DIGITS or abs(int(digits.exponent)) > MAX_EXPONENT:
        raise ValueError(TOO_LONG.format(what=what))


def _operands(n: Number, d: Number, frac: Fraction | str) -> tuple[Fraction, Fraction, Fraction]:
    num, den = to_fraction(n, "n"), to_fraction(d, "d")
    if num < 0 or den < 0:
        raise ValueError(NEGATIVE.format(what="n and d"))
    return num, den, parse_fraction(frac)


def at_least(n: Number, d: Number, frac: Fraction | str) -> bool:
    """以上: n ≥ frac × d (inclusive). With d = 0 this is trivially true (0 ≥ 0)."""
    num, den, f = _operands(n, d, frac)
    return num * f.denominator >= f.numerator * den


def more_than(n: Number, d: Number, frac: Fraction | str) -> bool:
    """过半数 / 超过: n > frac × d (strict): exactly half of an even number fails."""
    num, den, f = _operands(n, d, frac)
    return num * f.denominator > f.numerator * den


def min_count(d: int, frac: Fraction, *, strict: bool) -> int:
    """The smallest integer count that passes the test against an integer base `d`."""
    product = frac * d
    floor = product.numerator // product.denominator
    if strict:
        return floor + 1
    return floor if product.denominator == 1 else floor + 1


def show(value: Number) -> str:
    """Exact text for a number: ints as-is, Decimals without exponent, Fractions as 'p/q'."""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def approx(value: Fraction, places: int = 2) -> str:
    """A rounded decimal for display next to an exact fraction (half away from zero)."""
    scale = 10**places
    scaled = abs(value) * scale
    rounded = (scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2)
    sign = "-" if value < 0 else ""
    whole, part = divmod(rounded, scale)
    return f"{sign}{whole}.{part:0{places}d}" if places else f"{sign}{whole}"
