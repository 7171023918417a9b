"""The published scoring criteria and the words that give a negative-list item away.

The criteria are the ones the street's panel scores against, shown to applicants, reviewers and
residents alike. They follow the usual shape of Shanghai streets' 自治项目 review forms (need and
resident participation, feasibility, budget, public benefit, sustainability); no single binding
text exists, so they are project policy (RULES.md legend 🔧) until a street gives its own.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linli.funds.choices import NegativeItem


@dataclass(frozen=True)
class Criterion:
    code: str
    label: Promise
    points: int  # the most a reviewer can give


REVIEW_CRITERIA = (
    Criterion("need", _("Residents' need and participation in deciding it"), 25),
    Criterion("feasibility", _("Feasibility of the plan"), 25),
    Criterion("budget", _("A reasonable, itemised budget"), 20),
    Criterion("benefit", _("Public benefit and number of beneficiaries"), 20),
    Criterion("sustainability", _("Sustainability after the money is spent"), 10),
)
EVALUATION_CRITERIA = (
    Criterion("goals", _("Goals achieved as planned"), 30),
    Criterion("money", _("Money used as budgeted, accounts published"), 25),
    Criterion("residents", _("Residents' involvement in carrying it out"), 25),
    Criterion("lasting", _("Lasting results"), 20),
)
CRITERIA = {"review": REVIEW_CRITERIA, "evaluation": EVALUATION_CRITERIA}

# Words in a budget line or a payment's memo that show it buys a negative-list item whatever
# category it was filed under. Deliberately short: each word is unambiguous in a budget.
NEGATIVE_WORDS = {
    NegativeItem.STAFF_PAY: ("工资", "奖金", "加班费", "福利费"),
    NegativeItem.BANQUETS: ("宴请", "聚餐", "酒席", "酒水"),
    NegativeItem.GIFTS: ("购物卡", "礼品卡", "代金券", "红包"),
    NegativeItem.COMMERCIAL: ("营利", "盈利"),
}

SATISFIED_FROM = 4  # on the 1–5 survey scale, 4 (满意) and 5 (非常满意) count as satisfied
