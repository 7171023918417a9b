"""Neighbours press "附议" at the same moment, in real database transactions: every distinct
household counts exactly once, a double click counts once, and the threshold flags the topic
exactly once. PostgreSQL only (row locks; the SQLite suite covers the constraint path by
simulating the race in test_services)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from linli.deliberation import services
from linli.deliberation.choices import TopicState
from linli.deliberation.models import Support, Topic
from linli.notices.models import Notification

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def _all_at_once(calls):
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            call()
            outcomes[index] = "ok"
        except ValidationError as exc:
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_neighbours_backing_at_once_count_exactly(users, neighbour, raise_topic, rules):
    rules(support_threshold=6)
    topic = raise_topic()
    backers = [neighbour(i) for i in range(1, 9)]
    outcomes = _all_at_once(
        [lambda u=u: services.topic_support(actor=u, topic=Topic(pk=topic.pk)) for u in backers]
        # the same person clicking twice
        + [lambda: services.topic_support(actor=backers[0], topic=Topic(pk=topic.pk))]
    )
    assert outcomes.count("ok") == 8
    topic.refresh_from_db()
    assert topic.support_count == 8 == Support.objects.filter(topic=topic).count()
    assert topic.state == TopicState.ON_AGENDA_LIST
    assert Notification.objects.filter(user=users["worker"]).count() == 1
