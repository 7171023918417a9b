"""A community worker on a 360 px phone looks a resident up by phone number and reveals it."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PHONE_NUMBER = "13912345678"


def fits_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 361


def test_worker_finds_a_resident_by_phone_and_reveals_it_with_a_reason(
    phone, live_server, users, world, sign_in, results_dir
):
    from linli.core.models import AuditEvent
    from linli.people.tests.factories import a_household, a_resident

    household = a_household(world.committees[0])
    resident = a_resident(household, name="钱秀英", phone=PHONE_NUMBER)
    a_resident(household, name="钱小明", phone="13800000000", relation="child")

    page = phone
    sign_in(page, "worker")
    page.goto(f"{live_server.url}/people/")
    # Typed the way people say it, with spaces; the look-up is exact, by the keyed hash.
    page.fill("input[name=q]", "139 1234 5678")
    page.locator("form.people-search button[type=submit]").click()
    lookup = page.locator("#results .lookup")
    expect(lookup).to_have_attribute("data-lookup", "phone")
    rows = page.locator("#results table.register tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("钱秀英")
    expect(rows.first).to_contain_text("139****5678")
    assert PHONE_NUMBER not in page.content()
    assert "?q=" not in page.url  # the number never lands in a URL
    assert fits_phone(page)
    page.screenshot(path=str(results_dir / "register-1-search.png"), full_page=True)

    with page.expect_navigation():
        rows.first.locator("a").first.click()
    assert page.url.endswith(f"/people/residents/{resident.pk}/")
    ident = page.locator("#ident-phone")
    expect(ident.locator(".ident-masked")).to_have_text("139****5678")
    ident.locator("summary").click()
    reason = ident.locator("input[name=reason]")
    reason.fill("回访报修")
    ident.locator("button[type=submit]").click()
    expect(page.locator("#ident-phone .revealed")).to_have_text(PHONE_NUMBER)
    assert fits_phone(page)
    page.screenshot(path=str(results_dir / "register-2-revealed.png"), full_page=True)

    event = AuditEvent.objects.get(action="people.resident.reveal_phone")
    assert event.actor_id == users["worker"].pk
    assert event.reason == "回访报修"
    assert str(resident.pk) == event.object_id
    assert PHONE_NUMBER not in str(event.changes)
