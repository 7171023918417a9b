import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import escape
from freezegun import freeze_time

from linli.notices.choices import ObjectionState
from linli.notices.models import Notice, Notification, Objection
from linli.notices.services import notice_withdraw, notify, objection_answer, objection_file
from linli.notices.tests.conftest import MOBILE
from linli.notices.views import OBJECTION_CHANNEL
from linli.places.choices import PlaceKind
from linli.places.models import Place

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
OBJECTION_TEXT = "3号楼的表决户数统计有误"
ANSWER_TEXT = "经重新核对，同意户数为42户，统计无误。"


@pytest.fixture
def answered(publish, users):
    """A notice with one answered and one open objection by the resident and the director."""
    notice = publish()
    first = objection_file(actor=users["resident"], notice=notice, text=OBJECTION_TEXT)
    objection_answer(actor=users["worker"], objection=first, answer=ANSWER_TEXT)
    objection_file(actor=users["director"], notice=notice, text="另一条待答复的异议")
    return notice


# --- the public board -------------------------------------------------------------------------


def test_anyone_reads_the_board_without_signing_in_and_sees_nothing_personal(
    client, answered, users, committee
):
    pages = [
        client.get(reverse("notices:board", args=[committee.pk])),
        client.get(reverse("notices:notice", args=[answered.pk])),
        client.get(reverse("notices:print", args=[answered.pk])),
    ]
    for response in pages:
        assert response.status_code == 200
        text = response.content.decode()
        assert answered.title in text
        for secret in (
            OBJECTION_TEXT,
            users["resident"].display_name,
            users["director"].display_name,
            "钱阿姨",
            "另一条待答复的异议",
        ):
            assert secret not in text
    board, detail = pages[0].content.decode(), pages[1].content.decode()
    assert 'data-objections="2"' in board and 'data-objections="2"' in detail
    assert ANSWER_TEXT in detail
    # A public page may be cached by the browser; a signed-in one never is.
    assert "no-store" not in pages[0].get("Cache-Control", "")


def test_a_committee_board_gathers_its_compounds_and_its_street(publish, world, client, committee):
    on_street = publish(place=world.street, title="街道通知：社区代表会议")
    on_compound = publish(place=world.compounds[0], title="小区业主大会公告")
    elsewhere = publish(place=world.committees[1], title="其他居委会的公告")
    text = client.get(reverse("notices:board", args=[committee.pk])).content.decode()
    assert on_street.title in text and on_compound.title in text
    assert elsewhere.title not in text
    compound_text = client.get(reverse("notices:board", args=[world.compounds[1].pk])).content
    assert on_compound.title not in compound_text.decode()


def test_only_streets_committees_and_compounds_have_boards(client, world):
    unit = Place.objects.filter(kind=PlaceKind.HOUSEHOLD).first()
    building = Place.objects.filter(kind=PlaceKind.BUILDING).first()
    for pk in (world.city.pk, world.district.pk, building.pk, unit.pk, 0, 999_999, 10**20):
        assert client.get(f"/board/{pk}/").status_code == 404, pk
        assert client.get(f"/board/{pk}/archive/").status_code == 404, pk
    for place in (world.street, world.committees[1], world.compounds[3]):
        assert client.get(reverse("notices:board", args=[place.pk])).status_code == 200


def test_withdrawn_notices_stay_marked_with_the_reason(client, publish, users, committee):
    notice = publish()
    notice_withdraw(actor=users["worker"], notice=notice, reason="表决人数有误，更正后重新公示")
    for url in (
        reverse("notices:board", args=[committee.pk]),
        reverse("notices:notice", args=[notice.pk]),
        reverse("notices:print", args=[notice.pk]),
    ):
        text = client.get(url).content.decode()
        assert "表决人数有误，更正后重新公示" in text and notice.title in text


def test_scheduled_and_old_notices(client, publish, committee):
    with freeze_time(dt.datetime(2025, 10, 1, 9, 0, tzinfo=SHANGHAI)):
        old = publish(title="去年的账目公示", window_days=7)
    with freeze_time(dt.datetime(2025, 10, 20, 9, 0, tzinfo=SHANGHAI)):
        recent = publish(title="秋季的会议决议", window_days=7)
    with freeze_time(dt.datetime(2025, 12, 1, 9, 0, tzinfo=SHANGHAI)):
        long = publish(title="长期公示的章程", window_days=90)
    with freeze_time(dt.datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)):
        later = publish(
            title="下周的会议通知", starts_at=dt.datetime(2026, 1, 12, 9, 0, tzinfo=SHANGHAI)
        )
        board = client.get(reverse("notices:board", args=[committee.pk])).content.decode()
        archive = client.get(reverse("notices:archive", args=[committee.pk])).content.decode()
        # 96 days on, the 7-day notice is archived; 77 days on, its window closed, it stays on
        # the board (90 days); the 90-day notice's window is still open.
        assert old.title not in board and old.title in archive
        assert recent.title in board and recent.title not in archive
        assert long.title in board and long.title not in archive
        assert later.title not in board and later.title not in archive
        assert client.get(reverse("notices:notice", args=[later.pk])).status_code == 404
    with freeze_time(dt.datetime(2026, 1, 12, 9, 0, tzinfo=SHANGHAI)):
        board = client.get(reverse("notices:board", args=[committee.pk])).content.decode()
        assert later.title in board


def test_the_board_costs_the_same_queries_for_many_notices(
    client, publish, world, committee, users, django_assert_max_num_queries
):
    def count_queries():
        with django_assert_max_num_queries(6) as captured:
            response = client.get(reverse("notices:board", args=[committee.pk]))
        assert response.status_code == 200
        return len(captured)

    for i in range(3):
        publish(title=f"公告{i}", place=world.compounds[i % 2])
    few = count_queries()
    for i in range(20):
        notice = publish(title=f"更多公告{i}")
        objection_file(actor=users["resident"], notice=notice, text="我有异议的内容")
    assert count_queries() == few
    with django_assert_max_num_queries(8):
        assert client.get(reverse("notices:archive", args=[committee.pk])).status_code == 200


# --- print ------------------------------------------------------------------------------------


def test_the_print_page_is_an_a4_sheet(client, publish, committee, world):
    with freeze_time(dt.datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI)):
        notice = publish(window_days=7, body="第一段。\n\n第二段 <b>不是HTML</b>。")
        compound_notice = publish(place=world.compounds[0], title="业主大会决定公告")
    response = client.get(reverse("notices:print", args=[notice.pk]))
    text = response.content.decode()
    with translation.override("zh-hans"):  # the language pages open in
        channel = escape(str(OBJECTION_CHANNEL))
        first, last = (
            date_format(d, "DATE_FORMAT") for d in (notice.published_at, notice.last_day)
        )
    assert response.status_code == 200
    assert notice.title in text and committee.name in text
    assert first in text and last in text and last.endswith("16日")
    assert channel in text
    assert "<p>第一段。</p>" in text and "&lt;b&gt;不是HTML&lt;/b&gt;" in text
    assert "notices/print.css" in text and 'class="topbar"' not in text
    assert "data:image/svg+xml;base64," in text  # the QR code of the online notice
    css = Path(finders.find("notices/print.css")).read_text(encoding="utf-8")
    assert "@page { size: A4" in css
    compound_page = client.get(reverse("notices:print", args=[compound_notice.pk]))
    assert committee.name in compound_page.content.decode()
    assert world.compounds[0].name in compound_page.content.decode()


def test_the_channel_text_is_translated_for_the_board(client, publish):
    notice = publish()
    with translation.override("zh-hans"):
        channel = escape(str(OBJECTION_CHANNEL))
    assert channel in client.get(reverse("notices:print", args=[notice.pk])).content.decode()


# --- objections -------------------------------------------------------------------------------


def test_a_resident_objects_through_the_form(client_as, publish, users):
    notice = publish()
    url = reverse("notices:object", args=[notice.pk])
    client = client_as("resident")
    assert client.get(url).status_code == 200
    response = client.post(url, {"text": "短"})
    assert response.status_code == 200 and not Objection.objects.exists()
    response = client.post(url, {"text": OBJECTION_TEXT})
    assert response.status_code == 302
    objection = Objection.objects.get()
    assert objection.author == users["resident"] and objection.text == OBJECTION_TEXT
    detail = client.get(reverse("notices:notice", args=[notice.pk])).content.decode()
    assert OBJECTION_TEXT in detail  # the author sees their own objection


def test_objecting_needs_sign_in_and_membership(client, client_as, publish, neighbour):
    notice = publish()
    url = reverse("notices:object", args=[notice.pk])
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    stranger = client_as("stranger")
    assert stranger.get(url).status_code == 403
    assert stranger.post(url, {"text": OBJECTION_TEXT}).status_code == 403
    client.force_login(neighbour)
    assert client.post(url, {"text": OBJECTION_TEXT}).status_code == 403
    assert not Objection.objects.exists()
    assert client.get(reverse("notices:object", args=[999_999])).status_code == 404


def test_the_form_refuses_after_the_window(client_as, publish):
    with freeze_time(dt.datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI)):
        notice = publish(window_days=3)
    with freeze_time(dt.datetime(2026, 3, 13, 0, 1, tzinfo=SHANGHAI)):
        response = client_as("resident").post(
            reverse("notices:object", args=[notice.pk]), {"text": OBJECTION_TEXT}
        )
    assert response.status_code == 200 and not Objection.objects.exists()


# --- staff ------------------------------------------------------------------------------------


def test_staff_pages_are_404_for_a_sibling_committee(client_as, answered, committee):
    objection = Objection.objects.filter(state=ObjectionState.OPEN).get()
    client = client_as("stranger")
    assert client.get(reverse("notices:publish", args=[committee.pk])).status_code == 404
    assert client.get(reverse("notices:manage_notice", args=[answered.pk])).status_code == 404
    response = client.post(reverse("notices:withdraw", args=[answered.pk]), {"reason": "撤回"})
    assert response.status_code == 404
    response = client.post(
        reverse("notices:answer", args=[objection.pk]), {f"o{objection.pk}-answer": "外人答复"}
    )
    assert response.status_code == 404
    for name in ("notices:manage", "notices:objections"):
        text = client.get(reverse(name)).content.decode()
        assert answered.title not in text and OBJECTION_TEXT not in text
    Notice.objects.get(pk=answered.pk, withdrawn_at__isnull=True)
    assert Objection.objects.get(pk=objection.pk).state == ObjectionState.OPEN


def test_staff_pages_are_404_without_the_permission(client_as, answered, committee):
    for key in ("resident", "gridworker", "dispatcher", "handler"):
        client = client_as(key)
        for url in (
            reverse("notices:manage"),
            reverse("notices:objections"),
            reverse("notices:publish", args=[committee.pk]),
            reverse("notices:manage_notice", args=[answered.pk]),
        ):
            assert client.get(url).status_code == 404, (key, url)


def test_a_worker_publishes_through_the_form(client_as, committee, world):
    client = client_as("worker")
    url = reverse("notices:publish", args=[committee.pk])
    assert client.get(url).status_code == 200
    data = {"kind": "accounts", "title": "2026年第一季度居委会经费收支公示", "window_days": "7"}
    response = client.post(url, {**data, "body": f"经办人电话 {MOBILE}"})
    assert response.status_code == 200 and not Notice.objects.exists()
    assert "公示中不得出现手机号码" in response.content.decode()
    response = client.post(url, {**data, "body": "办公经费支出 1,200.00 元。", "window_days": "0"})
    assert response.status_code == 200 and not Notice.objects.exists()
    response = client.post(url, {**data, "body": "办公经费支出 1,200.00 元。"})
    notice = Notice.objects.get()
    assert response["Location"] == reverse("notices:manage_notice", args=[notice.pk])
    assert notice.kind == "accounts" and notice.created_by.username == "worker"
    # Building and household have no board; the compound of the committee has one.
    unit = Place.objects.filter(kind=PlaceKind.BUILDING, path__startswith=committee.path).first()
    assert client.get(reverse("notices:publish", args=[unit.pk])).status_code == 404
    compound = world.compounds[0]
    assert client.get(reverse("notices:publish", args=[compound.pk])).status_code == 200


def test_staff_see_who_objected_and_answer(client_as, answered, users):
    objection = Objection.objects.filter(state=ObjectionState.OPEN).get()
    client = client_as("worker")
    inbox = client.get(reverse("notices:objections")).content.decode()
    assert "另一条待答复的异议" in inbox and users["director"].display_name in inbox
    page = client.get(reverse("notices:manage_notice", args=[answered.pk])).content.decode()
    assert users["resident"].display_name in page and OBJECTION_TEXT in page
    url = reverse("notices:answer", args=[objection.pk])
    field = f"o{objection.pk}-answer"
    response = client.post(url, {field: f"请联系 {MOBILE}"})
    assert response.status_code == 422
    response = client.post(url, {field: "已纳入下次会议讨论。", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("notices:objections")
    assert Objection.objects.get(pk=objection.pk).state == ObjectionState.ANSWERED
    all_page = client.get(reverse("notices:objections") + "?state=all&page=x")
    assert all_page.status_code == 200


def test_a_worker_withdraws_through_the_form(client_as, answered, committee):
    client = client_as("worker")
    url = reverse("notices:withdraw", args=[answered.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, {"reason": ""}).status_code == 422
    assert client.post(url, {"reason": "数据有误，更正后重新公示"}).status_code == 302
    assert Notice.objects.get(pk=answered.pk).withdrawn
    assert client.post(url, {"reason": "再撤一次"}).status_code == 422


def test_the_staff_lists_cost_the_same_queries_for_many_notices(
    client_as, publish, users, world, django_assert_max_num_queries
):
    client = client_as("worker")

    def count(url, budget):
        with django_assert_max_num_queries(budget) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    urls = [reverse("notices:manage"), reverse("notices:objections")]
    for i in range(2):
        notice = publish(title=f"公告{i}", place=world.compounds[i])
        objection_file(actor=users["director"], notice=notice, text="我有异议的内容")
    few = [count(url, 12) for url in urls]
    for i in range(15):
        notice = publish(title=f"更多公告{i}")
        objection_file(actor=users["director"], notice=notice, text="我有异议的内容")
    assert [count(url, 12) for url in urls] == few


def test_the_selfgov_office_publishes_on_the_street_and_its_committees(client_as, world):
    page = client_as("selfgov").get(reverse("notices:manage")).content.decode()
    for place in (world.street, *world.committees):
        assert reverse("notices:publish", args=[place.pk]) in page


# --- my board and the inbox -------------------------------------------------------------------


def test_my_board(client, client_as, committee):
    response = client_as("resident").get(reverse("notices:mine"))
    assert response["Location"] == reverse("notices:board", args=[committee.pk])
    response = client_as("worker").get(reverse("notices:mine"))
    assert response["Location"] == reverse("notices:manage")
    assert client_as("handler").get(reverse("notices:mine")).status_code == 404


def test_the_inbox_shows_own_notifications_and_marks_them_read(
    client, client_as, users, django_assert_max_num_queries
):
    client = client_as("resident")

    def inbox_queries():
        with django_assert_max_num_queries(11) as captured:
            response = client.get(reverse("notices:inbox"))
        return response, len(captured)

    notify(users=[users["resident"]], kind="other", title="早先的通知")
    _, few = inbox_queries()
    Notification.objects.all().delete()
    for i in range(3):
        notify(users=[users["resident"]], kind="vote_open", title=f"表决{i}开始", url="/votes/1/")
    notify(users=[users["worker"]], kind="other", title="给社工的通知")
    mine = Notification.objects.filter(user=users["resident"]).order_by("pk")
    response, many = inbox_queries()
    assert many == few
    text = response.content.decode()
    assert "表决2开始" in text and "给社工的通知" not in text and 'data-unread="3"' in text
    response = client.post(reverse("notices:read", args=[mine[0].pk]), {"open": "1"})
    assert response["Location"] == "/votes/1/"
    assert client.get(reverse("notices:read", args=[mine[1].pk])).status_code == 405
    response = client.post(reverse("notices:read", args=[mine[1].pk]))
    assert response["Location"] == reverse("notices:inbox")
    theirs = Notification.objects.get(user=users["worker"])
    assert client.post(reverse("notices:read", args=[theirs.pk])).status_code == 404
    assert Notification.objects.filter(user=users["resident"], read_at__isnull=True).count() == 1
    unread = client.get(reverse("notices:inbox") + "?unread=1&page=abc").content.decode()
    assert "表决2开始" in unread and "表决0开始" not in unread
    client.post(reverse("notices:read_all"))
    assert not Notification.objects.filter(user=users["resident"], read_at__isnull=True).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_unread_badge_tag(users, rf):
    from django.template import Context, Template

    notify(users=[users["resident"]] * 1, kind="other", title="一")
    notify(users=[users["resident"]], kind="other", title="二")
    template = Template("{% load notices %}{% notices_unread as n %}[{{ n }}]")
    request = rf.get("/")
    request.user = users["resident"]
    assert template.render(Context({"request": request})) == "[2]"
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")
    request.user = AnonymousUser()
    assert template.render(Context({"request": request})) == "[0]"
