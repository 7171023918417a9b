"""Signing in: each role lands on its home card; the second factor; lock-out; language switch."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("username", "role"),
    [("gridworker", "grid_worker"), ("handler", "department_handler")],
)
def test_role_lands_on_its_home_card(page, live_server, users, world, sign_in, username, role):
    sign_in(page, username)
    assert page.url == f"{live_server.url}/"
    cards = page.locator("section.role-card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-role", role)
    expect(page.locator(f"section.role-card[data-role={role}] h2")).to_contain_text(
        world.street.name
    )
    # The header shows who is signed in.
    expect(page.locator("header .who")).to_have_text(str(users[username]))


def test_grid_worker_browses_only_the_grid_compounds(page, live_server, users, world, sign_in):
    sign_in(page, "gridworker")
    with page.expect_navigation():
        page.locator("section.role-card[data-role=grid_worker] .actions a.button").first.click()
    # The grid's compounds are the grid worker's top places: a list, not one place.
    assert page.url == f"{live_server.url}/places/"
    names = [t.strip() for t in page.locator(".place-list a").all_inner_texts()]
    expected = sorted(c.name for c in world.grids[0].compounds.all())
    assert sorted(n.split(maxsplit=1)[-1] for n in names) == expected


def _totp_token(device) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp()
    return f"{totp.token():0{device.digits}d}"


def _submit(page):
    with page.expect_navigation():
        page.click("form button[type=submit].primary")


def test_bureau_passes_second_factor_lands_home_and_reads_audit_trail(
    page, live_server, users, sign_in
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=users["bureau"], name="t", confirmed=True)
    sign_in(page, "bureau")
    assert page.url.startswith(f"{live_server.url}/accounts/second-factor/"), page.url
    expect(page.locator("input[name=token]")).to_be_visible()

    # A wrong code is refused with an error on the field.
    good = _totp_token(device)
    page.fill("input[name=token]", "000000" if good != "000000" else "111111")
    _submit(page)
    assert page.url.startswith(f"{live_server.url}/accounts/second-factor/"), page.url
    expect(page.locator(".field.has-error input[name=token]")).to_have_count(1)
    # django-otp throttles a device for 1 s after a failure (then 2 s, 4 s …).
    page.wait_for_timeout(1100)

    page.fill("input[name=token]", _totp_token(device))
    _submit(page)
    assert page.url == f"{live_server.url}/", page.url
    card = page.locator("section.role-card[data-role=district_bureau]")
    expect(card).to_have_count(1)

    # The card's audit link (also in the header) opens the audit trail.
    with page.expect_navigation():
        card.locator(".actions a.button[href='/audit/']").click()
    assert page.url == f"{live_server.url}/audit/"
    table = page.locator("table.events")
    expect(table).to_be_visible()
    actions = table.locator("tbody td code").all_inner_texts()
    assert "demo.street.build" in actions
    assert "accounts.role.assign" in actions


def test_second_factor_guards_every_page_and_keeps_the_destination(
    page, live_server, users, sign_in
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=users["bureau"], name="t", confirmed=True)
    sign_in(page, "bureau")
    for path in ("/", "/audit/", "/places/"):
        page.goto(f"{live_server.url}{path}")
        assert page.url.startswith(f"{live_server.url}/accounts/second-factor/"), (path, page.url)
    expect(page.locator("table.events")).to_have_count(0)
    page.goto(f"{live_server.url}/audit/")
    page.fill("input[name=token]", _totp_token(device))
    _submit(page)
    assert page.url == f"{live_server.url}/audit/", page.url
    expect(page.locator("table.events")).to_be_visible()


def test_lock_out_after_five_wrong_passwords(page, live_server, users, sign_in):
    # English, so the two messages can be told apart by their words.
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    for attempt in range(1, 6):
        sign_in(page, "worker", "Wrong-pass-999!")
        assert page.url.startswith(f"{live_server.url}/accounts/login/")
        error = page.locator("div.error[role=alert]")
        if attempt < 5:
            expect(error).to_have_text("The user name or password is wrong.")
        else:
            expect(error).to_contain_text("This account is locked")

    sign_in(page, "worker")  # the right password, too late
    assert page.url.startswith(f"{live_server.url}/accounts/login/"), page.url
    expect(page.locator("div.error[role=alert]")).to_contain_text("This account is locked")
    expect(page.locator("section.role-card")).to_have_count(0)
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/"), "signed in despite the lock"


def test_language_switch_to_english_and_back(page, live_server, users, sign_in):
    sign_in(page, "worker")
    # Simplified Chinese by default: no English label in the header or the greeting.
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(page.locator("h1")).not_to_contain_text("Welcome")
    english = page.locator("header form.lang button[value=en]")
    expect(english).to_have_text("English")
    with page.expect_navigation():
        english.click()
    assert page.url == f"{live_server.url}/"
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("Welcome")
    chinese = page.locator("header form.lang button[value=zh-hans]")
    expect(chinese).to_have_text("中文")
    # The choice sticks across pages.
    page.goto(f"{live_server.url}/places/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    with page.expect_navigation():
        page.locator("header form.lang button[value=zh-hans]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("header form.lang button[value=en]")).to_have_text("English")
