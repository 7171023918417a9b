"""Issue 4, "Done when": one work order walked through every level in the browser.

A resident reports on a phone (photo, htmx category suggestion, compound); a grid worker verifies
on a phone; the grid centre registers and dispatches; the department returns it once, is
re-dispatched, its head asks for more time, it reports it handled, fails the check, reworks,
passes; the supervisor closes; the resident rates it on "my reports"; the metrics page counts
all of it.

Every step is a click on the order page's own action form (a <details id="act-CODE"> per action
the viewer may take), matched by ids and field names, so the Chinese UI needs no translation.
"""

import struct
import time
import zlib

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}
DESCRIPTION = "3号楼门口的窨井盖碎了，晚上很危险"


def png(width: int = 48, height: int = 32, seed: int = 0) -> bytes:
    """A small, valid PNG (a colour gradient), made without any imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00"
        + b"".join(
            bytes(((x * 5 + seed * 40) % 256, (y * 7) % 256, (x + y + seed * 60) % 256))
            for x in range(width)
        )
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def photo(name: str, seed: int = 0) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": png(seed=seed)}


def fits_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


@pytest.fixture
def seeded(world, settings, tmp_path):
    """The category/time-limit seed of migration 0004, which an earlier transactional test's
    flush may have emptied; photos go to a temporary media folder."""
    from linli.workorders.categories import categories_load
    from linli.workorders.models import Category

    settings.MEDIA_ROOT = tmp_path / "media"
    if not Category.objects.exists():
        categories_load()
    return world


@pytest.fixture
def personas(browser, sign_in, users, seeded):
    """One signed-in page per persona, each in its own browser context (its own cookies)."""
    contexts = []

    def open_as(username: str, *, phone: bool = False):
        options = {"locale": "zh-CN"}
        if phone:
            options.update(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(15_000)
        contexts.append(context)
        page = sign_in(context.new_page(), username)
        assert "/accounts/login/" not in page.url, f"{username} could not sign in"
        return page

    yield open_as
    for context in contexts:
        context.close()


class Walk:
    """Drives one order through its action forms and checks the state after each step."""

    def __init__(self, live_server, order_pk: int):
        self.url = f"{live_server.url}/orders/{order_pk}/"
        self.pk = order_pk

    def open(self, page):
        page.goto(self.url)
        return page

    def act(self, page, code: str, state: str, *, fill=None, select=None, check=None, photos=()):
        """Open the order, unfold the action's form, fill it, submit; expect `state` after."""
        self.open(page)
        form = page.locator(f"details#act-{code}")
        expect(form, f"{code} is not offered").to_have_count(1)
        form.locator("summary").click()
        for name, value in (fill or {}).items():
            form.locator(f"[name={name}]").fill(str(value))
        for name, value in (select or {}).items():
            form.locator(f"select[name={name}]").select_option(str(value))
        for name, value in (check or {}).items():
            form.locator(f"input[name={name}][value='{value}']").check()
        if photos:
            form.locator("input[name=photos]").set_input_files(list(photos))
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert page.url == self.url, f"{code}: landed on {page.url}"
        errors = page.locator("details.action .error, [data-conflict]").all_inner_texts()
        assert not errors, f"{code}: {errors}"
        expect(page.locator(".messages li.success")).to_have_count(1)
        self.expect_state(page, state)
        return page

    @staticmethod
    def expect_state(page, state: str):
        expect(page.locator("header.place-head [data-state]")).to_have_attribute(
            "data-state", state
        )


def test_one_order_walks_through_every_level(personas, live_server, world, users, results_dir):
    from linli.workorders.choices import Level, Source, State
    from linli.workorders.models import Attachment, Category, WorkOrder

    started = time.monotonic()
    compound = world.compounds[0]
    department = world.departments[0]
    assert not WorkOrder.objects.exists()

    # --- 1. the resident reports on a phone ---------------------------------------------------
    resident = personas("resident", phone=True)
    resident.goto(f"{live_server.url}/orders/report/")
    assert fits_phone(resident)
    resident.set_input_files("input[name=photos]", [photo("manhole.png")])
    expect(resident.locator("#photo-preview img")).to_have_count(1)
    resident.fill("textarea[name=description]", DESCRIPTION)
    # htmx suggests a category from the text and preselects it.
    chooser = resident.locator("#id_category")
    expect(chooser).not_to_have_value("")
    suggested_pk = int(chooser.input_value())
    # The preselected one is the top of the "suggested" group that came with it.
    top = resident.locator("#id_category optgroup").first.locator("option").first
    assert top.get_attribute("value") == str(suggested_pk)
    category = Category.objects.get(pk=suggested_pk)
    assert category.public and not category.self_governable, category
    resident.select_option("select[name=place]", str(compound.pk))
    resident.fill("input[name=address]", "3号楼门口")
    resident.screenshot(path=str(results_dir / "workorder-report-phone.png"), full_page=True)
    with resident.expect_navigation():
        resident.locator("#report-form button[type=submit].primary").click()
    order = WorkOrder.objects.get()
    walk = Walk(live_server, order.pk)
    assert resident.url == walk.url
    assert (order.state, order.level, order.source) == (
        State.REPORTED,
        Level.STREET,
        Source.RESIDENT,
    )
    assert order.category_id == suggested_pk and order.place_id == compound.pk
    assert order.reporter_id == users["resident"].pk and order.grid_id == world.grids[0].pk
    walk.expect_state(resident, State.REPORTED)
    thumb = resident.locator("section.card > p.photos img.thumb")
    expect(thumb).to_have_count(1)
    thumb.scroll_into_view_if_needed()
    # Served through the permission-checked view, and really an image.
    resident.wait_for_function(
        "img => img.complete && img.naturalWidth === 48", arg=thumb.element_handle()
    )
    # The reporter has nothing to act on yet and sees roles, not staff names.
    expect(resident.locator("details.action")).to_have_count(0)
    assert fits_phone(resident)

    # --- 2. the grid centre sends a grid worker to verify; the worker confirms on a phone -----
    dispatcher = personas("dispatcher")
    supervisor = personas("supervisor")
    handler = personas("handler")
    depthead = personas("depthead")
    gridworker = personas("gridworker", phone=True)

    # The new report waits on the dispatch console.
    dispatcher.goto(f"{live_server.url}/orders/console/")
    expect(dispatcher.locator(f"table.console tr[data-order='{order.pk}']")).to_have_count(1)
    dispatcher.screenshot(path=str(results_dir / "workorder-console.png"), full_page=True)
    walk.act(
        dispatcher,
        "send_verify",
        State.VERIFYING,
        select={"assignee": users["gridworker"].pk},
    )
    walk.open(gridworker)
    expect(gridworker.locator("details#act-verify")).to_have_count(1)
    gridworker.screenshot(path=str(results_dir / "workorder-order-phone.png"), full_page=True)
    assert fits_phone(gridworker)
    walk.act(gridworker, "verify", State.ACCEPTED, photos=[photo("verify.png", 1)])
    assert fits_phone(gridworker)

    # --- 3. registered and dispatched to the department ---------------------------------------
    walk.act(supervisor, "register", State.REGISTERED, select={"urgency": "normal"})
    walk.act(dispatcher, "dispatch", State.DISPATCHED, select={"department": department.pk})

    # --- 4. the department returns it once; approved; dispatched again ------------------------
    walk.act(handler, "sign_for", State.IN_PROGRESS)
    walk.act(
        handler,
        "request_return",
        State.RETURN_REQUESTED,
        fill={"reason": "产权属于物业，非本部门职责"},
    )
    walk.act(dispatcher, "approve_return", State.REGISTERED)
    walk.act(dispatcher, "dispatch", State.DISPATCHED, select={"department": department.pk})
    walk.act(handler, "sign_for", State.IN_PROGRESS)

    # --- 5. more time asked (by the department's head) and granted; handled ------------------
    walk.open(handler)
    expect(handler.locator("details#act-feedback")).to_have_count(1)
    expect(handler.locator("details#act-request_extension")).to_have_count(0)
    walk.act(
        depthead,
        "request_extension",
        State.EXTENSION_REQUESTED,
        fill={"reason": "需采购配件", "hours": 8},
    )
    walk.act(supervisor, "approve_extension", State.IN_PROGRESS)
    walk.act(
        handler,
        "feedback",
        State.FEEDBACK,
        fill={"reason": "已更换井盖"},
        photos=[photo("fixed.png", 2)],
    )

    # --- 6. the check fails; rework; handled again; the check passes; closed ------------------
    walk.act(dispatcher, "send_check", State.CHECKING, select={"assignee": users["gridworker"].pk})
    walk.act(
        gridworker,
        "check",
        State.CHECKING,
        check={"passed": "fail"},
        photos=[photo("loose.png", 3)],
    )
    walk.act(supervisor, "rework", State.IN_PROGRESS, fill={"reason": "井盖仍有松动"})
    walk.act(
        handler,
        "feedback",
        State.FEEDBACK,
        fill={"reason": "已加固"},
        photos=[photo("fixed-again.png", 4)],
    )
    walk.act(dispatcher, "send_check", State.CHECKING, select={"assignee": users["gridworker"].pk})
    walk.act(
        gridworker, "check", State.CHECKING, check={"passed": "pass"}, photos=[photo("ok.png", 5)]
    )
    walk.act(supervisor, "close", State.CLOSED)

    # --- 7. the resident rates it on "my reports" ----------------------------------------------
    resident.goto(f"{live_server.url}/orders/mine/")
    card = resident.locator(f"article.my-order[data-order='{order.pk}']")
    expect(card.locator("form.rate")).to_have_count(1)
    assert fits_phone(resident)
    with resident.expect_navigation():
        card.locator("form.rate button[name=rating][value='5']").click()
    assert resident.url.endswith("/orders/mine/")
    card = resident.locator(f"article.my-order[data-order='{order.pk}']")
    expect(card.locator(f".badge.state-{State.RATED}")).to_have_count(1)
    expect(card.locator("form.rate")).to_have_count(0)

    # --- the log and the counters ---------------------------------------------------------------
    order.refresh_from_db()
    assert order.state == State.RATED and order.rating == 5
    assert (order.return_count, order.rework_count, order.extension_hours) == (1, 1, 8)
    log = list(order.transitions.order_by("at", "id").values_list("action", flat=True))
    assert log == [
        "report",
        "send_verify",
        "verify",
        "register",
        "dispatch",
        "sign_for",
        "request_return",
        "approve_return",
        "dispatch",
        "sign_for",
        "request_extension",
        "approve_extension",
        "feedback",
        "send_check",
        "check",
        "rework",
        "feedback",
        "send_check",
        "check",
        "close",
        "rate",
    ]
    assert len(log) == 21
    # One photo each: report, verify, two feedbacks, two checks.
    assert Attachment.objects.filter(order=order).count() == 6

    # --- 8. off the console (closed); the metrics page counts it ----------------------------------
    dispatcher.goto(f"{live_server.url}/orders/console/")
    expect(dispatcher.locator("table.console tr[data-order]")).to_have_count(0)

    supervisor.goto(f"{live_server.url}/orders/metrics/")
    table = supervisor.locator("table.metrics-table")
    expect(table).to_be_visible()
    supervisor.screenshot(path=str(results_dir / "workorder-metrics.png"), full_page=True)

    def figure(code: str):
        cell = table.locator(f"tr[data-metric={code}] td").first
        return cell.inner_text().strip(), cell.get_attribute("title") or ""

    assert figure("reports") == ("1", "")
    assert figure("registered") == ("1", "")
    assert figure("dispatched") == ("2", "")
    assert figure("return_rate") == ("50.0%", "1/2")
    assert figure("return_approved_rate") == ("100.0%", "1/1")
    assert figure("extension_rate") == ("100.0%", "1/1")
    assert figure("closed") == ("1", "")
    assert figure("reworks") == ("1", "")
    assert figure("rework_rate") == ("100.0%", "1/1")
    assert figure("rated") == ("1", "")
    assert figure("satisfied_rate") == ("100.0%", "1/1")

    assert time.monotonic() - started < 60
