import pytest

from linli.funds import perms
from linli.funds.choices import FundKind
from linli.funds.services import fund_open, manage_perm
from linli.funds.tests.factories import allocated, fund

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("key", "own", "sibling", "street"),
    [
        # committee staff: their committee's funds, nothing above or beside
        ("worker", {"view", "manage"}, set(), set()),
        ("director", {"view", "manage"}, set(), set()),
        ("secretary", {"view", "manage"}, set(), set()),
        ("stranger", set(), {"view", "manage"}, set()),
        # the street office: allocates and oversees committees, runs the street's own funds
        ("selfgov", {"view", "allocate"}, {"view", "allocate"}, {"view", "allocate", "manage"}),
        # the district looks on
        ("bureau", {"view"}, {"view"}, {"view"}),
        ("resident", set(), set(), set()),
        ("dispatcher", set(), set(), set()),
        ("handler", set(), set(), set()),
        ("admin", set(), set(), set()),
    ],
)
def test_who_may_do_what_with_funds_where(world, users, key, own, sibling, street):
    """Held on the first committee's funds, the sibling committee's, the street's foundation."""
    allocated(world)
    allocated(world, committee=world.committees[1])
    foundation = fund_open(actor=None, place=world.street, kind=FundKind.FOUNDATION)
    user = users[key]

    def held(target):
        # "manage" is what the services ask: a committee's or the street's own permission.
        names = {
            "view": perms.VIEW_FUNDS,
            "manage": manage_perm(target),
            "allocate": perms.ALLOCATE,
        }
        return {short for short, perm in names.items() if user.has_perm(perm, target)}

    assert held(fund(world.committees[0])) == own
    assert held(fund(world.committees[1])) == sibling
    assert held(foundation) == street


def test_a_committees_funds_and_the_streets_funds_need_different_permissions(world):
    allocated(world)
    assert manage_perm(fund(world.committees[0], FundKind.OFFICE)) == perms.MANAGE_FUNDS
    foundation = fund_open(actor=None, place=world.street, kind=FundKind.FOUNDATION)
    assert manage_perm(foundation) == perms.MANAGE_STREET_FUNDS
