import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from linli.people.tests.factories import a_household, a_resident
from linli.workorders import services
from linli.workorders.choices import Kind, Source, State
from linli.workorders.models import Attachment, Category, RoutingRule, ServiceItem, WorkOrder
from linli.workorders.services import order_act
from linli.workorders.tests.conftest import a_category, a_report, photo

pytestmark = pytest.mark.django_db

REPORT_URL = reverse("workorders:report")
MINE_URL = reverse("workorders:mine")
STAFF_NAMES = ("李调度", "孙晓燕", "何值班长", "赵师傅", "钱科长")


def public_category(*, self_governable=False) -> Category:
    """A category offered to residents (many components are for staff only)."""
    return Category.objects.filter(
        public=True, active=True, self_governable=self_governable
    ).order_by("service_code")[0]


def now():
    return timezone.now()


def order_url(order):
    return reverse("workorders:order", args=[order.pk])


def act_url(order, action):
    return reverse("workorders:act", args=[order.pk, action])


@pytest.fixture
def fresh_order(world, users):
    """An order reported now (the views act at the real time)."""
    from linli.workorders.services import order_report

    def make(actor_key="gridworker", **fields):
        fields.setdefault("when", now() - dt.timedelta(minutes=5))
        return order_report(
            actor=users[actor_key] if actor_key else None, report=a_report(world, **fields)
        )

    return make


def registered(users, order):
    return order_act(actor=users["supervisor"], order=order, action="register")


def dispatched(world, users, order, department=None):
    order = registered(users, order)
    return order_act(
        actor=users["dispatcher"],
        order=order,
        action="dispatch",
        department=department or world.departments[0],
    )


def report_data(world, **overrides):
    data = {
        "description": "3号楼门口的窨井盖碎了，晚上很危险",
        "category": public_category().pk,
        "place": world.compounds[0].pk,
        "address": "3号楼门口",
        "photos": [photo()],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- report -----------------------------------------------------------------------------------


def test_a_resident_reports_with_a_photo_and_the_chosen_category(world, users, client_as):
    client = client_as("resident")
    page = client.get(REPORT_URL)
    assert page.status_code == 200
    html = page.content.decode()
    # The resident picks among the compounds of their own committee only.
    assert world.compounds[0].name in html and world.compounds[1].name in html
    assert world.compounds[2].name not in html
    assert 'accept="image/*"' in html and "capture" in html
    assert "report.js" in html and "<script>" not in html  # no inline script (CSP)

    category = public_category()
    response = client.post(REPORT_URL, report_data(world, category=category.pk))
    order = WorkOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == order_url(order)
    assert (order.category, order.source, order.reporter) == (
        category,
        Source.RESIDENT,
        users["resident"],
    )
    assert order.place == world.compounds[0] and order.address == "3号楼门口"
    assert order.attachments.count() == 1
    page = client.get(response["Location"])
    assert str(order.pk) in page.content.decode()
    assert any(str(order.pk) in str(m) for m in page.context["messages"])


def test_a_report_may_give_a_point_instead_of_a_compound(world, client_as):
    compound = world.compounds[1]
    data = report_data(world, place=None, lat=str(compound.lat), lng=str(compound.lng))
    response = client_as("resident").post(REPORT_URL, data)
    assert response.status_code == 302
    order = WorkOrder.objects.get()
    assert order.place == compound and order.lat == compound.lat


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "井" * 4001}, "description"),
        ({"place": None}, "place"),
        ({"category": None}, "category"),
        (
            {"photos": [SimpleUploadedFile("note.txt", b"just text", content_type="text/plain")]},
            "photos",
        ),
        (  # named and typed as a photo, but its bytes are not one
            {"photos": [SimpleUploadedFile("x.jpg", b"<html>", content_type="image/jpeg")]},
            "photos",
        ),
    ],
)
def test_bad_reports_are_refused_with_the_input_kept(world, client_as, overrides, field):
    response = client_as("resident").post(REPORT_URL, report_data(world, **overrides))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert not WorkOrder.objects.exists()
    html = response.content.decode()
    if overrides.get("description", "x").strip() and len(overrides.get("description", "")) < 4000:
        assert "窨井盖碎了" in html  # the text is not lost
    assert "data-photos-lost" in html  # photos must be chosen again, and the page says so


def test_a_point_outside_every_street_is_refused(world, client_as):
    data = report_data(world, place=None, lat="39.900000", lng="116.400000")
    response = client_as("resident").post(REPORT_URL, data)
    assert response.status_code == 200 and response.context["form"].errors["place"]


def test_a_place_outside_the_reporters_compounds_is_refused(world, client_as):
    data = report_data(world, place=world.compounds[-1].pk)
    response = client_as("resident").post(REPORT_URL, data)
    assert response.status_code == 200 and response.context["form"].errors["place"]


def test_staff_without_the_report_permission_get_404(client_as):
    assert client_as("dispatcher").get(REPORT_URL).status_code == 404


def test_a_grid_worker_reports_on_patrol_in_their_grid(world, users, client_as):
    client = client_as("gridworker")
    html = client.get(REPORT_URL).content.decode()
    grid = set(world.grids[0].compounds.values_list("name", flat=True))
    assert all(name in html for name in grid)
    response = client.post(REPORT_URL, report_data(world))
    assert response.status_code == 302
    assert WorkOrder.objects.get().source == Source.PATROL


def selected_option(html: str) -> str:
    match = re.search(r'<option value="(\d+)" selected>', html)
    return match.group(1) if match else ""


def test_the_category_is_suggested_from_the_text(client_as):
    client = client_as("resident")
    response = client.post(
        reverse("workorders:report_categories"),
        {"description": "小区门口的窨井盖破损了，有人差点踩空"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and response["HX-Trigger"] == "categories-updated"
    html = response.content.decode()
    assert "<html" not in html  # a fragment
    top = Category.objects.get(pk=selected_option(html))
    assert "井盖" in top.name and top.public
    # The top suggestion is preselected inside the "Suggested" group, listed once more below.
    assert html.count(f'<option value="{top.pk}"') == 2


def test_a_category_chosen_by_hand_is_kept(client_as):
    chosen = public_category(self_governable=True)
    data = {"description": "小区门口的窨井盖破损了", "category": chosen.pk}
    url = reverse("workorders:report_categories")
    suggested = client_as("resident").post(url, data).content.decode()
    assert selected_option(suggested) != str(chosen.pk)
    kept = client_as("resident").post(url, {**data, "category_chosen": "True"}).content.decode()
    assert selected_option(kept) == str(chosen.pk)


def test_a_similar_report_nearby_is_pointed_out(world, users, client_as, fresh_order):
    earlier = fresh_order(category=public_category(), when=now() - dt.timedelta(days=2))
    response = client_as("resident").post(
        reverse("workorders:report_similar"),
        {"category": earlier.category_id, "place": world.compounds[0].pk},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="hint similar"') == 1
    # Not the resident's own report: no number, no link, no description.
    assert "data-similar" not in html and f"#{earlier.pk}" not in html
    assert order_url(earlier) not in html and "窨井盖碎了" not in html
    own = fresh_order(
        actor_key="resident", source=Source.RESIDENT, category=public_category(), when=now()
    )
    html = (
        client_as("resident")
        .post(
            reverse("workorders:report_similar"),
            {"category": own.category_id, "place": world.compounds[0].pk},
        )
        .content.decode()
    )
    assert order_url(own) in html  # their own earlier report: they can follow it
    other = client_as("resident").post(
        reverse("workorders:report_similar"),
        {"category": public_category(self_governable=True).pk, "place": world.compounds[0].pk},
    )
    assert "data-similar" not in other.content.decode()


# --- the order page ---------------------------------------------------------------------------


def test_the_order_page_offers_only_the_actions_the_role_may_take(
    world, users, client_as, fresh_order
):
    order = registered(users, fresh_order())
    dispatcher = client_as("dispatcher").get(order_url(order))
    assert dispatcher.status_code == 200
    codes = [a["action"].code for a in dispatcher.context["actions"]]
    assert "dispatch" in codes and "register" not in codes
    assert act_url(order, "dispatch") in dispatcher.content.decode()
    gridworker = client_as("gridworker").get(order_url(order))
    assert gridworker.status_code == 200
    assert act_url(order, "dispatch") not in gridworker.content.decode()

    order = order_act(
        actor=users["dispatcher"], order=order, action="dispatch", department=world.departments[0]
    )
    handler = client_as("handler").get(order_url(order))
    codes = {a["action"].code for a in handler.context["actions"]}
    assert {"sign_for", "request_return"} <= codes
    assert "dispatch" not in codes and "approve_return" not in codes
    # The return form says until when a return is possible (T12: sign-for deadline + grace).
    until = timezone.localtime(services.return_due(order)).strftime("%Y-%m-%d %H:%M")
    returning = next(a for a in handler.context["actions"] if a["action"].code == "request_return")
    assert until in returning["form"].fields["reason"].help_text
    assert until in handler.content.decode()


def test_the_dispatch_form_suggests_the_routed_department(world, users, client_as, fresh_order):
    order = registered(users, fresh_order())
    street_rule = RoutingRule.objects.create(
        street=world.street, category=order.category, department=world.departments[1]
    )
    grid_rule = RoutingRule.objects.create(
        street=world.street,
        grid=order.grid,
        category=order.category,
        department=world.departments[2],
    )
    grid_rule.co_departments.set([world.departments[3]])
    page = client_as("dispatcher").get(order_url(order))
    form = next(a["form"] for a in page.context["actions"] if a["action"].code == "dispatch")
    assert form.initial["department"] == world.departments[2].pk
    assert form.initial["co_departments"] == [world.departments[3].pk]
    grid_rule.delete()
    page = client_as("dispatcher").get(order_url(order))
    form = next(a["form"] for a in page.context["actions"] if a["action"].code == "dispatch")
    assert form.initial["department"] == street_rule.department_id


def test_acting_by_post_moves_the_state(world, users, client_as, fresh_order):
    order = registered(users, fresh_order())
    client = client_as("dispatcher")
    response = client.post(
        act_url(order, "dispatch"),
        {
            "version": order.version,
            "department": world.departments[0].pk,
            "co_departments": [world.departments[1].pk],
        },
    )
    assert response.status_code == 302 and response["Location"] == order_url(order)
    order.refresh_from_db()
    assert order.state == State.DISPATCHED and order.department == world.departments[0]
    assert list(order.co_departments.all()) == [world.departments[1]]

    handler = client_as("handler")
    response = handler.post(act_url(order, "sign_for"), {"version": order.version})
    assert response.status_code == 302
    order.refresh_from_db()
    # More time is the department head's to ask (T13).
    response = client_as("depthead").post(
        act_url(order, "request_extension"),
        {"version": order.version, "reason": "需采购配件", "hours": "8"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == State.EXTENSION_REQUESTED and order.pending["hours"] == 8


def test_missing_fields_of_an_action_are_form_errors(world, users, client_as, fresh_order):
    order = dispatched(world, users, fresh_order())
    order = order_act(actor=users["handler"], order=order, action="sign_for")
    response = client_as("handler").post(
        act_url(order, "feedback"), {"version": order.version, "reason": "已更换"}
    )
    assert response.status_code == 200
    form = next(a["form"] for a in response.context["actions"] if a["action"].code == "feedback")
    assert form.errors["photos"]
    order.refresh_from_db()
    assert order.state == State.IN_PROGRESS
    response = client_as("handler").post(
        act_url(order, "feedback"),
        {"version": order.version, "reason": "已更换", "photos": [photo()]},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == State.FEEDBACK and order.attachments.count() == 2


def test_a_stale_form_gets_a_conflict(world, users, client_as, fresh_order):
    order = registered(users, fresh_order())
    shown = order.version
    client = client_as("dispatcher")
    data = {"version": shown, "department": world.departments[0].pk}
    assert client.post(act_url(order, "dispatch"), data).status_code == 302
    again = client.post(act_url(order, "dispatch"), {**data, "department": world.departments[1].pk})
    assert again.status_code == 409
    assert again.context["conflict"]
    assert "data-conflict" in again.content.decode()
    order.refresh_from_db()
    assert order.department == world.departments[0]
    assert order.transitions.filter(action="dispatch").count() == 1
    # The state still allows it but someone acted meanwhile (a version behind): refused too.
    order = order_act(actor=users["handler"], order=order, action="sign_for")
    stale = client_as("handler").post(
        act_url(order, "request_return"), {"version": order.version - 1, "reason": "不归我们"}
    )
    assert stale.status_code == 409
    assert WorkOrder.objects.get(pk=order.pk).state == State.IN_PROGRESS


def test_an_action_the_user_may_not_take_is_403(world, users, client_as, fresh_order):
    order = registered(users, fresh_order())
    response = client_as("gridworker").post(
        act_url(order, "dispatch"),
        {"version": order.version, "department": world.departments[0].pk},
    )
    assert response.status_code == 403
    assert WorkOrder.objects.get(pk=order.pk).state == State.REGISTERED
    assert client_as("dispatcher").post(act_url(order, "nonsense")).status_code == 404


def test_another_committees_worker_gets_404_everywhere(users, client_as, fresh_order):
    order = fresh_order(actor_key="resident", source=Source.RESIDENT)
    photo_id = order.attachments.get().pk
    client = client_as("stranger")
    assert client.get(order_url(order)).status_code == 404
    attachment = reverse("workorders:attachment", args=[order.pk, photo_id])
    assert client.get(attachment).status_code == 404
    response = client.post(act_url(order, "self_handle"), {"version": order.version})
    assert response.status_code == 404
    assert client.get(reverse("workorders:order", args=[999999])).status_code == 404


def test_photos_are_served_only_through_the_order(world, users, client_as, fresh_order):
    order = fresh_order(actor_key="resident", source=Source.RESIDENT)
    item = order.attachments.get()
    url = reverse("workorders:attachment", args=[order.pk, item.pk])
    response = client_as("resident").get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")
    page = client_as("resident").get(order_url(order)).content.decode()
    assert url in page and "/media/" not in page
    other = fresh_order()
    wrong = reverse("workorders:attachment", args=[order.pk, other.attachments.get().pk])
    assert client_as("dispatcher").get(wrong).status_code == 404


def test_the_reporter_sees_roles_not_staff_names(world, users, client_as, fresh_order):
    order = fresh_order(actor_key="resident", source=Source.RESIDENT, reporter_phone="13812345678")
    order = order_act(
        actor=users["dispatcher"], order=order, action="send_verify", assignee=users["gridworker"]
    )
    order = order_act(actor=users["gridworker"], order=order, action="verify", photos=[photo()])
    order = dispatched(world, users, order)
    resident = client_as("resident").get(order_url(order))
    html = resident.content.decode()
    assert resident.status_code == 200
    assert not any(name in html for name in STAFF_NAMES)
    assert "13812345678" not in html and "138****5678" not in html
    assert all(step.who == "" and step.role for step in resident.context["steps"])
    assert resident.context["actions"] == []
    staff = client_as("dispatcher").get(order_url(order)).content.decode()
    assert "李调度" in staff and "138****5678" in staff and "13812345678" not in staff
    # Not even staff see who reported it by name.
    assert "钱阿姨" not in staff


def test_a_dispatcher_sees_duplicate_candidates_and_rejects_one(
    world, users, client_as, fresh_order
):
    first = fresh_order(when=now() - dt.timedelta(hours=3))
    second = fresh_order(actor_key="resident", source=Source.RESIDENT)
    client = client_as("dispatcher")
    page = client.get(order_url(second))
    assert [c.order for c in page.context["duplicates"]] == [first]
    response = client.post(
        act_url(second, "reject"),
        {
            "version": second.version,
            "reason": "重复上报",
            "reject_reason": "duplicate",
            "duplicate_of": first.pk,
        },
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.state == State.REJECTED and second.duplicate_of == first
    # The reporter of the duplicate is told what became of the original.
    mine = client_as("resident").get(MINE_URL).content.decode()
    assert f'data-original="{first.pk}"' in mine


def test_a_check_result_is_recorded_as_pass_or_fail(world, users, client_as, fresh_order):
    order = dispatched(world, users, fresh_order())
    order = order_act(actor=users["handler"], order=order, action="sign_for")
    order = order_act(
        actor=users["handler"], order=order, action="feedback", reason="已修", photos=[photo()]
    )
    order = order_act(
        actor=users["dispatcher"], order=order, action="send_check", assignee=users["gridworker"]
    )
    response = client_as("gridworker").post(
        act_url(order, "check"), {"version": order.version, "passed": "fail", "photos": [photo()]}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.check_passed is False and order.state == State.CHECKING


# --- my reports -------------------------------------------------------------------------------


def test_my_reports_show_progress_and_take_a_rating(world, users, client_as, fresh_order):
    order = fresh_order(
        actor_key="resident",
        source=Source.RESIDENT,
        category=a_category(self_governable=True),
    )
    order = order_act(actor=users["worker"], order=order, action="self_handle")
    order = order_act(
        actor=users["worker"], order=order, action="rc_close", reason="已调解", photos=[photo()]
    )
    fresh_order()  # someone else's report is not listed
    client = client_as("resident")
    page = client.get(MINE_URL)
    assert page.status_code == 200
    (row,) = page.context["rows"]
    assert row.order == order and row.rate_form is not None
    assert [s.transition.action for s in row.steps] == ["report", "self_handle", "rc_close"]
    html = page.content.decode()
    assert "郑敏" not in html and 'name="rating" value="5"' in html
    response = client.post(
        act_url(order, "rate"), {"version": order.version, "rating": "5", "next": MINE_URL}
    )
    assert response.status_code == 302 and response["Location"] == MINE_URL
    order.refresh_from_db()
    assert (order.state, order.rating) == (State.RATED, 5)
    (row,) = client.get(MINE_URL).context["rows"]
    assert row.rate_form is None


def test_a_rating_link_elsewhere_is_not_followed(world, users, client_as, fresh_order):
    order = fresh_order(
        actor_key="resident", source=Source.RESIDENT, category=a_category(self_governable=True)
    )
    order = order_act(actor=users["worker"], order=order, action="self_handle")
    order = order_act(
        actor=users["worker"], order=order, action="rc_close", reason="已调解", photos=[photo()]
    )
    response = client_as("resident").post(
        act_url(order, "rate"),
        {"version": order.version, "rating": "4", "next": "https://evil.example/"},
    )
    assert response["Location"] == order_url(order)


# --- errands ----------------------------------------------------------------------------------


@pytest.fixture
def errand_world(world):
    item = ServiceItem.objects.create(
        street=world.street, code="YDL01", name="养老金资格认证", limit_days=5
    )
    household = a_household(world.committees[0])
    resident = a_resident(household, name="周阿婆")
    return item, resident


def test_a_committee_worker_records_an_errand(world, users, client_as, errand_world):
    item, resident = errand_world
    client = client_as("worker")
    page = client.get(reverse("workorders:errand_new"))
    assert page.status_code == 200 and item.name in page.content.decode()
    found = client.post(reverse("workorders:errand_residents"), {"q": "周阿"})
    assert found.status_code == 200 and "周阿婆" in found.content.decode()
    response = client.post(
        reverse("workorders:errand_new"),
        {"service_item": item.pk, "beneficiary": resident.pk, "description": "行动不便，代办认证"},
    )
    order = WorkOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == order_url(order)
    assert (order.kind, order.state, order.beneficiary) == (
        Kind.ERRAND,
        State.RC_HANDLING,
        resident,
    )


def test_an_errand_for_another_committees_resident_is_refused(
    world, users, client_as, errand_world
):
    item, resident = errand_world
    client = client_as("stranger")
    assert (
        "周阿婆"
        not in client.post(reverse("workorders:errand_residents"), {"q": "周阿"}).content.decode()
    )
    response = client.post(
        reverse("workorders:errand_new"),
        {"service_item": item.pk, "beneficiary": resident.pk, "description": "代办"},
    )
    assert response.status_code == 200 and response.context["form"].errors["beneficiary"]
    assert not WorkOrder.objects.exists()
    assert client_as("resident").get(reverse("workorders:errand_new")).status_code == 404


# --- query budgets ----------------------------------------------------------------------------


def test_the_order_page_runs_a_bounded_number_of_queries(
    world, users, client_as, fresh_order, django_assert_max_num_queries
):
    order = fresh_order(actor_key="resident", source=Source.RESIDENT)
    order = order_act(
        actor=users["dispatcher"], order=order, action="send_verify", assignee=users["gridworker"]
    )
    order = order_act(actor=users["gridworker"], order=order, action="verify", photos=[photo()])
    order = registered(users, order)
    for _ in range(5):
        fresh_order()
    client = client_as("dispatcher")
    client.get(order_url(order))
    with django_assert_max_num_queries(16):
        assert client.get(order_url(order)).status_code == 200


def test_my_reports_run_a_bounded_number_of_queries(
    world, users, client_as, fresh_order, django_assert_max_num_queries
):
    for index in range(20):
        order = fresh_order(
            actor_key="resident",
            source=Source.RESIDENT,
            when=now() - dt.timedelta(hours=index + 1),
        )
        order_act(
            actor=users["dispatcher"],
            order=order,
            action="send_verify",
            assignee=users["gridworker"],
        )
    client = client_as("resident")
    with django_assert_max_num_queries(12):
        page = client.get(MINE_URL)
    assert page.status_code == 200 and len(page.context["rows"]) == 20
    assert Attachment.objects.count() == 20


# --- admin ------------------------------------------------------------------------------------


def test_the_admin_lists_the_work_order_tables_and_orders_are_read_only(
    world, users, client_as, fresh_order
):
    order = fresh_order(reporter_phone="13812345678")
    client = client_as("admin")
    for model in (
        "category",
        "routingrule",
        "serviceitem",
        "calendaryear",
        "calendarday",
        "open311client",
    ):
        response = client.get(reverse(f"admin:workorders_{model}_changelist"))
        assert response.status_code == 200, model
    category = client.get(reverse("admin:workorders_category_change", args=[order.category_id]))
    assert category.status_code == 200 and "time_limits" in category.content.decode()
    # Orders and their log are not in the (unscoped) admin: reporters stay out of it.
    assert client.get(f"/admin/workorders/workorder/{order.pk}/change/").status_code == 404
    assert client.get(reverse("admin:workorders_open311client_add")).status_code == 403
    assert (
        client_as("dispatcher").get(reverse("admin:workorders_category_changelist")).status_code
        == 302
    )


def test_a_stored_photo_keeps_no_exif_position_and_no_original_name(world, users, fresh_order):
    from PIL import Image

    from linli.workorders.tests.conftest import jpeg_bytes

    exif = Image.Exif()
    exif[0x010F] = "ResidentPhone"  # Make
    exif[0x8825] = {2: (31.0, 12.0, 30.0), 4: (121.0, 26.0, 10.0)}  # GPS latitude/longitude
    raw = jpeg_bytes(exif.tobytes())
    assert b"ResidentPhone" in raw
    upload = SimpleUploadedFile("张三家门口.jpg", raw, content_type="image/jpeg")
    order = fresh_order(actor_key="resident", source=Source.RESIDENT, photos=[upload])
    stored = order.attachments.get()
    data = stored.file.read()
    assert b"ResidentPhone" not in data and b"Exif" not in data
    assert "张三" not in stored.file.name and stored.file.name.endswith(".jpg")
    with Image.open(stored.file) as image:
        assert image.size == (8, 8) and not image.getexif()


def test_a_file_named_like_a_photo_but_not_one_is_refused(world, users, fresh_order):
    fake = SimpleUploadedFile(
        "a.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", content_type="image/jpeg"
    )
    with pytest.raises(ValidationError) as caught:
        fresh_order(photos=[fake])
    assert "photos" in caught.value.message_dict


def test_a_department_never_sees_who_reported_nor_their_phone(world, users, client_as, fresh_order):
    order = fresh_order(actor_key="resident", source=Source.RESIDENT, reporter_phone="13812345678")
    order = order_act(
        actor=users["dispatcher"], order=order, action="send_verify", assignee=users["gridworker"]
    )
    order = order_act(actor=users["gridworker"], order=order, action="verify", photos=[photo()])
    order = dispatched(world, users, order)
    page = client_as("handler").get(order_url(order))
    html = page.content.decode()
    assert page.status_code == 200 and page.context["staff"]
    assert "138****5678" not in html and "13812345678" not in html
    assert "data-reporter-phone" not in html and "钱阿姨" not in html
    # The grid centre, which calls back, still sees the masked number.
    assert "138****5678" in client_as("dispatcher").get(order_url(order)).content.decode()
