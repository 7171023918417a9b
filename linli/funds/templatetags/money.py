"""{{ amount|yuan }} → ¥12,345.60: money on every page as the services' messages show it (the
locale's number format would drop the thousands separator in Chinese)."""

from decimal import Decimal

from django import template

from linli.funds.money import yuan as _yuan

register = template.Library()


@register.filter
def yuan(amount) -> str:
    if amount is None or amount == "":
        return "—"
    try:
        return _yuan(Decimal(str(amount)))
    except ArithmeticError:
        return str(amount)
