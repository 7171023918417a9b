"""The defaults of a street's fund profile, each with where it comes from (RULES.md §4).

There is no municipal regulation of 自治金: each street sets its own numbers. Until a street
enters its own document's numbers in the admin, these apply. Every default carries its source
status in the legend of RULES.md (the same `Verified` values the vote rules use), and the admin
shows it beside the field: an UNVERIFIED number is an assumption to replace.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linli.funds.choices import NegativeItem, YearEndRule
from linli.votes.rules.registry import Verified

STATUS_LABELS = {
    Verified.PRIMARY: _("verified (primary legal text read in full)"),
    Verified.OFFICIAL_WEB: _("verified on a government web page (one street's document)"),
    Verified.SECONDARY: _("secondary source (news or third-party page), not verified"),
    Verified.UNVERIFIED: _("UNVERIFIED assumption: replace with the street's own number"),
    Verified.POLICY: _("project policy (engineering default, not law)"),
}


@dataclass(frozen=True)
class Default:
    value: object
    status: Verified
    source: str  # the RULES.md row and the document it cites (not translated: citations)
    note: Promise | str = ""


DEFAULTS: dict[str, Default] = {
    "min_self_governance_share": Default(
        Decimal("0.30"),
        Verified.OFFICIAL_WEB,
        "RULES.md ZZ-03: 宝吴街办〔2020〕7号 (Baoshan 吴淞街道 only)",
        _("Self-governance project money must be at least this share of the working funds."),
    ),
    "self_governance_share": Default(
        Decimal("0.30"),
        Verified.POLICY,
        "RULES.md ZZ-03 minimum, used as the split",
    ),
    "office_share": Default(
        Decimal("0.20"),
        Verified.POLICY,
        "RULES.md ZZ-04: 办公经费 ≤ ¥50,000 of about ¥250,000 (共和新路街道 2021)",
    ),
    "office_cap": Default(
        None,
        Verified.OFFICIAL_WEB,
        "RULES.md ZZ-04: 办公经费 ≤ ¥50,000 (Jing'an 共和新路街道 2021 only); empty = no cap",
    ),
    "per_project_cap": Default(
        Decimal("20000.00"),
        Verified.UNVERIFIED,
        "RULES.md §4 per_project_cap_cny; ZZ-09 (🟡): projects of about ¥10,000–20,000",
    ),
    "publicity_days": Default(
        7, Verified.UNVERIFIED, "RULES.md §4 publicity_days: common practice, not verified"
    ),
    "year_end": Default(
        YearEndRule.RETURN,
        Verified.OFFICIAL_WEB,
        "RULES.md ZZ-06: used within the year, no carry-over (Yangpu 新江湾城街道 only)",
    ),
    "return_open_commitments": Default(
        True,
        Verified.POLICY,
        "reading of RULES.md ZZ-06 (“used within the year”): unpaid commitments lapse too",
    ),
    "negative_list": Default(
        [item.value for item in NegativeItem],
        Verified.UNVERIFIED,
        "RULES.md §4 negative_list: typical items from fiscal discipline, no Shanghai text read",
    ),
    "require_deliberation": Default(
        True,
        Verified.SECONDARY,
        "RULES.md SH-05 (✅, Art. 16: a mechanism for 自治项目) and ZZ-08 (🟡: per project)",
    ),
    "min_participation_rate": Default(
        None,
        Verified.UNVERIFIED,
        "RULES.md §4 participation_metrics: street-specific thresholds; empty = none",
    ),
    "require_invoice": Default(
        True, Verified.OFFICIAL_WEB, "RULES.md ZZ-06: lawful invoice for every payment"
    ),
    "payment_approvals": Default(
        2,
        Verified.OFFICIAL_WEB,
        "RULES.md ZZ-06: approval form signed by the handler and the committee director",
    ),
    "min_reviewers": Default(
        3, Verified.POLICY, "project policy: a panel of at least three (no text read)"
    ),
    "pass_score": Default(60, Verified.POLICY, "project policy: 60 of 100 points (no text read)"),
    "disclosure_days": Default(
        30, Verified.POLICY, "RULES.md §4 disclosure_after_completion_days (🔧)"
    ),
}


def default(name: str):
    value = DEFAULTS[name].value
    return list(value) if isinstance(value, list) else value


def source_text(name: str) -> str:
    """“Default 0.30 · verified on a government web page … · RULES.md ZZ-03 …” for the admin."""
    item = DEFAULTS[name]
    shown = "—" if item.value is None else item.value
    if isinstance(shown, list):
        shown = ", ".join(shown)
    return _("Default %(value)s · source status %(code)s: %(status)s · %(source)s") % {
        "value": shown,
        "code": item.status.value,
        "status": STATUS_LABELS[item.status],
        "source": item.source,
    }


def default_negative_list() -> list[str]:
    return default("negative_list")
