import datetime as dt
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.deliberation import services
from linli.deliberation.choices import AnswerKind, CommentState, TopicState
from linli.deliberation.models import Comment, CommitteeSettings, Support, Topic, TopicPhoto
from linli.deliberation.tests.conftest import photo
from linli.workorders.models import Category

pytestmark = pytest.mark.django_db

LIST_URL = reverse("deliberation:list")


def topic_url(topic, name="topic", *more):
    return reverse(f"deliberation:{name}", args=[topic.pk, *more])


@pytest.fixture
def scene(world, users, neighbour, raise_topic, rules):
    """A topic of the first committee with a photo, a visible comment, a hidden comment under
    appeal: something behind every topic URL."""
    rules(hide_after_reports=2)
    topic = raise_topic(photos=[photo()])
    author = neighbour(1)
    comment = services.comment_post(actor=author, topic=topic, body="赞成，小花园很需要长椅")
    hidden = services.comment_post(actor=author, topic=topic, body="三楼那户天天占着花园")
    services.comment_hide(actor=users["worker"], comment=hidden, reason="涉及具体住户的信息")
    appeal = services.appeal_file(actor=author, comment=hidden, text="我没有说是哪一户")
    return SimpleNamespace(
        topic=topic,
        author=author,
        comment=comment,
        hidden=hidden,
        appeal=appeal,
        photo=TopicPhoto.objects.get(topic=topic),
    )


def scoped_urls(world, scene) -> list[str]:
    t, c, h = scene.topic, scene.comment, scene.hidden
    committee = world.committees[0]
    return [
        topic_url(t),
        topic_url(t, "photo", scene.photo.pk),
        topic_url(t, "back"),
        topic_url(t, "withdraw"),
        topic_url(t, "answer"),
        topic_url(t, "merge"),
        topic_url(t, "refer"),
        topic_url(t, "done"),
        topic_url(t, "comment_post"),
        topic_url(t, "comment_report", c.pk),
        topic_url(t, "comment_hide", c.pk),
        topic_url(t, "comment_restore", h.pk),
        topic_url(t, "appeal", h.pk),
        reverse("deliberation:appeal_decide", args=[scene.appeal.pk]),
        reverse("deliberation:committee_inbox", args=[committee.pk]),
        reverse("deliberation:settings", args=[committee.pk]),
    ]


def test_every_view_answers_404_to_a_sibling_committee(world, users, client_as, scene):
    client = client_as("stranger")
    for url in scoped_urls(world, scene):
        assert client.get(url).status_code in (404, 405), url
        assert client.post(
            url, {"reason": "不文明", "body": "路过", "text": "申诉"}
        ).status_code == (404), url
    assert Support.objects.count() == 0
    assert Comment.objects.count() == 2
    page = client.get(LIST_URL)
    assert page.status_code == 200 and scene.topic.title not in page.content.decode()
    inbox = client.get(reverse("deliberation:inbox")).content.decode()
    assert world.committees[0].name not in inbox and world.committees[1].name in inbox


def test_residents_of_another_committee_cannot_see_or_back(world, client, neighbour, scene):
    client.force_login(neighbour(0, committee=1))
    for url in scoped_urls(world, scene):
        assert client.post(url, {"body": "我来附议"}).status_code == 404, url
    assert scene.topic.title not in client.get(LIST_URL).content.decode()
    assert client.get(reverse("deliberation:inbox")).status_code == 404
    assert Support.objects.count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(client, world, scene):
    for url in [*scoped_urls(world, scene), LIST_URL, reverse("deliberation:new")]:
        response = client.get(url)
        assert response.status_code in (302, 405), url
        if response.status_code == 302:
            assert "/login/" in response["Location"]


def test_residents_are_refused_the_committee_pages(world, client_as, scene):
    client = client_as("resident")
    for name in ("answer", "merge", "refer"):
        assert client.get(topic_url(scene.topic, name)).status_code == 403
    assert client.get(topic_url(scene.topic, "comment_hide", scene.comment.pk)).status_code == 403
    assert client.post(topic_url(scene.topic, "done")).status_code == 403
    # The appeal page is its author's only.
    assert client.get(topic_url(scene.topic, "appeal", scene.hidden.pk)).status_code == 403
    assert (
        client.get(reverse("deliberation:appeal_decide", args=[scene.appeal.pk])).status_code == 404
    )
    assert (
        client.get(reverse("deliberation:settings", args=[world.committees[0].pk])).status_code
        == 404
    )


def test_the_list_shows_my_community_with_filters(world, users, client_as, raise_topic, scene):
    declined = raise_topic(title="电梯加装意见征集")
    services.topic_answer(
        actor=users["worker"], topic=declined, kind=AnswerKind.DECLINED, text="已在街道统一推进"
    )
    elsewhere = raise_topic(
        actor=users["stranger"], committee=world.committees[1], title="枫林的议题"
    )
    client = client_as("resident")
    page = client.get(LIST_URL)
    body = page.content.decode()
    assert scene.topic.title in body and declined.title in body and elsewhere.title not in body
    assert "committee" not in page.context["form"].fields  # one community: no chooser
    only = client.get(LIST_URL, {"state": "declined"}).content.decode()
    assert declined.title in only and scene.topic.title not in only
    by_category = client.get(LIST_URL, {"category": "safety"})
    assert by_category.context["page"].paginator.count == 0
    fragment = client.get(LIST_URL, {"state": "open"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and scene.topic.title in fragment
    staff = client_as("selfgov").get(LIST_URL)  # the street sees every committee
    assert staff.context["page"].paginator.count == 3
    assert "committee" in staff.context["form"].fields
    assert client_as("dispatcher").get(LIST_URL).status_code == 404


def test_garbage_in_urls_and_forms_is_never_a_500(world, client_as, scene):
    client = client_as("resident")
    for query in (
        {"page": "abc"},
        {"page": "-1"},
        {"state": "nonsense"},
        {"category": "<script>"},
        {"committee": "999999999999999999999"},
        {"q": "x" * 500},
    ):
        assert client.get(LIST_URL, query).status_code == 200, query
    assert client.get("/topics/99999999999999999999/").status_code == 404
    assert client.get(f"/topics/{scene.topic.pk}/photos/99999999999999999999/").status_code == 404
    response = client.post(topic_url(scene.topic, "comment_post"), {"body": "", "parent": "abc"})
    assert response.status_code == 302
    response = client.post(
        topic_url(scene.topic, "comment_post"), {"body": "回复", "parent": "2147483647"}
    )
    assert response.status_code == 302 and Comment.objects.count() == 2
    worker = client_as("worker")
    assert worker.post(topic_url(scene.topic, "answer"), {"kind": "maybe"}).status_code == 200
    assert worker.post(topic_url(scene.topic, "merge"), {"into": "x"}).status_code == 200
    response = worker.post(
        reverse("deliberation:settings", args=[world.committees[0].pk]),
        {"support_unit": "flat", "support_threshold": "-3"},
    )
    assert response.status_code == 200 and response.context["form"].errors


def test_raising_a_topic_on_the_phone(world, client_as):
    client = client_as("resident")
    page = client.get(reverse("deliberation:new"))
    assert page.status_code == 200
    response = client.post(
        reverse("deliberation:new"),
        {
            "committee": world.committees[0].pk,
            "title": "楼道堆物影响消防通道",
            "body": "5号楼楼道里堆了很多杂物，万一着火很危险，希望集中清理。",
            "category": "safety",
            "compound": world.compounds[0].pk,
            "photos": [photo()],
        },
    )
    topic = Topic.objects.get()
    assert response.status_code == 302 and response["Location"] == topic_url(topic)
    assert topic.compound == world.compounds[0] and topic.photos.count() == 1
    bad = client.post(reverse("deliberation:new"), {"committee": world.committees[1].pk})
    assert bad.status_code == 200 and "committee" in bad.context["form"].errors
    assert Topic.objects.count() == 1


def test_backing_with_htmx_and_without(users, client_as, scene):
    client = client_as("resident")
    page = client.get(topic_url(scene.topic)).content.decode()
    assert "data-back" in page
    fragment = client.post(topic_url(scene.topic, "back"), HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in text
    assert 'id="support-box"' in text and "data-withdraw" in text
    again = client.post(topic_url(scene.topic, "back"), HTTP_HX_REQUEST="true").content.decode()
    assert str(services.ALREADY_BACKED) in again
    response = client.post(topic_url(scene.topic, "withdraw"))
    assert response.status_code == 302
    scene.topic.refresh_from_db()
    assert scene.topic.support_count == 0
    # Staff cannot back (they answer).
    assert client_as("worker").post(topic_url(scene.topic, "back")).status_code == 403


def test_comments_post_report_and_show_hidden_ones_by_their_reason(
    users, client_as, neighbour, scene
):
    client = client_as("resident")
    page = client.get(topic_url(scene.topic)).content.decode()
    assert "赞成，小花园很需要长椅" in page
    assert "三楼那户天天占着花园" not in page and "涉及具体住户的信息" in page
    assert "邻居" not in page  # authors are named masked
    fragment = client.post(
        topic_url(scene.topic, "comment_post"),
        {"body": "支持", "parent": scene.comment.pk},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'id="comments-box"' in fragment and "支持" in fragment
    assert Comment.objects.filter(parent=scene.comment).count() == 1
    client.post(topic_url(scene.topic, "comment_report", scene.comment.pk), {"reason": "广告"})
    client.force_login(neighbour(3))
    client.post(topic_url(scene.topic, "comment_report", scene.comment.pk))
    scene.comment.refresh_from_db()
    assert scene.comment.state == CommentState.PENDING_REVIEW
    page = client.get(topic_url(scene.topic)).content.decode()
    assert str(services.PENDING_NOTICE) in page and "赞成，小花园很需要长椅" not in page
    staff = client_as("worker").get(topic_url(scene.topic)).content.decode()
    assert "赞成，小花园很需要长椅" in staff and "三楼那户天天占着花园" in staff


def test_the_committee_moderates_from_the_pages(world, users, client_as, scene):
    client = client_as("worker")
    form = client.get(topic_url(scene.topic, "comment_hide", scene.comment.pk))
    assert form.status_code == 200
    short = client.post(topic_url(scene.topic, "comment_hide", scene.comment.pk), {"reason": "不"})
    assert short.status_code == 200 and short.context["form"].errors
    client.post(
        topic_url(scene.topic, "comment_hide", scene.comment.pk), {"reason": "商业广告内容"}
    )
    scene.comment.refresh_from_db()
    assert scene.comment.state == CommentState.HIDDEN
    client.post(topic_url(scene.topic, "comment_restore", scene.comment.pk))
    scene.comment.refresh_from_db()
    assert scene.comment.state == CommentState.VISIBLE
    decide = reverse("deliberation:appeal_decide", args=[scene.appeal.pk])
    assert client.get(decide).status_code == 200
    response = client.post(decide, {"decision": "upheld", "note": "确未指明住户"})
    assert response.status_code == 302
    scene.hidden.refresh_from_db()
    assert scene.hidden.state == CommentState.VISIBLE


def test_the_author_reads_their_hidden_comment_and_appeals_again(users, client, scene):
    client.force_login(scene.author)
    page = client.get(topic_url(scene.topic)).content.decode()
    assert "三楼那户天天占着花园" in page  # the author reads their own hidden comment
    assert "data-open-appeal" in page and " data-appeal>" not in page
    services.appeal_decide(
        actor=users["director"], appeal=scene.appeal, upheld=False, note="维持隐藏的决定"
    )
    page = client.get(topic_url(scene.topic)).content.decode()
    assert " data-appeal>" in page
    url = topic_url(scene.topic, "appeal", scene.hidden.pk)
    assert client.get(url).status_code == 200
    assert client.post(url, {"text": "补充说明：我只是描述现象"}).status_code == 302
    assert scene.hidden.appeals.count() == 2


def test_answer_merge_refer_and_done_pages(world, users, client_as, raise_topic, scene):
    client = client_as("director")
    duplicate = raise_topic(title="花园座椅太少")
    response = client.post(
        topic_url(duplicate, "merge"), {"into": scene.topic.pk, "reason": "与已有议题重复"}
    )
    assert response.status_code == 302 and response["Location"] == topic_url(scene.topic)
    answered = client.post(
        topic_url(scene.topic, "answer"),
        {"kind": "accepted_to_agenda", "meeting_label": "三月居民代表会议", "text": ""},
    )
    assert answered.status_code == 302
    scene.topic.refresh_from_db()
    assert scene.topic.state == TopicState.SCHEDULED
    page = client.get(topic_url(scene.topic)).content.decode()
    assert "三月居民代表会议" in page and "data-answer" in page
    category = Category.objects.filter(active=True).first()
    referred = client.post(topic_url(scene.topic, "refer"), {"category": category.pk})
    assert referred.status_code == 302
    scene.topic.refresh_from_db()
    assert scene.topic.work_order_id is not None
    page = client.get(topic_url(scene.topic)).content.decode()
    assert f'data-work-order="{scene.topic.work_order_id}"' in page
    client.post(topic_url(scene.topic, "done"), {"outcome": "长椅已安装"})
    scene.topic.refresh_from_db()
    assert scene.topic.state == TopicState.DONE and scene.topic.outcome == "长椅已安装"


def test_the_inbox_lists_what_the_committee_owes(
    world, users, client_as, raise_topic, rules, scene
):
    old = raise_topic(title="垃圾箱房异味严重", now=timezone.now() - dt.timedelta(days=30))
    Topic.objects.filter(pk=old.pk).update(
        state=TopicState.ON_AGENDA_LIST, threshold_reached_at=timezone.now()
    )
    response = client_as("worker").get(reverse("deliberation:inbox"))
    box = response.context["box"]
    assert [t.pk for t in box.flagged] == [old.pk] and [t.pk for t in box.unanswered] == [old.pk]
    assert [a.pk for a in box.appeals] == [scene.appeal.pk]
    oversight = client_as("selfgov").get(reverse("deliberation:inbox"))
    assert oversight.status_code == 200 and "committees" in oversight.context
    committee_box = client_as("selfgov").get(
        reverse("deliberation:committee_inbox", args=[world.committees[0].pk])
    )
    assert committee_box.status_code == 200 and not committee_box.context["box"].moderator


def test_the_settings_page(world, client_as):
    url = reverse("deliberation:settings", args=[world.committees[0].pk])
    client = client_as("director")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "support_unit": "person",
            "support_threshold": "5",
            "hide_after_reports": "2",
            "archive_after_days": "30",
        },
    )
    assert response.status_code == 302
    row = CommitteeSettings.objects.get(committee=world.committees[0])
    assert (row.support_unit, row.support_threshold, row.archive_after_days) == ("person", 5, 30)
    assert client_as("selfgov").get(url).status_code == 404  # oversight reads, does not set


def test_photos_are_served_only_through_the_topic(client_as, scene):
    response = client_as("resident").get(topic_url(scene.topic, "photo", scene.photo.pk))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"].startswith("private")


# --- query budgets ------------------------------------------------------------------------------


def test_the_list_is_a_bounded_number_of_queries(
    users, client_as, neighbour, raise_topic, django_assert_max_num_queries
):
    for index in range(25):
        topic = raise_topic(title=f"议题第{index}号的标题")
        if index % 3 == 0:
            services.topic_support(actor=users["resident"], topic=topic)
    client = client_as("resident")
    client.get(LIST_URL)
    with django_assert_max_num_queries(13):
        page = client.get(LIST_URL)
    assert len(page.context["rows"]) == 20
    assert sum(1 for r in page.context["rows"] if r.topic.backed) == 7


def test_the_topic_page_is_a_bounded_number_of_queries(
    users, client_as, neighbour, scene, django_assert_max_num_queries
):
    for index in range(15):
        parent = services.comment_post(
            actor=neighbour(index % 10 + 2), topic=scene.topic, body=f"意见{index}"
        )
        services.comment_post(actor=users["worker"], topic=scene.topic, body="收到", parent=parent)
    for key in ("resident", "worker"):
        client = client_as(key)
        client.get(topic_url(scene.topic))
        with django_assert_max_num_queries(18):
            assert client.get(topic_url(scene.topic)).status_code == 200


def test_the_inbox_is_a_bounded_number_of_queries(
    world, users, client_as, raise_topic, rules, neighbour, django_assert_max_num_queries
):
    rules(hide_after_reports=1)
    author, reporter = neighbour(1), neighbour(2)
    for index in range(10):
        topic = raise_topic(now=timezone.now() - dt.timedelta(days=20 + index))
        comment = services.comment_post(actor=author, topic=topic, body="广告：出售二手家具")
        services.comment_report(actor=reporter, comment=comment)
        services.appeal_file(actor=author, comment=comment, text="这不是广告，是闲置转让")
    client = client_as("worker")
    client.get(reverse("deliberation:inbox"))
    with django_assert_max_num_queries(17):
        box = client.get(reverse("deliberation:inbox")).context["box"]
    assert box.unanswered_count == 10 and box.reported_count == 10 and box.appeals_count == 10
