"""Fund pages: who sees which, the street office's forms, statements, the street overview,
exports, query budgets and the public accounts."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from linli.funds.choices import AccountKind, FundKind
from linli.funds.models import Account, Donation, Fund, Transaction, YearClose
from linli.funds.services import donation_post, payment_post
from linli.funds.tests.factories import LAST_YEAR, a_commitment, a_foundation, allocated, fund

pytestmark = pytest.mark.django_db

D = Decimal


def _cells(response) -> list[list]:
    book = load_workbook(BytesIO(response.content), read_only=True)
    return [list(row) for sheet in book for row in sheet.iter_rows(values_only=True)]


def _account(place, fund_kind=FundKind.SELF_GOVERNANCE, kind=AccountKind.AVAILABLE) -> Account:
    return Account.objects.get(fund__place=place, fund__kind=fund_kind, kind=kind)


@pytest.fixture
def books(world):
    """The first committee's books: an allocation, a commitment, a payment."""
    allocated(world)  # 100,000: office 20,000, service 50,000, self-governance 30,000
    commitment = a_commitment(world, "10000")
    payment_post(actor=None, commitment=commitment, amount="2500", payee="某某装修公司")
    return commitment


# --- /funds/ and who sees what --------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "target"),
    [
        ("worker", "committee"),
        ("stranger", "sibling"),
        ("selfgov", "street"),
        ("bureau", "district"),
        ("resident", "public"),
    ],
)
def test_funds_home_sends_each_role_to_its_own_books(client_as, world, key, target):
    expected = {
        "committee": reverse("funds:overview", args=[world.committees[0].pk]),
        "sibling": reverse("funds:overview", args=[world.committees[1].pk]),
        "street": reverse("funds:overview", args=[world.street.pk]),
        "district": reverse("funds:street_overview", args=[world.district.pk]),
        "public": reverse("funds:public", args=[world.committees[0].pk]),
    }[target]
    response = client_as(key).get(reverse("funds:overview"))
    assert response.status_code == 302 and response["Location"] == expected


def test_funds_home_needs_sign_in_and_a_role(client, client_as, world):
    assert client.get(reverse("funds:overview")).status_code == 302
    assert client_as("handler").get(reverse("funds:overview")).status_code == 404


def test_committee_overview_shows_balances_allocations_commitments(client_as, world, books):
    response = client_as("worker").get(reverse("funds:overview", args=[world.committees[0].pk]))
    assert response.status_code == 200
    page = response.content.decode()
    # Self-governance: 30,000 in, 10,000 committed of which 2,500 paid.
    assert "20,000.00" in page and "7,500.00" in page and "2,500.00" in page
    assert "楼道灯更换" in page and "100,000.00" in page
    statement = reverse("funds:statement", args=[_account(world.committees[0]).pk])
    assert statement in page
    assert 'id="manage"' not in page  # a committee worker does not allocate
    assert "PROJECTS SECTION" not in page  # the placeholder is a template comment


@pytest.mark.parametrize("key", ["worker", "director", "selfgov", "bureau"])
def test_the_committee_page_opens_for_its_staff_and_overseers(client_as, world, books, key):
    url = reverse("funds:overview", args=[world.committees[0].pk])
    assert client_as(key).get(url).status_code == 200


@pytest.mark.parametrize("key", ["stranger", "resident", "handler", "gridworker", "dispatcher"])
def test_other_committees_and_other_roles_get_404(client_as, world, books, key):
    client = client_as(key)
    committee = world.committees[0]
    account = _account(committee)
    for url in (
        reverse("funds:overview", args=[committee.pk]),
        reverse("funds:allocate", args=[committee.pk]),
        reverse("funds:year_close", args=[committee.pk]),
        reverse("funds:statement", args=[account.pk]),
        reverse("funds:statement_xlsx", args=[account.pk]),
        reverse("funds:street_overview", args=[world.street.pk]),
        reverse("funds:street_overview_xlsx", args=[world.street.pk]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"total": "1"}).status_code in (404, 405), url
    assert not Transaction.objects.filter(amount=1).exists()


def test_a_worker_may_see_but_not_allocate(client_as, world, books):
    client = client_as("worker")
    committee = world.committees[0]
    assert client.get(reverse("funds:allocate", args=[committee.pk])).status_code == 403
    response = client.post(reverse("funds:allocate", args=[committee.pk]), {"total": "5000"})
    assert response.status_code == 403
    response = client.post(reverse("funds:year_close", args=[committee.pk]), {"year": 2025})
    assert response.status_code == 403
    assert not YearClose.objects.exists()


# --- the street office's forms --------------------------------------------------------------


def test_street_office_posts_an_allocation_split_by_the_profile(client_as, world):
    client = client_as("selfgov")
    committee = world.committees[0]
    page = client.get(reverse("funds:overview", args=[committee.pk])).content.decode()
    assert 'id="manage"' in page and "30%" in page  # the profile's shares are shown
    response = client.post(
        reverse("funds:allocate", args=[committee.pk]), {"total": "¥80,000", "memo": "2026年度"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("funds:overview", args=[committee.pk])
    txn = Transaction.objects.get(kind="allocation", place=committee)
    assert txn.amount == D("80000.00") and txn.posted_by.username == "selfgov"
    assert Fund.objects.filter(place=committee).count() == 3


def test_an_allocation_in_parts_below_the_minimum_share_is_refused_on_the_field(client_as, world):
    client = client_as("selfgov")
    url = reverse("funds:allocate", args=[world.committees[0].pk])
    response = client.post(
        url, {"office": "30000", "community_service": "60000", "self_governance": "10000"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    # The parts together break the minimum share: said above the three parts, with figures.
    message = form.non_field_errors()[0]
    assert "10,000.00" in message and "0.3" in message
    assert message in response.content.decode()
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"total": "abc"}, "total"),
        ({"total": "12.345"}, "total"),
        ({"total": "-5"}, "total"),
        ({"total": "1" * 40}, "total"),
        ({"total": "NaN"}, "total"),
        ({"total": "1e400"}, "total"),
        ({"total": ""}, "total"),
        ({"total": "1000", "date": "2999-01-01"}, "date"),
        ({"total": "1000", "date": "1800-01-01"}, "date"),
        ({"total": "1000", "date": "yesterday"}, "date"),
        ({"office": "x"}, "office"),
        ({"total": "\x00"}, "total"),
    ],
)
def test_allocation_form_refuses_garbage_with_a_message(client_as, world, data, field):
    response = client_as("selfgov").post(
        reverse("funds:allocate", args=[world.committees[0].pk]), data
    )
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert not Transaction.objects.exists()


def test_a_street_allocation_has_no_parts(client_as, world):
    client = client_as("selfgov")
    url = reverse("funds:allocate", args=[world.street.pk])
    assert "self_governance" not in client.get(url).context["form"].fields
    assert client.post(url, {"total": "50000"}).status_code == 302
    assert fund(world.street, FundKind.CO_GOVERNANCE).accounts.count() == 5


def test_closing_a_year_from_the_page(client_as, world):
    allocated(world, on=LAST_YEAR)
    client = client_as("selfgov")
    url = reverse("funds:year_close", args=[world.committees[0].pk])
    for garbage in ({"year": "x"}, {"year": "1999"}, {}):
        response = client.post(url, garbage)
        assert response.status_code == 200 and response.context["form"].errors["year"]
    not_over = client.post(url, {"year": timezone.localdate().year + 1})
    assert not_over.status_code == 200 and not_over.context["form"].errors["year"]
    response = client.post(url, {"year": 2025})
    assert response.status_code == 302
    assert YearClose.objects.filter(fund__place=world.committees[0], year=2025).count() == 3
    again = client.post(url, {"year": 2025})
    assert again.status_code == 200 and again.context["form"].errors["year"]
    page = client.get(response["Location"]).content.decode()
    assert 'id="closes"' in page


def test_foundation_and_donations_from_the_street_page(client_as, world):
    client = client_as("selfgov")
    street = world.street
    assert client.get(reverse("funds:donate", args=[street.pk])).status_code == 404
    response = client.post(reverse("funds:foundation_open", args=[street.pk]), {"name": ""})
    assert response.status_code == 200 and response.context["form"].errors["name"]
    response = client.post(
        reverse("funds:foundation_open", args=[street.pk]), {"name": "梧桐路社区基金会"}
    )
    assert response.status_code == 302
    url = reverse("funds:donate", args=[street.pk])
    nameless = client.post(url, {"amount": "500", "donor_kind": "unit", "donor_name": ""})
    assert nameless.status_code == 200 and nameless.context["form"].errors["donor_name"]
    bad_kind = client.post(url, {"amount": "500", "donor_kind": "alien"})
    assert bad_kind.context["form"].errors["donor_kind"]
    ok = client.post(url, {"amount": "500", "donor_kind": "resident", "donor_name": "张三"})
    assert ok.status_code == 302
    assert Donation.objects.get().donor_name == "张三"


def test_a_committee_worker_cannot_record_donations(client_as, world):
    a_foundation(world)
    response = client_as("worker").get(reverse("funds:donate", args=[world.street.pk]))
    assert response.status_code == 404  # the street's books are outside a committee's scope


# --- statements -----------------------------------------------------------------------------


def test_statement_shows_opening_running_and_closing_balances(client_as, world):
    allocated(world, on=LAST_YEAR)
    allocated(world, "50000")
    commitment = a_commitment(world, "4000", title="议事厅桌椅")
    account = _account(world.committees[0])
    client = client_as("worker")
    response = client.get(reverse("funds:statement", args=[account.pk]), {"year": "2026"})
    assert response.status_code == 200
    statement = response.context["statement"]
    assert statement.opening == D("30000.00")
    assert [r.balance for r in statement.rows] == [D("45000.00"), D("41000.00")]
    assert statement.closing == D("41000.00")
    page = response.content.decode()
    assert "议事厅桌椅" in page and "41,000.00" in page
    assert commitment.title in page
    # Garbage years fall back to this year instead of failing.
    for year in ("abc", "99999", "-1", ""):
        assert (
            client.get(reverse("funds:statement", args=[account.pk]), {"year": year}).status_code
            == 200
        )


def test_statement_xlsx_has_the_figures(client_as, world):
    allocated(world, on=LAST_YEAR)
    allocated(world, "50000")
    a_commitment(world, "4000", title="=HYPERLINK(1)")
    account = _account(world.committees[0])
    response = client_as("worker").get(
        reverse("funds:statement_xlsx", args=[account.pk]), {"year": "2026"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _cells(response)
    balances = [row[7] for row in rows if row and len(row) > 7 and row[7] is not None]
    assert [D(str(b)) for b in balances[-4:]] == [
        D("30000"),
        D("45000"),
        D("41000"),
        D("41000"),
    ]
    assert any(row[4] == "=HYPERLINK(1)" for row in rows if row and len(row) > 4)


# --- the street overview --------------------------------------------------------------------


def test_street_overview_lists_every_committee_with_totals(client_as, world, books):
    allocated(world, "50000", committee=world.committees[1])
    response = client_as("selfgov").get(
        reverse("funds:street_overview", args=[world.street.pk]), {"year": "2026"}
    )
    assert response.status_code == 200
    page = response.context["page"]
    assert page.totals.committees == len(world.committees)
    assert page.totals.allocated == D("150000.00")
    html = response.content.decode()
    assert world.committees[1].name in html and "150,000.00" in html
    assert (
        client_as("selfgov")
        .get(reverse("funds:street_overview", args=[world.street.pk]), {"page": "zz", "year": "x"})
        .status_code
        == 200
    )


def test_street_overview_xlsx_holds_every_committee_and_the_totals(client_as, world, books):
    allocated(world, "50000", committee=world.committees[1])
    response = client_as("selfgov").get(
        reverse("funds:street_overview_xlsx", args=[world.street.pk]), {"year": "2026"}
    )
    assert response.status_code == 200
    rows = [row for row in _cells(response) if row and row[1]]
    names = [row[1] for row in rows]
    for committee in world.committees:
        assert committee.name in names
    first = next(row for row in rows if row[1] == world.committees[0].name)
    assert D(str(first[2])) == D("100000") and D(str(first[5])) == D("2500")
    assert D(str(rows[-1][2])) == D("150000")


def test_a_district_sees_the_overview_of_its_streets(client_as, world, books):
    response = client_as("bureau").get(reverse("funds:street_overview", args=[world.district.pk]))
    assert response.status_code == 200
    assert response.context["page"].totals.allocated == D("100000.00")


# --- query budgets --------------------------------------------------------------------------


def _grow(world, n: int) -> None:
    for index in range(n):
        committee = world.committees[index % len(world.committees)]
        allocated(world, "1000", committee=committee)
        c = a_commitment(world, "100", committee=committee, title=f"项目{index}")
        payment_post(actor=None, commitment=c, amount="10")


@pytest.mark.parametrize("size", [1, 12])
def test_pages_run_a_fixed_number_of_queries(client_as, world, size, django_assert_max_num_queries):
    _grow(world, size)
    committee = world.committees[0]
    client = client_as("selfgov")
    account = _account(committee)
    urls = [
        reverse("funds:overview", args=[committee.pk]),
        reverse("funds:statement", args=[account.pk]),
        reverse("funds:street_overview", args=[world.street.pk]),
        reverse("funds:public", args=[committee.pk]),
    ]
    for url in urls:
        client.get(url)  # warm the session
        with django_assert_max_num_queries(24):
            assert client.get(url).status_code == 200


# --- public accounts ------------------------------------------------------------------------


def test_public_accounts_need_no_sign_in_and_show_no_personal_data(client, world, books):
    committee = world.committees[0]
    allocated(world, "5000", on=LAST_YEAR)
    foundation = a_foundation(world)
    donation_post(
        actor=None, fund=foundation, amount="300", donor_kind="resident", donor_name="李四"
    )
    donation_post(
        actor=None,
        fund=foundation,
        amount="400",
        donor_kind="unit",
        donor_name="匿名单位甲",
        anonymous=True,
    )
    donation_post(actor=None, fund=foundation, amount="500", donor_kind="unit", donor_name="某银行")
    response = client.get(reverse("funds:public", args=[committee.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "30,000.00" in page and "100,000.00" in page and "5,000.00" in page
    assert "某某装修公司" not in page  # payees are not on the board
    street = client.get(reverse("funds:public", args=[world.street.pk])).content.decode()
    assert "某银行" in street and "500.00" in street
    assert "李四" not in street and "匿名单位甲" not in street
    printable = client.get(reverse("funds:public_print", args=[committee.pk]))
    assert printable.status_code == 200 and "100,000.00" in printable.content.decode()


def test_public_accounts_show_closed_years(client, world):
    from linli.funds.services import year_end_close

    allocated(world, on=LAST_YEAR)
    year_end_close(actor=None, place=world.committees[0], year=2025)
    response = client.get(reverse("funds:public", args=[world.committees[0].pk]))
    assert [year for year, _rows in response.context["closes"]] == [2025]
    assert 'data-year="2025"' in response.content.decode()


@pytest.mark.parametrize("kind", ["city", "district", "compound"])
def test_public_accounts_exist_for_committees_and_streets_only(client, world, kind):
    place = {"city": world.city, "district": world.district, "compound": world.compounds[0]}[kind]
    assert client.get(reverse("funds:public", args=[place.pk])).status_code == 404
    assert client.get(reverse("funds:public_print", args=[place.pk])).status_code == 404


def test_the_board_links_to_the_public_accounts(client, world):
    committee = world.committees[0]
    page = client.get(reverse("notices:board", args=[committee.pk])).content.decode()
    assert reverse("funds:public", args=[committee.pk]) in page


# --- navigation -----------------------------------------------------------------------------


def test_home_and_nav_link_the_funds_for_roles_that_see_them(client_as, world):
    home = client_as("worker").get(reverse("accounts:home")).content.decode()
    assert reverse("funds:overview") in home and "funds-card" in home


def test_no_funds_link_for_residents(client_as, world):
    home = client_as("resident").get(reverse("accounts:home")).content.decode()
    assert "funds-card" not in home
