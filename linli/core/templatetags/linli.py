from django import template
from django.utils.translation import pgettext_lazy

from linli.places.choices import KIND_ORDER

register = template.Library()

KIND_PLURAL = {
    "city": pgettext_lazy("counter", "cities"),
    "district": pgettext_lazy("counter", "districts"),
    "street": pgettext_lazy("counter", "streets"),
    "committee": pgettext_lazy("counter", "committees"),
    "compound": pgettext_lazy("counter", "compounds"),
    "building": pgettext_lazy("counter", "buildings"),
    "household": pgettext_lazy("counter", "households"),
}


@register.filter
def kind_counts(counts: dict[str, int]) -> list[tuple[str, int]]:
    """{kind: n} as (plural label, n) pairs, from the top of the tree down."""
    return [(KIND_PLURAL[k], counts[k]) for k in KIND_ORDER if counts.get(k)]
