import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from freezegun import freeze_time

from linli.core.models import AuditEvent
from linli.notices import services
from linli.notices.choices import NoticeKind, NotificationKind, ObjectionState
from linli.notices.models import Notice, Notification
from linli.notices.services import (
    notice_withdraw,
    notify,
    objection_answer,
    objection_file,
)
from linli.notices.tests.conftest import ID_NUMBER, MOBILE, RecordingSender
from linli.places.choices import PlaceKind
from linli.places.models import Place

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 3, 9, 10, 30, tzinfo=SHANGHAI)
SENDERS = "linli.notices.tests.conftest"


# --- publishing -------------------------------------------------------------------------------


def test_a_worker_publishes_with_a_window_of_whole_days(publish, users, committee):
    with freeze_time(MONDAY):
        notice = publish(actor=users["worker"], window_days=7, source="meeting:12")
    assert notice.path == committee.path and notice.place == committee
    assert notice.published_at == MONDAY
    # Publication day does not count; the seventh day ends at midnight (民法典 Art. 201, 203).
    assert notice.window_until == dt.datetime(2026, 3, 17, 0, 0, tzinfo=SHANGHAI)
    assert notice.last_day == dt.date(2026, 3, 16)
    event = AuditEvent.objects.get(action="notices.notice.publish", object_id=str(notice.pk))
    assert event.actor_id == users["worker"].pk and event.place_path == committee.path
    assert event.changes["source"] == "meeting:12"


def test_the_system_publishes_without_an_actor(publish, world):
    notice = publish(place=world.compounds[0], kind=NoticeKind.MEETING)
    assert notice.created_by is None and notice.path == world.compounds[0].path


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("body", f"申请人身份证号：{ID_NUMBER}", services.ID_NUMBER_FOUND),
        ("body", "张*明 310104********1234", services.ID_NUMBER_FOUND),
        ("title", f"联系人电话{MOBILE}", services.MOBILE_FOUND),
        ("body", "有事请致电 139 1234 5678", services.MOBILE_FOUND),
    ],
)
def test_personal_numbers_are_refused_with_a_clear_message(publish, users, field, value, message):
    with pytest.raises(ValidationError) as error:
        publish(actor=users["worker"], **{field: value})
    assert str(message) in error.value.message_dict[field]
    assert not Notice.objects.exists()


def test_the_office_landline_is_allowed(publish):
    notice = publish(body="如有疑问请致电居委会 021-64881234。")
    assert "021-64881234" in notice.body


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"window_days": 0}, "window_days"),
        ({"window_days": 91}, "window_days"),
        ({"window_days": "7"}, "window_days"),
        ({"kind": "gossip"}, "kind"),
        ({"title": "x"}, "title"),
        ({"title": "a\nb"}, "title"),
        ({"body": "   "}, "body"),
        ({"body": "x" * 20_001}, "body"),
        ({"source": "s" * 65}, "source"),
    ],
)
def test_bad_input_is_refused(publish, fields, key):
    with pytest.raises(ValidationError) as error:
        publish(**fields)
    assert key in error.value.message_dict


def test_window_bounds_are_accepted(publish):
    assert publish(window_days=1).last_day == publish(window_days=90).last_day - dt.timedelta(89)


def test_only_boards_take_notices(publish, world):
    for kind in (PlaceKind.BUILDING, PlaceKind.HOUSEHOLD, PlaceKind.DISTRICT):
        place = Place.objects.filter(kind=kind).first()
        with pytest.raises(ValidationError) as error:
            publish(place=place)
        assert "place" in error.value.message_dict
    assert publish(place=world.street).path == world.street.path


def test_publishing_needs_the_permission_at_the_place(publish, users, world):
    with pytest.raises(PermissionDenied):
        publish(actor=users["stranger"])
    for key in ("resident", "gridworker", "dispatcher", "bureau"):
        with pytest.raises(PermissionDenied):
            publish(actor=users[key])
    assert publish(actor=users["selfgov"]).created_by == users["selfgov"]
    assert publish(actor=users["director"], place=world.compounds[0]).pk


def test_a_scheduled_notice_starts_later_and_never_in_the_past(publish):
    with freeze_time(MONDAY):
        later = publish(starts_at=MONDAY + dt.timedelta(days=2, hours=1), window_days=3)
        assert later.published_at == MONDAY + dt.timedelta(days=2, hours=1)
        assert later.last_day == dt.date(2026, 3, 14)
        # "Now" typed into a form a few minutes ago counts as now.
        assert publish(starts_at=MONDAY - dt.timedelta(minutes=3)).published_at == MONDAY
        with pytest.raises(ValidationError) as error:
            publish(starts_at=MONDAY - dt.timedelta(days=1))
        assert "starts_at" in error.value.message_dict
        with pytest.raises(ValidationError):
            publish(starts_at=MONDAY + dt.timedelta(days=91))
        naive = publish(starts_at=dt.datetime(2026, 3, 10, 8, 0))  # noqa: DTZ001 (on purpose)
        assert naive.published_at == dt.datetime(2026, 3, 10, 8, 0, tzinfo=SHANGHAI)


def test_the_database_refuses_a_window_ending_before_it_starts(publish):
    from django.db import IntegrityError, transaction

    notice = publish()
    with pytest.raises(IntegrityError), transaction.atomic():
        Notice.objects.filter(pk=notice.pk).update(
            window_until=notice.published_at - dt.timedelta(seconds=1)
        )


# --- withdrawal -------------------------------------------------------------------------------


def test_withdrawal_keeps_the_record_with_a_public_reason(publish, users):
    notice = publish(actor=users["worker"])
    with pytest.raises(PermissionDenied):
        notice_withdraw(actor=users["stranger"], notice=notice, reason="误发")
    with pytest.raises(ValidationError) as error:
        notice_withdraw(actor=users["worker"], notice=notice, reason=f"联系{MOBILE}")
    assert str(services.MOBILE_FOUND) in error.value.message_dict["reason"]
    with pytest.raises(ValidationError):
        notice_withdraw(actor=users["worker"], notice=notice, reason="x")
    notice = notice_withdraw(
        actor=users["worker"], notice=notice, reason="表决人数统计有误，更正后重新公示"
    )
    assert notice.withdrawn and Notice.objects.filter(pk=notice.pk).exists()
    assert AuditEvent.objects.filter(action="notices.notice.withdraw", object_id=str(notice.pk))
    with pytest.raises(ValidationError):
        notice_withdraw(actor=users["worker"], notice=notice, reason="再次撤回")


# --- objections -------------------------------------------------------------------------------


def test_an_objection_is_accepted_in_the_last_minute_and_refused_one_minute_later(publish, users):
    with freeze_time(MONDAY):
        notice = publish(window_days=7)
    last_minute = dt.datetime(2026, 3, 16, 23, 59, 30, tzinfo=SHANGHAI)
    with freeze_time(last_minute):
        objection = objection_file(actor=users["resident"], notice=notice, text="表决户数统计有误")
    assert objection.state == ObjectionState.OPEN and objection.path == notice.path
    for moment in (notice.window_until, notice.window_until + dt.timedelta(minutes=1)):
        with freeze_time(moment), pytest.raises(ValidationError) as error:
            objection_file(actor=users["director"], notice=notice, text="公示期已过的异议")
        assert str(services.WINDOW_CLOSED) in error.value.messages


def test_objections_come_from_the_community_only(publish, users, neighbour, world):
    notice = publish()
    for actor in (neighbour, users["stranger"], users["gridworker"], users["property"], None):
        with pytest.raises(PermissionDenied):
            objection_file(actor=actor, notice=notice, text="我不同意这个决议")
    assert objection_file(actor=users["resident"], notice=notice, text="我不同意这个决议").pk
    assert objection_file(actor=users["worker"], notice=notice, text="工作人员代居民提出").pk
    # The street's notice concerns every committee under it; a compound's only its residents.
    street_notice = publish(place=world.street)
    assert objection_file(actor=neighbour, notice=street_notice, text="街道层面的意见").pk
    other_compound = publish(place=world.compounds[1])
    with pytest.raises(PermissionDenied):
        objection_file(actor=users["resident"], notice=other_compound, text="别的小区的事")


def test_one_open_objection_per_person_and_length_limits(publish, users):
    notice = publish()
    for text in ("短", " " * 10, "x" * 1001):
        with pytest.raises(ValidationError):
            objection_file(actor=users["resident"], notice=notice, text=text)
    first = objection_file(actor=users["resident"], notice=notice, text="第一条异议内容")
    with pytest.raises(ValidationError) as error:
        objection_file(actor=users["resident"], notice=notice, text="第二条异议内容")
    assert str(services.ALREADY_OBJECTED) in error.value.messages
    objection_answer(actor=users["worker"], objection=first, answer="已核实，统计无误。")
    assert objection_file(actor=users["resident"], notice=notice, text="对答复仍有异议").pk


def test_withdrawn_and_scheduled_notices_take_no_objections(publish, users):
    notice = publish()
    notice_withdraw(actor=users["worker"], notice=notice, reason="内容有误")
    with pytest.raises(ValidationError) as error:
        objection_file(actor=users["resident"], notice=notice, text="我有异议的内容")
    assert str(services.NOTICE_WITHDRAWN) in error.value.messages
    later = publish(starts_at=dt.datetime.now(SHANGHAI) + dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        objection_file(actor=users["resident"], notice=later, text="我有异议的内容")


def test_filing_audits_and_tells_the_board_staff(
    publish, users, django_capture_on_commit_callbacks
):
    notice = publish()
    with django_capture_on_commit_callbacks(execute=True):
        objection = objection_file(actor=users["resident"], notice=notice, text="我有异议的内容")
    event = AuditEvent.objects.get(action="notices.objection.file")
    assert event.object_id == str(objection.pk) and "我有异议" not in event.object_repr
    told = set(Notification.objects.values_list("user_id", flat=True))
    assert told == {users["worker"].pk, users["director"].pk, users["secretary"].pk}


def test_answers_are_public_checked_audited_and_notified(
    publish, users, django_capture_on_commit_callbacks
):
    notice = publish()
    objection = objection_file(actor=users["resident"], notice=notice, text="我有异议的内容")
    with pytest.raises(PermissionDenied):
        objection_answer(actor=users["stranger"], objection=objection, answer="外人答复")
    with pytest.raises(ValidationError) as error:
        objection_answer(actor=users["worker"], objection=objection, answer=f"请联系{MOBILE}")
    assert str(services.MOBILE_FOUND) in error.value.message_dict["answer"]
    with django_capture_on_commit_callbacks(execute=True):
        answered = objection_answer(
            actor=users["worker"], objection=objection, answer="经核实无误。"
        )
    assert answered.state == ObjectionState.ANSWERED and answered.answered_by == users["worker"]
    assert AuditEvent.objects.filter(action="notices.objection.answer").count() == 1
    note = Notification.objects.get(user=users["resident"])
    assert note.kind == NotificationKind.NOTICE and note.url == f"/board/notice/{notice.pk}/"
    assert (note.pk, users["resident"].pk, "notice") in RecordingSender.sent
    with pytest.raises(ValidationError):
        objection_answer(actor=users["worker"], objection=objection, answer="再答一次")


# --- notifications ----------------------------------------------------------------------------


def test_notify_creates_rows_and_hands_them_to_senders_after_commit(
    users, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rows = notify(
            users=[users["resident"], users["worker"].pk, users["resident"]],
            kind=NotificationKind.VOTE_OPEN,
            title="加装电梯表决\n已开始",
            url="/votes/3/",
        )
    assert len(rows) == 2 and Notification.objects.count() == 2
    assert rows[0].title == "加装电梯表决 已开始"
    assert RecordingSender.sent == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert sorted(s[1] for s in RecordingSender.sent) == sorted(
        [users["resident"].pk, users["worker"].pk]
    )


def test_notify_refuses_outside_links_and_unknown_kinds(users):
    for url in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            notify(users=[users["resident"]], kind="other", title="t", url=url)
    with pytest.raises(ValueError):
        notify(users=[users["resident"]], kind="gossip", title="t")
    assert notify(users=[], kind="other", title="t") == []


def test_a_failing_sender_does_not_stop_the_others(
    settings, users, caplog, django_capture_on_commit_callbacks
):
    users["resident"].email = "qian@example.com"
    users["resident"].save()
    settings.LINLI_NOTIFY_SENDERS = [
        f"{SENDERS}.FailingSender",
        "linli.notices.senders.NoSuchSender",
        f"{SENDERS}.RecordingSender",
    ]
    with (
        caplog.at_level(logging.INFO, logger="linli.notices"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        (row,) = notify(users=[users["resident"]], kind="other", title="测试")
    assert RecordingSender.sent == [(row.pk, users["resident"].pk, "other")]
    assert "FailingSender failed for notification" in caplog.text
    assert "NoSuchSender cannot be loaded" in caplog.text
    assert "qian@example.com" not in caplog.text


def test_a_failing_queue_does_not_break_the_request(
    users, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from linli.notices import tasks

    class Broken:
        def enqueue(self, *args, **kwargs):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks, "notifications_deliver", Broken())
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = notify(users=[users["resident"]], kind="other", title="测试")
    assert Notification.objects.filter(pk=row.pk).exists()
    assert "could not enqueue" in caplog.text


def test_console_sender_logs_kind_and_user_only(
    settings, users, caplog, django_capture_on_commit_callbacks
):
    settings.LINLI_NOTIFY_SENDERS = ["linli.notices.senders.ConsoleSender"]
    user = users["resident"]
    user.email = "qian@example.com"
    user.save()
    with (
        caplog.at_level(logging.INFO, logger="linli.notices"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        (row,) = notify(users=[user], kind="vote_open", title="表决开始", body="钱阿姨请投票")
    assert f"notification {row.pk} kind=vote_open user={user.pk}" in caplog.text
    for secret in ("qian@example.com", "钱阿姨", "表决开始"):
        assert secret not in caplog.text


def test_email_sender_mails_users_with_an_address(
    settings, users, django_capture_on_commit_callbacks
):
    settings.LINLI_NOTIFY_SENDERS = ["linli.notices.senders.EmailSender"]
    settings.LINLI_SITE_URL = "https://linli.example"
    users["resident"].email = "qian@example.com"
    users["resident"].save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            users=[users["resident"], users["worker"]],
            kind="meeting_invitation",
            title="居民会议通知",
            body="3月20日下午2点在活动室召开。",
            url="/meetings/4/",
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["qian@example.com"] and message.subject == "居民会议通知"
    assert "https://linli.example/meetings/4/" in message.body


def test_sms_senders(settings, users, world, caplog, django_capture_on_commit_callbacks):
    from linli.core.crypto import encrypt
    from linli.notices.senders import ConsoleSmsSender, SmsSender
    from linli.people.models import Household, Resident

    with pytest.raises(TypeError):
        SmsSender()  # send is abstract
    user = users["resident"]
    unit = Place.objects.get(path=user.assignments.get().place.path)
    household = Household.objects.create(place=unit, path=unit.path)
    Resident.objects.create(
        household=household,
        path=unit.path,
        account=user,
        name="钱阿姨",
        gender="F",
        birth_date=dt.date(1960, 1, 1),
        phone_cipher=encrypt(MOBILE),
        registration="local",
        residence="resident",
        relation="head",
    )
    sender = ConsoleSmsSender()
    assert sender.phone_for(user) == MOBILE and sender.phone_for(users["worker"]) == ""
    settings.LINLI_NOTIFY_SENDERS = ["linli.notices.senders.ConsoleSmsSender"]
    with (
        caplog.at_level(logging.INFO, logger="linli.notices"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        row = notify(users=[user, users["worker"]], kind="vote_result", title="表决结果已公布")[0]
    assert f"sms notification {row.pk} kind=vote_result user={user.pk}" in caplog.text
    assert MOBILE not in caplog.text and "5678" not in caplog.text
    assert f"user={users['worker'].pk}" not in caplog.text  # no phone: no SMS
    long = Notification(user=user, kind="other", title="长" * 100, url="")
    assert len(sender.text_for(long)) == 70


def test_marking_read_is_for_the_owner(users):
    rows = notify(users=[users["resident"], users["worker"]], kind="other", title="t")
    mine = next(r for r in rows if r.user_id == users["resident"].pk)
    theirs = next(r for r in rows if r.user_id == users["worker"].pk)
    with pytest.raises(PermissionDenied):
        services.notification_read(actor=users["resident"], notification=theirs)
    assert services.notification_read(actor=users["resident"], notification=mine).read_at
    notify(users=[users["resident"]] * 2, kind="other", title="u")
    assert services.notifications_read(actor=users["resident"], ids=[theirs.pk]) == 0
    assert services.notifications_read(actor=users["resident"]) == 1
    assert Notification.objects.filter(user=users["worker"], read_at__isnull=True).count() == 1
