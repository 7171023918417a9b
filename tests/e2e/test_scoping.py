"""Out-of-scope places look absent: a sibling committee's worker gets a 404."""

import pytest

pytestmark = pytest.mark.e2e


def test_sibling_committee_worker_gets_404(page, live_server, users, world, sign_in):
    first, second = world.committees[0], world.committees[1]
    sign_in(page, "worker2")
    assert page.url == f"{live_server.url}/"

    own = page.goto(f"{live_server.url}/places/{second.pk}/")
    assert own.status == 200
    assert page.locator("h1").inner_text().strip() == second.name

    response = page.goto(f"{live_server.url}/places/{first.pk}/")
    assert response.status == 404
    assert first.name not in page.content()

    # Nor anything under the first committee.
    compound = world.compounds[0]
    assert compound.parent_id == first.pk
    assert page.goto(f"{live_server.url}/places/{compound.pk}/").status == 404
