"""A community worker on a 360 px phone: home card → place browser → down to a household."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def crumbs(page) -> list[str]:
    return [t.strip() for t in page.locator("nav.crumbs > a, nav.crumbs > span").all_inner_texts()]


def assert_fits_phone(page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert page.viewport_size["width"] == 360
    assert width <= 360 + 1, f"{where}: horizontal overflow, scrollWidth={width}px"


def test_worker_drills_committee_to_household_on_phone(
    phone, live_server, users, world, sign_in, results_dir
):
    page = phone
    page.goto(f"{live_server.url}/accounts/login/")
    assert_fits_phone(page, "sign-in")
    page.screenshot(path=str(results_dir / "phone-0-sign-in.png"), full_page=True)
    sign_in(page, "worker")
    # The stylesheet is in force, so the overflow checks measure the real phone layout.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(245, 247, 250)"
    assert page.url == f"{live_server.url}/"
    card = page.locator("section.role-card[data-role=community_worker]")
    expect(card).to_have_count(1)
    expect(card.locator("h2")).to_contain_text(world.committees[0].name)
    assert_fits_phone(page, "home")
    page.screenshot(path=str(results_dir / "phone-1-home.png"), full_page=True)

    with page.expect_navigation():
        card.locator(".actions a.button").first.click()
    committee = world.committees[0]
    assert re.search(rf"/places/{committee.pk}/$", page.url), page.url

    trail = []
    levels = ["committee", "compound", "building", "household"]
    for depth, level in enumerate(levels):
        h1 = page.locator("h1").inner_text().strip()
        here = crumbs(page)
        if depth == 0:
            assert h1 == committee.name
            # 上海市 › 徐汇区 › 梧桐路街道 above the committee.
            assert here == [world.city.name, world.district.name, world.street.name]
        else:
            assert h1 != trail[-1][0], f"{level}: heading did not change"
            assert len(here) == len(trail[-1][1]) + 1, f"{level}: breadcrumbs did not grow: {here}"
            # The place we came from is now the last crumb, and a link back to it.
            assert here[-1] == trail[-1][0]
            expect(page.locator("nav.crumbs > a").last).to_have_text(trail[-1][0])
        trail.append((h1, here))
        assert_fits_phone(page, level)
        page.screenshot(path=str(results_dir / f"phone-{depth + 2}-{level}.png"), full_page=True)

        children = page.locator("section#children .place-list a")
        if level == "household":
            expect(children).to_have_count(0)
            break
        expect(children.first).to_be_visible()
        child_name = children.first.inner_text().strip()
        with page.expect_navigation():
            children.first.click()
        assert page.locator("h1").inner_text().strip() == child_name

    assert trail[0][0] == committee.name
    assert len(trail[-1][1]) == 6  # city › district › street › committee › compound › building
