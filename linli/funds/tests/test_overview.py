from decimal import Decimal
from fractions import Fraction

import pytest

from linli.accounts.roles import Role
from linli.accounts.services import role_assign, user_create
from linli.demo.builder import _bulk_places
from linli.funds.choices import FundKind
from linli.funds.overview import CommitteeFigures, committees_overview
from linli.funds.services import commitment_post, payment_post, refund_post
from linli.funds.tests.factories import LAST_YEAR, a_commitment, allocated, fund
from linli.places.choices import PlaceKind
from linli.places.models import Place

pytestmark = pytest.mark.django_db

D = Decimal
YEAR = LAST_YEAR.year


@pytest.fixture
def books(world):
    """Committee 0: ¥100,000 allocated last year (split 20/50/30 by the default profile), a
    self-governance commitment of ¥10,000 paid ¥4,000 then refunded ¥500, a community-service
    commitment of ¥6,000; committee 1: ¥50,000, a commitment of ¥3,000 paid in full. Committee
    2 has nothing."""
    first, second = world.committees[0], world.committees[1]
    allocated(world, "100000.00", on=LAST_YEAR)
    sg = a_commitment(world, "10000.00", on=LAST_YEAR)
    payment_post(actor=None, commitment=sg, amount="4000.00", on=LAST_YEAR)
    refund_post(actor=None, commitment=sg, amount="500.00", on=LAST_YEAR)
    commitment_post(
        actor=None,
        fund=fund(first, FundKind.COMMUNITY_SERVICE),
        title="助老服务",
        amount="6000.00",
        on=LAST_YEAR,
    )
    allocated(world, "50000.00", committee=second, on=LAST_YEAR)
    other = a_commitment(world, "3000.00", committee=second, on=LAST_YEAR)
    payment_post(actor=None, commitment=other, amount="3000.00", on=LAST_YEAR)
    return first, second


def _warm(viewer):
    viewer.scope_prefixes("funds.view")  # the grants are loaded once per request
    return viewer


def test_each_committees_figures_for_the_year(world, users, books):
    page = committees_overview(viewer=_warm(users["selfgov"]), place=world.street, year=YEAR)
    assert [row.place for row in page] == world.committees
    one, two, three = page.object_list
    assert (one.allocated, one.available, one.committed, one.spent, one.returned) == (
        D("100000.00"),
        D("84000.00"),  # 100,000 − 10,000 − 6,000
        D("12500.00"),  # 10,000 − 4,000 + 500, and 6,000
        D("3500.00"),
        D("0.00"),
    )
    assert one.held == D("96500.00") and one.spent_in_year == D("3500.00")
    assert one.spent_rate == Fraction(3500, 100000) and one.spent_percent == D("3.5")
    assert (two.allocated, two.available, two.committed, two.spent) == (
        D("50000.00"),
        D("47000.00"),
        D("0.00"),
        D("3000.00"),
    )
    assert two.spent_percent == D("6.0")
    assert three.allocated == 0 and three.spent_rate is None and three.spent_percent is None
    assert page.totals.committees == 3 and page.totals.place == world.street
    assert (page.totals.allocated, page.totals.spent, page.totals.spent_percent) == (
        D("150000.00"),
        D("6500.00"),
        D("4.3"),  # 6,500 / 150,000 = 4.333… → 4.3
    )
    assert page.totals.held == D("143500.00")  # 84,000 + 12,500 + 47,000


def test_the_year_selects_the_allocation_and_the_spending_not_the_balances(world, users, books):
    page = committees_overview(viewer=_warm(users["bureau"]), place=world.street, year=YEAR + 1)
    one = page.object_list[0]
    assert one.allocated == 0 and one.spent_in_year == 0 and one.spent_percent is None
    assert one.available == D("84000.00") and one.spent == D("3500.00")


def test_a_percentage_rounds_towards_zero():
    row = CommitteeFigures(
        place=None, year=YEAR, allocated=D("3.00"), spent_in_year=D("2.00")
    )  # 66.666…
    assert row.spent_percent == D("66.6")
    row.spent_in_year = D("-1.00")  # refunds of an earlier year's payments exceed the year's
    assert row.spent_percent == D("-33.3")


def test_a_committee_worker_sees_only_their_committee(world, users, books):
    first, second = books
    mine = committees_overview(viewer=_warm(users["worker"]), place=world.street, year=YEAR)
    assert [row.place for row in mine] == [first]
    assert mine.totals.committees == 1 and mine.totals.allocated == D("100000.00")
    other = committees_overview(viewer=_warm(users["worker"]), place=second, year=YEAR)
    assert list(other) == [] and other.totals.committees == 0 and other.totals.allocated == 0
    # A committee lists just itself.
    itself = committees_overview(viewer=users["stranger"], place=second, year=YEAR)
    assert [row.place for row in itself] == [second]
    for key in ("resident", "dispatcher", "handler", "gridworker", "property"):
        page = committees_overview(viewer=users[key], place=world.street, year=YEAR)
        assert list(page) == [] and page.totals.allocated == 0


def test_another_streets_office_sees_nothing_of_this_street(world, users, books):
    (elsewhere,) = _bulk_places(
        [Place(kind=PlaceKind.STREET, name="别处街道", parent=world.district)]
    )
    _bulk_places([Place(kind=PlaceKind.COMMITTEE, name="别处居委", parent=elsewhere)])
    office = user_create(actor=None, username="elsewhere", password="Test-pass-123!")
    role_assign(actor=None, user=office, role=Role.SELF_GOVERNANCE_OFFICE, place=elsewhere)
    page = committees_overview(viewer=office, place=world.street, year=YEAR)
    assert list(page) == [] and page.totals.committees == 0 and page.totals.allocated == 0
    district = committees_overview(viewer=office, place=world.district, year=YEAR)
    assert [row.place.name for row in district] == ["别处居委"]
    assert district.totals.allocated == 0
    bureau = committees_overview(viewer=users["bureau"], place=world.district, year=YEAR)
    assert bureau.totals.committees == 4 and bureau.totals.allocated == D("150000.00")


def test_the_totals_cover_every_page(world, users, books):
    viewer = _warm(users["selfgov"])
    first = committees_overview(viewer=viewer, place=world.street, year=YEAR, per_page=2)
    last = committees_overview(viewer=viewer, place=world.street, year=YEAR, page=2, per_page=2)
    assert [row.place for row in first] == world.committees[:2]
    assert [row.place for row in last] == world.committees[2:]
    assert first.paginator.num_pages == 2 and first.has_next() and not last.has_next()
    for page in (first, last):
        assert page.totals.committees == 3
        assert (page.totals.allocated, page.totals.committed) == (D("150000.00"), D("12500.00"))
    # Out of range or nonsense: the last or first page, as Paginator.get_page answers.
    assert committees_overview(viewer=viewer, place=world.street, year=YEAR, page=9).number == 1
    assert committees_overview(viewer=viewer, place=world.street, year=YEAR, page="x").number == 1


def _more_committees(world, n: int) -> list[Place]:
    return _bulk_places(
        [
            Place(kind=PlaceKind.COMMITTEE, name=f"新增{i}居委", parent=world.street)
            for i in range(n)
        ]
    )


def test_the_number_of_queries_does_not_grow_with_the_committees(
    world, users, books, django_assert_max_num_queries
):
    viewer = _warm(users["selfgov"])
    with django_assert_max_num_queries(4):
        small = committees_overview(viewer=viewer, place=world.street, year=YEAR, per_page=2)
    assert len(small) == 2
    for committee in _more_committees(world, 17):
        allocated(world, "1000.00", committee=committee, on=LAST_YEAR)
    with django_assert_max_num_queries(4):
        large = committees_overview(viewer=viewer, place=world.street, year=YEAR, per_page=20)
    assert len(large) == 20
    assert all(row.allocated == D("1000.00") for row in large.object_list[3:])
    assert large.totals.allocated == D("167000.00")
    bureau = _warm(users["bureau"])
    with django_assert_max_num_queries(4):
        district = committees_overview(viewer=bureau, place=world.district, year=YEAR)
    assert district.totals.committees == 20


def test_nothing_to_show_runs_no_figure_queries(world, users, django_assert_num_queries):
    viewer = _warm(users["resident"])
    with django_assert_num_queries(0):  # no prefixes: an empty queryset, nothing to sum
        page = committees_overview(viewer=viewer, place=world.street, year=YEAR)
    assert list(page) == [] and page.totals.committees == 0
