import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models.query import QuerySet
from django.utils import timezone
from freezegun import freeze_time

from linli.core.models import AuditEvent
from linli.deliberation import selectors, services
from linli.deliberation.choices import (
    AnswerKind,
    AppealState,
    CommentState,
    SupportUnit,
    TopicCategory,
    TopicState,
)
from linli.deliberation.models import CommentReport, Support, Topic, TopicPhoto
from linli.deliberation.tests.conftest import households, photo
from linli.notices.models import Notification
from linli.workorders.choices import Source
from linli.workorders.models import Category

pytestmark = pytest.mark.django_db


def messages_of(error) -> str:
    return " ".join(str(m) for m in error.value.messages)


def notified(user, kind=None) -> int:
    rows = Notification.objects.filter(user=user)
    return rows.filter(kind=kind).count() if kind else rows.count()


# --- raising ------------------------------------------------------------------------------------


def test_a_resident_raises_a_topic_in_their_committee_with_photos(world, users, raise_topic):
    compound = world.compounds[0]
    topic = raise_topic(compound=compound, photos=[photo(), photo("b.png")])
    assert topic.state == TopicState.OPEN
    assert topic.path == compound.path and topic.place == world.committees[0]
    assert topic.author_household_id == households(world.committees[0])[0].pk
    assert not topic.by_staff
    stored = list(TopicPhoto.objects.filter(topic=topic))
    assert len(stored) == 2
    assert all("bench" not in p.file.name for p in stored)  # random names, not the uploader's
    event = AuditEvent.objects.get(action="deliberation.topic.raise", object_id=str(topic.pk))
    assert event.role == "resident"


def test_staff_raise_topics_but_nobody_else(world, users, raise_topic, neighbour):
    topic = raise_topic(actor=users["worker"])
    assert topic.by_staff and topic.author_household_id is None
    with pytest.raises(PermissionDenied):
        raise_topic(actor=users["stranger"])  # another committee's worker
    with pytest.raises(PermissionDenied):
        raise_topic(actor=neighbour(0, committee=1))  # a resident of another committee
    for key in ("dispatcher", "gridworker", "selfgov", "bureau"):
        with pytest.raises(PermissionDenied):
            raise_topic(actor=users[key])


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "椅子"}, "title"),
        ({"title": "长" * 81}, "title"),
        ({"body": "太短"}, "body"),
        ({"body": "长" * 4001}, "body"),
        ({"category": "weather"}, "category"),
        ({"photos": [photo() for _ in range(5)]}, "photos"),
        (
            {"photos": [SimpleUploadedFile("x.jpg", b"not a picture", content_type="image/jpeg")]},
            "photos",
        ),
    ],
)
def test_raising_validates_everything(raise_topic, fields, field):
    with pytest.raises(ValidationError) as error:
        raise_topic(**fields)
    assert field in error.value.message_dict
    assert not Topic.objects.exists()


def test_a_compound_of_another_committee_is_refused(world, raise_topic):
    other = next(c for c in world.compounds if c.parent_id == world.committees[1].pk)
    with pytest.raises(ValidationError) as error:
        raise_topic(compound=other)
    assert "compound" in error.value.message_dict


# --- backing ------------------------------------------------------------------------------------


def test_the_threshold_exactly_reached_flags_the_topic(world, users, neighbour, raise_topic, rules):
    rules(support_threshold=3)
    topic = raise_topic()
    services.topic_support(actor=neighbour(1), topic=topic)
    services.topic_support(actor=neighbour(2), topic=topic)
    topic.refresh_from_db()
    assert topic.support_count == 2 and topic.state == TopicState.OPEN
    assert topic.threshold_reached_at is None
    assert notified(users["worker"]) == 0
    services.topic_support(actor=neighbour(3), topic=topic)
    topic.refresh_from_db()
    assert topic.support_count == 3 and topic.state == TopicState.ON_AGENDA_LIST
    assert topic.threshold_reached_at is not None
    for key in ("worker", "director", "secretary"):
        assert notified(users[key]) == 1
    assert notified(users["stranger"]) == 0
    # Backing goes on while the topic is on the agenda list; it is not flagged twice.
    services.topic_support(actor=neighbour(4), topic=topic)
    topic.refresh_from_db()
    assert topic.support_count == 4 and notified(users["worker"]) == 1


def test_one_backing_per_household(world, users, neighbour, raise_topic):
    topic = raise_topic(actor=users["worker"])
    services.topic_support(actor=users["resident"], topic=topic)
    housemate = neighbour(0)  # lives with the persona "resident"
    with pytest.raises(ValidationError) as error:
        services.topic_support(actor=housemate, topic=topic)
    assert messages_of(error) == str(services.HOUSEHOLD_ALREADY_BACKED)
    services.topic_support(actor=neighbour(1), topic=topic)
    topic.refresh_from_db()
    assert topic.support_count == 2
    assert set(Support.objects.values_list("unit_key", flat=True)) == {
        f"h:{households(world.committees[0])[0].pk}",
        f"h:{households(world.committees[0])[1].pk}",
    }


def test_one_backing_per_person(world, users, neighbour, raise_topic, rules):
    rules(support_unit=SupportUnit.PERSON)
    topic = raise_topic(actor=users["worker"])
    services.topic_support(actor=users["resident"], topic=topic)
    services.topic_support(actor=neighbour(0), topic=topic)  # same household, another person
    topic.refresh_from_db()
    assert topic.support_count == 2
    with pytest.raises(ValidationError) as error:
        services.topic_support(actor=users["resident"], topic=topic)
    assert messages_of(error) == str(services.ALREADY_BACKED)


def test_backing_twice_is_refused_also_by_the_database(users, raise_topic, monkeypatch):
    topic = raise_topic()
    services.topic_support(actor=users["resident"], topic=topic)  # one's own topic: allowed
    with pytest.raises(ValidationError) as error:
        services.topic_support(actor=users["resident"], topic=topic)
    assert messages_of(error) == str(services.ALREADY_BACKED)
    # Two clicks at once: both pass the checks, the unique constraint refuses the second.
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)
    with pytest.raises(ValidationError) as error:
        services.topic_support(actor=users["resident"], topic=topic)
    assert messages_of(error) == str(services.HOUSEHOLD_ALREADY_BACKED)
    monkeypatch.undo()
    topic.refresh_from_db()
    assert topic.support_count == 1 == Support.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        Support.objects.create(
            topic=topic, user=users["resident"], unit_key="u:x", created_at=timezone.now()
        )


def test_withdrawing_and_backing_again(users, raise_topic):
    topic = raise_topic()
    services.topic_support(actor=users["resident"], topic=topic)
    services.topic_support_withdraw(actor=users["resident"], topic=topic)
    topic.refresh_from_db()
    assert topic.support_count == 0
    with pytest.raises(ValidationError) as error:
        services.topic_support_withdraw(actor=users["resident"], topic=topic)
    assert messages_of(error) == str(services.NOT_BACKED)
    services.topic_support(actor=users["resident"], topic=topic)
    topic.refresh_from_db()
    assert topic.support_count == 1


def test_only_residents_of_the_committee_back_and_only_while_open(
    world, users, neighbour, raise_topic
):
    topic = raise_topic()
    for actor in (users["worker"], users["stranger"], neighbour(0, committee=1)):
        with pytest.raises(PermissionDenied):
            services.topic_support(actor=actor, topic=topic)
    services.topic_answer(
        actor=users["director"], topic=topic, kind=AnswerKind.DECLINED, text="不在居委会职责范围内"
    )
    with pytest.raises(ValidationError) as error:
        services.topic_support(actor=neighbour(1), topic=topic)
    assert messages_of(error) == str(services.NOT_BACKABLE % {"state": TopicState.DECLINED.label})
    with pytest.raises(ValidationError):
        services.topic_support_withdraw(actor=users["resident"], topic=topic)


# --- merging ------------------------------------------------------------------------------------


def test_merge_moves_backing_without_counting_a_unit_twice(
    world, users, neighbour, raise_topic, rules
):
    rules(support_threshold=4)
    a, b, c = neighbour(1), neighbour(2), neighbour(3)
    duplicate = raise_topic(actor=a, title="花园缺少座椅")
    original = raise_topic(actor=b)
    for actor in (a, b, users["resident"]):
        services.topic_support(actor=actor, topic=duplicate)
    for actor in (b, c):
        services.topic_support(actor=actor, topic=original)
    into = services.topic_merge(
        actor=users["worker"], topic=duplicate, into=original, reason="与另一议题内容相同"
    )
    duplicate.refresh_from_db()
    assert into.pk == original.pk
    assert duplicate.state == TopicState.MERGED and duplicate.merged_into_id == original.pk
    assert duplicate.support_count == 0 and not duplicate.supports.exists()
    original.refresh_from_db()
    # a, the resident's household and c, b once: four units.
    assert original.support_count == 4 == original.supports.count()
    assert original.state == TopicState.ON_AGENDA_LIST  # the merge reached the threshold
    assert notified(a, "topic_answer") == 1 and notified(b, "topic_answer") == 1
    event = AuditEvent.objects.get(action="deliberation.topic.merge")
    assert event.changes["moved"] == 2 and event.changes["dropped"] == 1


def test_merge_rules(world, users, neighbour, raise_topic):
    one, two = raise_topic(), raise_topic()
    with pytest.raises(ValidationError):
        services.topic_merge(actor=users["worker"], topic=one, into=one, reason="重复的议题")
    with pytest.raises(ValidationError) as error:
        services.topic_merge(actor=users["worker"], topic=one, into=two, reason="重")
    assert "reason" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        services.topic_merge(actor=users["resident"], topic=one, into=two, reason="重复的议题")
    elsewhere = raise_topic(actor=users["stranger"], committee=world.committees[1])
    with pytest.raises(ValidationError) as error:
        services.topic_merge(
            actor=users["stranger"], topic=elsewhere, into=one, reason="重复的议题"
        )
    assert error.value.message_dict == {"into": [str(services.MERGE_ELSEWHERE)]}
    with pytest.raises(ValidationError) as error:
        services.topic_merge(actor=users["worker"], topic=one, into=elsewhere, reason="重复的议题")
    assert error.value.message_dict == {"into": [str(services.MERGE_ELSEWHERE)]}
    services.topic_merge(actor=users["worker"], topic=one, into=two, reason="重复的议题")
    with pytest.raises(ValidationError) as error:  # merged topics are neither source nor target
        services.topic_merge(actor=users["worker"], topic=two, into=one, reason="重复的议题")
    assert set(error.value.message_dict) == {"into"}


# --- answers ------------------------------------------------------------------------------------


def test_declining_needs_a_public_reason_and_tells_author_and_backers(
    users, neighbour, raise_topic
):
    backer = neighbour(1)
    topic = raise_topic()
    services.topic_support(actor=backer, topic=topic)
    with pytest.raises(ValidationError) as error:
        services.topic_answer(actor=users["worker"], topic=topic, kind=AnswerKind.DECLINED)
    assert "text" in error.value.message_dict
    topic = services.topic_answer(
        actor=users["worker"], topic=topic, kind=AnswerKind.DECLINED, text="属于业委会的事项"
    )
    assert topic.state == TopicState.DECLINED and topic.answer == "属于业委会的事项"
    assert notified(users["resident"], "topic_answer") == 1
    assert notified(backer, "topic_answer") == 1
    with pytest.raises(ValidationError):  # answered once
        services.topic_answer(
            actor=users["worker"], topic=topic, kind=AnswerKind.ACCEPTED_TO_AGENDA
        )


def test_accepting_schedules_and_the_meetings_app_names_the_meeting(users, raise_topic):
    topic = raise_topic()
    with pytest.raises(PermissionDenied):
        services.topic_answer(
            actor=users["resident"], topic=topic, kind=AnswerKind.ACCEPTED_TO_AGENDA
        )
    with pytest.raises(ValidationError):
        services.topic_answer(actor=users["worker"], topic=topic, kind="maybe")
    topic = services.topic_answer(
        actor=users["worker"], topic=topic, kind=AnswerKind.ACCEPTED_TO_AGENDA
    )
    assert topic.state == TopicState.SCHEDULED and topic.answer_kind == "accepted_to_agenda"
    topic = services.topic_schedule(
        actor=users["worker"], topic=topic, meeting_label="2026年3月居民代表会议"
    )
    assert topic.meeting_label == "2026年3月居民代表会议"
    with pytest.raises(ValidationError):
        services.topic_schedule(actor=users["worker"], topic=topic, meeting_label=" ")
    other = services.topic_schedule(
        actor=users["worker"], topic=raise_topic(), meeting_label="听证会"
    )
    assert other.state == TopicState.SCHEDULED and other.answer_kind == "accepted_to_agenda"
    done = services.topic_done(actor=users["worker"], topic=other, outcome="会议决定增设四张长椅")
    assert done.state == TopicState.DONE and done.done_at is not None
    with pytest.raises(ValidationError):
        services.topic_done(actor=users["worker"], topic=raise_topic())


def test_referring_creates_a_linked_work_order(world, users, raise_topic):
    topic = raise_topic(compound=world.compounds[1], photos=[photo()])
    category = Category.objects.filter(active=True).order_by("service_code").first()
    with pytest.raises(ValidationError):
        services.topic_answer(actor=users["worker"], topic=topic, kind=AnswerKind.REFERRED)
    topic = services.topic_answer(
        actor=users["worker"],
        topic=topic,
        kind=AnswerKind.REFERRED,
        text="已转网格中心派单处理",
        category=category,
    )
    order = topic.work_order
    assert topic.state == TopicState.REFERRED and topic.answer_kind == AnswerKind.REFERRED
    assert order.source == Source.COMMITTEE and order.place == world.compounds[1]
    assert order.category == category and topic.title in order.description
    assert list(order.topics.all()) == [topic]
    assert order.attachments.count() == 1
    with pytest.raises(ValidationError) as error:
        services.topic_refer(actor=users["worker"], topic=topic, category=category)
    assert str(order.pk) in messages_of(error)
    assert notified(users["resident"], "topic_answer") == 1


def test_a_scheduled_topic_may_still_be_referred(world, users, raise_topic):
    topic = services.topic_schedule(
        actor=users["worker"], topic=raise_topic(), meeting_label="协调会"
    )
    category = Category.objects.filter(active=True).first()
    topic = services.topic_refer(actor=users["worker"], topic=topic, category=category)
    assert topic.state == TopicState.REFERRED
    assert topic.answer_kind == AnswerKind.ACCEPTED_TO_AGENDA  # the first answer stays
    assert topic.work_order.place == world.committees[0]


def test_unanswered_topics_older_than_n_days(world, users, raise_topic):
    now = timezone.now()
    old = raise_topic(now=now - dt.timedelta(days=20))
    raise_topic(now=now - dt.timedelta(days=3))
    answered = raise_topic(now=now - dt.timedelta(days=30))
    services.topic_answer(
        actor=users["worker"], topic=answered, kind=AnswerKind.DECLINED, text="已有类似安排"
    )
    found = selectors.unanswered_topics(viewer=users["worker"], committee=world.committees[0])
    assert list(found) == [old]
    assert not selectors.unanswered_topics(viewer=users["stranger"], committee=world.committees[0])


# --- archiving ----------------------------------------------------------------------------------


def test_quiet_topics_are_archived_after_the_committee_period(world, users, raise_topic):
    with freeze_time("2026-03-02 10:00:00"):
        quiet = raise_topic()
        flagged = raise_topic()
        Topic.objects.filter(pk=flagged.pk).update(state=TopicState.ON_AGENDA_LIST)
        busy = raise_topic()
        elsewhere = raise_topic(actor=users["stranger"], committee=world.committees[1])
    with freeze_time("2026-04-20 10:00:00"):
        services.comment_post(actor=users["resident"], topic=busy, body="我也觉得需要")
    with freeze_time("2026-04-30 10:00:00"):  # 59 days
        assert services.topics_archive()["archived"] == 0
    with freeze_time("2026-05-02 10:00:01"):  # 61 days
        out = io.StringIO()
        call_command("topics_archive", stdout=out)
    assert "archived 2" in out.getvalue()
    states = dict(Topic.objects.values_list("pk", "state"))
    assert states[quiet.pk] == TopicState.ARCHIVED
    assert states[elsewhere.pk] == TopicState.ARCHIVED
    assert states[flagged.pk] == TopicState.ON_AGENDA_LIST  # waits for the committee
    assert states[busy.pk] == TopicState.OPEN
    event = AuditEvent.objects.filter(action="deliberation.topics.archive").first()
    assert event is not None and event.role == "system"


def test_the_archive_period_is_a_committee_setting(world, users, raise_topic, rules):
    rules(archive_after_days=10)
    with freeze_time("2026-03-02 10:00:00"):
        topic = raise_topic()
    with freeze_time("2026-03-13 10:00:00"):
        assert services.topics_archive() == {"committees": 1, "archived": 1}
    topic.refresh_from_db()
    assert topic.state == TopicState.ARCHIVED
    with pytest.raises(ValidationError):
        services.comment_post(actor=users["resident"], topic=topic, body="还有人管吗")


# --- comments and moderation --------------------------------------------------------------------


def test_reports_hide_a_comment_at_exactly_n_distinct_reporters(
    world, users, neighbour, raise_topic, rules
):
    rules(hide_after_reports=3)
    topic = raise_topic()
    author = neighbour(1)
    comment = services.comment_post(actor=author, topic=topic, body="这种提议毫无意义")
    with pytest.raises(ValidationError) as error:
        services.comment_report(actor=author, comment=comment)
    assert messages_of(error) == str(services.REPORT_OWN)
    first, second, third = neighbour(2), neighbour(3), neighbour(4)
    services.comment_report(actor=first, comment=comment, reason="人身攻击")
    with pytest.raises(ValidationError) as error:
        services.comment_report(actor=first, comment=comment)
    assert messages_of(error) == str(services.ALREADY_REPORTED)
    comment = services.comment_report(actor=second, comment=comment)
    assert comment.state == CommentState.VISIBLE and comment.report_count == 2
    comment = services.comment_report(actor=third, comment=comment)
    assert comment.state == CommentState.PENDING_REVIEW and comment.report_count == 3
    assert notified(author, "comment_hidden") == 1
    with pytest.raises(PermissionDenied):
        services.comment_report(actor=neighbour(0, committee=1), comment=comment)

    def shown(viewer):
        (view,) = selectors.comments_for(viewer=viewer, topic=topic)
        return view

    public = shown(users["resident"])
    assert public.text == str(services.PENDING_NOTICE) and not public.body_shown
    assert shown(author).body_shown and shown(users["worker"]).text == "这种提议毫无意义"


def test_hide_with_a_public_reason_appeal_and_uphold(world, users, neighbour, raise_topic):
    topic = raise_topic()
    author = neighbour(1)
    comment = services.comment_post(actor=author, topic=topic, body="楼上那家天天吵")
    with pytest.raises(PermissionDenied):
        services.comment_hide(actor=users["resident"], comment=comment, reason="不文明用语")
    with pytest.raises(ValidationError):
        services.comment_hide(actor=users["worker"], comment=comment, reason="不")
    comment = services.comment_hide(actor=users["worker"], comment=comment, reason="涉及具体住户")
    assert comment.state == CommentState.HIDDEN and notified(author, "comment_hidden") == 1
    (view,) = selectors.comments_for(viewer=users["resident"], topic=topic)
    assert view.text == "涉及具体住户"

    with pytest.raises(PermissionDenied):
        services.appeal_file(actor=users["resident"], comment=comment, text="这不是他写的吗")
    appeal = services.appeal_file(actor=author, comment=comment, text="我没有指名道姓，请恢复")
    with pytest.raises(ValidationError) as error:
        services.appeal_file(actor=author, comment=comment, text="再申诉一次可以吗")
    assert messages_of(error) == str(services.APPEAL_OPEN_ALREADY)
    with pytest.raises(ValidationError):
        services.appeal_decide(actor=users["director"], appeal=appeal, upheld=True, note="")
    appeal = services.appeal_decide(
        actor=users["director"], appeal=appeal, upheld=True, note="确未指向具体住户"
    )
    comment.refresh_from_db()
    assert appeal.state == AppealState.UPHELD and comment.state == CommentState.VISIBLE
    assert comment.hidden_reason == "" and notified(author, "other") == 1
    with pytest.raises(ValidationError):
        services.appeal_decide(
            actor=users["director"], appeal=appeal, upheld=False, note="已决定过"
        )


def test_a_rejected_appeal_keeps_a_reported_comment_hidden_with_the_reason(
    world, users, neighbour, raise_topic, rules
):
    rules(hide_after_reports=1)
    topic = raise_topic()
    comment = services.comment_post(actor=users["worker"], topic=topic, body="请大家文明发言")
    services.comment_report(actor=users["resident"], comment=comment)
    comment.refresh_from_db()
    assert comment.state == CommentState.PENDING_REVIEW
    appeal = services.appeal_file(actor=users["worker"], comment=comment, text="这是居委会的提醒")
    with pytest.raises(PermissionDenied):  # not about one's own comment
        services.appeal_decide(
            actor=users["worker"], appeal=appeal, upheld=True, note="应当恢复显示"
        )
    services.appeal_decide(
        actor=users["director"], appeal=appeal, upheld=False, note="措辞欠妥，请重新发布"
    )
    comment.refresh_from_db()
    assert comment.state == CommentState.HIDDEN and comment.hidden_reason == "措辞欠妥，请重新发布"


def test_restoring_clears_the_reports(world, users, neighbour, raise_topic, rules):
    rules(hide_after_reports=2)
    topic = raise_topic()
    comment = services.comment_post(actor=neighbour(1), topic=topic, body="同意增设长椅")
    services.comment_report(actor=neighbour(2), comment=comment)
    services.comment_report(actor=neighbour(3), comment=comment)
    comment = services.comment_restore(actor=users["worker"], comment=comment)
    assert comment.state == CommentState.VISIBLE and comment.report_count == 0
    assert CommentReport.objects.filter(cleared=True).count() == 2
    comment = services.comment_report(actor=neighbour(4), comment=comment)
    assert comment.state == CommentState.VISIBLE and comment.report_count == 1
    comment = services.comment_restore(actor=users["worker"], comment=comment)  # dismissed
    assert comment.report_count == 0
    with pytest.raises(ValidationError) as error:
        services.comment_restore(actor=users["worker"], comment=comment)
    assert messages_of(error) == str(services.NOT_HIDDEN)


def test_replies_are_one_level_deep_and_not_to_hidden_comments(users, neighbour, raise_topic):
    topic = raise_topic()
    first = services.comment_post(actor=neighbour(1), topic=topic, body="赞成")
    reply = services.comment_post(actor=neighbour(2), topic=topic, body="我也赞成", parent=first)
    deeper = services.comment_post(actor=neighbour(3), topic=topic, body="加一", parent=reply)
    assert deeper.parent_id == first.pk
    services.comment_hide(actor=users["worker"], comment=first, reason="与议题无关的内容")
    first.refresh_from_db()
    with pytest.raises(ValidationError):
        services.comment_post(actor=neighbour(3), topic=topic, body="回复", parent=first)
    other = raise_topic()
    with pytest.raises(ValidationError):
        services.comment_post(actor=neighbour(3), topic=other, body="回复", parent=reply)
    with pytest.raises(ValidationError):
        services.comment_post(actor=neighbour(3), topic=other, body=" ")
    with pytest.raises(PermissionDenied):
        services.comment_post(actor=users["stranger"], topic=other, body="路过看看")


# --- settings -----------------------------------------------------------------------------------


def test_settings_are_validated_audited_and_lowering_the_threshold_flags(
    world, users, neighbour, raise_topic, rules
):
    topic = raise_topic()
    services.topic_support(actor=neighbour(1), topic=topic)
    services.topic_support(actor=neighbour(2), topic=topic)
    with pytest.raises(PermissionDenied):
        services.committee_settings_update(
            actor=users["resident"],
            committee=world.committees[0],
            support_unit=SupportUnit.PERSON,
            support_threshold=2,
            hide_after_reports=3,
            archive_after_days=60,
        )
    with pytest.raises(ValidationError) as error:
        rules(support_threshold=0, hide_after_reports=10**6, support_unit="flat")
    assert set(error.value.message_dict) == {
        "support_threshold",
        "hide_after_reports",
        "support_unit",
    }
    rules(support_threshold=2)
    topic.refresh_from_db()
    assert topic.state == TopicState.ON_AGENDA_LIST
    event = AuditEvent.objects.get(action="deliberation.settings.update")
    assert event.changes["support_threshold"] == {"old": None, "new": 2}
    assert event.changes["flagged"] == [topic.pk]
    assert topic.category == TopicCategory.FACILITIES
