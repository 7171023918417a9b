"""The demo's topics: every stage, consistent counters, what the services would have written."""

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count

from linli.deliberation import selectors, services
from linli.deliberation.choices import AppealState, CommentState, SupportUnit, TopicState
from linli.deliberation.models import Appeal, Comment, Topic
from linli.demo.topics import populate_topics
from linli.workorders.choices import Source

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 17, 16, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_the_demo_has_topics_at_every_stage(world, users):
    counts = populate_topics(world=world, users=users, rng=random.Random(2026), now=NOW)
    assert counts["topics"] == Topic.objects.count() == 40
    for state in TopicState.values:
        assert counts[state] >= 1, state
    assert counts["hidden"] == counts["appeals"] == counts["pending_review"] == 1

    # Counters agree with the rows; flagged and later topics reached their committee's threshold.
    for topic in Topic.objects.annotate(n=Count("supports")).select_related("place"):
        assert topic.support_count == topic.n, topic.pk
        rules = services.settings_for(topic.place)
        if topic.state in (TopicState.ON_AGENDA_LIST, TopicState.SCHEDULED):
            assert topic.support_count >= rules.support_threshold
            assert topic.threshold_reached_at is not None
        if topic.state == TopicState.OPEN:
            assert topic.support_count < rules.support_threshold
        if topic.state == TopicState.REFERRED:
            assert topic.work_order.source == Source.COMMITTEE
            assert topic.work_order.topics.get() == topic
        if topic.state == TopicState.MERGED:
            assert topic.merged_into.place_id == topic.place_id and topic.answer
        if topic.state == TopicState.DECLINED:
            assert len(topic.answer) >= services.MIN_REASON
        assert topic.created_at <= NOW and topic.last_activity_at <= NOW

    assert services.settings_for(world.committees[1]).support_unit == SupportUnit.PERSON
    assert Comment.objects.filter(state=CommentState.HIDDEN).exclude(hidden_reason="").count() == 1
    assert Comment.objects.filter(state=CommentState.PENDING_REVIEW).count() == 1
    assert Appeal.objects.filter(state=AppealState.OPEN).count() == 1

    # The personas find their part: the resident backed some topics; the worker has an inbox.
    assert Topic.objects.filter(supports__user=users["resident"]).exists()
    box = selectors.committee_inbox(viewer=users["worker"], committee=world.committees[0], now=NOW)
    assert box.appeals_count == 1 and box.reported_count >= 1
    # Nothing archived by the clock that was meant to stay awake.
    assert services.topics_archive(now=NOW)["archived"] == 0
