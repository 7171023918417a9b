from django import template
from django.utils.translation import gettext_lazy as _

from linli.places.choices import KIND_ORDER

register = template.Library()

KIND_PLURAL = {
    "city": _("cities"),
    "district": _("districts"),
    "street": _("streets"),
    "committee": _("committees"),
    "compound": _("compounds"),
    "building": _("buildings"),
    "household": _("households"),
}


@register.filter
def kind_counts(counts: dict[str, int]) -> list[tuple[str, int]]:
    """{kind: n} as (plural label, n) pairs, from the top of the tree down."""
    return [(KIND_PLURAL[k], counts[k]) for k in KIND_ORDER if counts.get(k)]
