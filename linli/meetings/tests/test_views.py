import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from linli.meetings import services
from linli.meetings.choices import MeetingKind, MotionState, Party
from linli.meetings.models import Attendance, Invitation, Meeting, Motion
from linli.meetings.tests.conftest import announced, check_in, draft, running

pytestmark = pytest.mark.django_db

MEMBERS = [(f"代表{i}", Party.RESIDENT_REP) for i in range(9)]


@pytest.fixture
def scene(world, users, adults):
    """A running residents' meeting with an open and a passed motion, a petition and a
    procedure, all in the first committee."""
    meeting = running(world, users, attendance_mode="adults")
    invitations = list(meeting.invitations.order_by("position"))
    check_in(users, meeting, invitations[:6])
    item = meeting.agenda.first()
    passed = services.motion_add(actor=users["worker"], agenda_item=item, text="同意加装电梯")
    passed = services.motion_open_vote(actor=users["worker"], motion=passed)
    services.motion_record_hands(
        actor=users["worker"], motion=passed, choices={i.pk: "yes" for i in invitations[:6]}
    )
    passed = services.motion_close(actor=users["worker"], motion=passed)
    open_motion = services.motion_add(actor=users["worker"], agenda_item=item, text="同意更换门禁")
    open_motion = services.motion_open_vote(actor=users["worker"], motion=open_motion)
    petition = services.petition_create(
        actor=users["worker"], place=world.committees[0], kind="residents_meeting", subject="停车"
    )
    procedure = services.procedure_create(
        actor=users["worker"], place=world.committees[0], title="停车改造"
    )
    return {
        "meeting": meeting,
        "invitation": invitations[0],
        "passed": passed,
        "open": open_motion,
        "resolution": passed.resolution,
        "petition": petition,
        "procedure": procedure,
        "item": item,
    }


def _urls(scene):
    m, motion = scene["meeting"].pk, scene["open"].pk
    return [
        ("get", reverse("meetings:detail", args=[m])),
        ("get", reverse("meetings:edit", args=[m])),
        ("get", reverse("meetings:members", args=[m])),
        ("post", reverse("meetings:agenda_add", args=[m])),
        ("get", reverse("meetings:announce", args=[m])),
        ("post", reverse("meetings:start", args=[m])),
        ("post", reverse("meetings:close", args=[m])),
        ("post", reverse("meetings:cancel", args=[m])),
        ("post", reverse("meetings:register", args=[m])),
        ("get", reverse("meetings:console", args=[m])),
        ("get", reverse("meetings:quorum", args=[m])),
        ("post", reverse("meetings:checkin", args=[m])),
        ("get", reverse("meetings:minutes", args=[m])),
        ("get", reverse("meetings:checkin_token", args=[scene["invitation"].checkin_token])),
        ("post", reverse("meetings:checkin_token", args=[scene["invitation"].checkin_token])),
        ("post", reverse("meetings:motion_add", args=[scene["item"].pk])),
        ("get", reverse("meetings:motion", args=[motion])),
        ("post", reverse("meetings:motion_open", args=[motion])),
        ("post", reverse("meetings:motion_close", args=[motion])),
        ("get", reverse("meetings:motion_hands", args=[motion])),
        ("get", reverse("meetings:motion_tally", args=[motion])),
        ("post", reverse("meetings:motion_cast", args=[motion])),
        ("post", reverse("meetings:resolution_publish", args=[scene["resolution"].pk])),
        ("get", reverse("meetings:petition", args=[scene["petition"].pk])),
        ("post", reverse("meetings:petition", args=[scene["petition"].pk])),
        ("get", reverse("meetings:procedure", args=[scene["procedure"].pk])),
        ("post", reverse("meetings:procedure", args=[scene["procedure"].pk])),
    ]


def test_a_worker_of_a_sibling_committee_gets_404_everywhere(client_as, scene, world):
    client = client_as("stranger")
    for method, url in _urls(scene):
        response = getattr(client, method)(url, {"choice": "yes", "code": "x", "ids": ["1"]})
        assert response.status_code == 404, (method, url, response.status_code)
    for name in ("list", "mine", "petitions", "procedures", "create", "procedure_templates"):
        response = client.get(reverse(f"meetings:{name}"))
        assert response.status_code in (200, 404), name
        assert world.committees[0].name not in response.content.decode(), name
    assert Attendance.objects.filter(invitation=scene["invitation"]).count() == 1


def test_residents_do_not_reach_staff_pages(client_as, scene):
    client = client_as("resident")
    m = scene["meeting"].pk
    for url in (
        reverse("meetings:console", args=[m]),
        reverse("meetings:minutes", args=[m]),
        reverse("meetings:motion_hands", args=[scene["open"].pk]),
        reverse("meetings:motion_tally", args=[scene["open"].pk]),
        reverse("meetings:petition", args=[scene["petition"].pk]),
        reverse("meetings:procedure", args=[scene["procedure"].pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("meetings:close", args=[m])).status_code == 404
    assert client.get(reverse("meetings:detail", args=[m])).status_code == 200


def test_a_draft_is_for_staff_only(client_as, world, users, adults):
    meeting = draft(world, users)
    assert (
        client_as("resident").get(reverse("meetings:detail", args=[meeting.pk])).status_code == 404
    )
    assert client_as("worker").get(reverse("meetings:detail", args=[meeting.pk])).status_code == 200


def test_oversight_sees_but_does_not_manage(client_as, scene):
    client = client_as("selfgov")
    m = scene["meeting"].pk
    assert client.get(reverse("meetings:detail", args=[m])).status_code == 200
    assert client.get(reverse("meetings:console", args=[m])).status_code == 404


# --- the resident's phone ---------------------------------------------------------------------


def test_my_invitations_show_the_qr_code_and_register(client_as, world, users, adults):
    meeting = announced(world, users, attendance_mode="adults")
    client = client_as("resident")
    page = client.get(reverse("meetings:mine")).content.decode()
    assert meeting.title in page and 'src="data:image/svg+xml;base64,' in page
    invitation = services.invitation_of(users["resident"], meeting)
    assert invitation.checkin_token in page
    response = client.post(reverse("meetings:register", args=[meeting.pk]))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.registered_at is not None
    assert meeting.title in client.get(reverse("meetings:list")).content.decode()


def test_the_resident_votes_in_two_taps(client_as, scene, users):
    client = client_as("resident")
    detail = reverse("meetings:detail", args=[scene["meeting"].pk])
    page = client.get(detail).content.decode()
    assert 'data-choice="yes"' in page and "同意更换门禁" in page
    response = client.post(
        reverse("meetings:motion_cast", args=[scene["open"].pk]), {"choice": "yes"}
    )
    assert response.status_code == 302
    assert "data-voted" in client.get(detail).content.decode()
    # A second tap is refused with a message, not a second ballot.
    client.post(reverse("meetings:motion_cast", args=[scene["open"].pk]), {"choice": "no"})
    assert scene["open"].vote.participations.count() == 1
    garbage = client.post(reverse("meetings:motion_cast", args=[scene["open"].pk]), {"choice": "x"})
    assert garbage.status_code == 302


def test_qr_scanned_by_the_worker_checks_the_resident_in(client_as, scene):
    invitation = scene["meeting"].invitations.order_by("position")[7]
    url = reverse("meetings:checkin_token", args=[invitation.checkin_token])
    client = client_as("worker")
    page = client.get(url)
    assert page.status_code == 200 and invitation.label in page.content.decode()
    assert client.post(url).status_code == 302
    assert invitation.attendances.get().method == "qr"
    client.post(url)  # scanned twice: a message, still one row
    assert invitation.attendances.count() == 1


def test_the_resident_taps_their_own_check_in(client_as, world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    invitation = services.invitation_of(users["resident"], meeting)
    client = client_as("resident")
    other = meeting.invitations.exclude(pk=invitation.pk).first()
    assert (
        client.post(reverse("meetings:checkin_token", args=[other.checkin_token])).status_code
        == 404
    )
    client.post(reverse("meetings:checkin_token", args=[invitation.checkin_token]))
    assert invitation.attendances.get().method == "self"


# --- the console ------------------------------------------------------------------------------


def test_the_console_flow_passes_and_fails_at_the_boundary(client_as, world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    client = client_as("worker")
    console = reverse("meetings:console", args=[meeting.pk])
    invitations = list(meeting.invitations.order_by("position"))
    # Tick five on the list, scan the sixth's QR code (the full URL, as a scanner types it).
    client.post(
        reverse("meetings:checkin", args=[meeting.pk]), {"ids": [i.pk for i in invitations[:5]]}
    )
    quorum = client.get(reverse("meetings:quorum", args=[meeting.pk])).content.decode()
    assert 'data-quorate="no"' in quorum  # 5 of 10: exactly half is no quorum
    scanned = "https://linli.example/meetings/checkin/" + invitations[5].checkin_token + "/"
    client.post(reverse("meetings:checkin", args=[meeting.pk]), {"code": scanned})
    quorum = client.get(reverse("meetings:quorum", args=[meeting.pk])).content.decode()
    assert 'data-quorate="yes"' in quorum
    page = client.get(console).content.decode()
    assert 'hx-trigger="every 5s"' in page and 'data-quorum="reached"' in page

    def decide(text, answers):
        item = meeting.agenda.first()
        client.post(
            reverse("meetings:motion_add", args=[item.pk]), {"text": text, "kind": "decision"}
        )
        motion = Motion.objects.get(text=text)
        client.post(reverse("meetings:motion_open", args=[motion.pk]))
        data = {f"answer-{inv.pk}": a for inv, a in zip(invitations, answers, strict=False)}
        client.post(
            reverse("meetings:motion_hands", args=[motion.pk]), {"channel": "meeting", **data}
        )
        response = client.post(reverse("meetings:motion_close", args=[motion.pk]))
        assert response.status_code == 302
        motion.refresh_from_db()
        return motion

    failed = decide("同意方案甲", ["yes", "yes", "yes", "no", "abstain", "abstain"])
    assert failed.state == MotionState.CLOSED and failed.result["outcome"]["passed"] is False
    passed = decide("同意方案乙", ["yes", "yes", "yes", "yes", "no", "abstain"])
    assert passed.result["outcome"]["passed"] is True
    result = client.get(reverse("meetings:motion", args=[passed.pk])).content.decode()
    assert 'data-step="majority"' in result and "4" in result and "1/2" in result
    client.post(reverse("meetings:resolution_publish", args=[passed.resolution.pk]))
    passed.resolution.refresh_from_db()
    notice = passed.resolution.notice
    assert notice is not None and notice.kind == "resolution"
    board = client.get(reverse("notices:board", args=[world.committees[0].pk]))
    assert "同意方案乙" in board.content.decode()
    assert client.get(reverse("notices:print", args=[notice.pk])).status_code == 200


def test_console_queries_do_not_grow_with_the_list(
    client_as, world, users, django_assert_max_num_queries
):
    meeting = draft(world, users, kind=MeetingKind.REPRESENTATIVES_MEETING)
    Invitation.objects.bulk_create(
        Invitation(
            meeting=meeting,
            key=f"m:{n}",
            label=f"户代表{n}",
            party=Party.RESIDENT_REP,
            checkin_token=f"tok{n}",
            position=n,
        )
        for n in range(3000)
    )
    meeting = services.meeting_announce(actor=users["worker"], meeting=meeting)
    meeting = services.meeting_start(actor=users["worker"], meeting=meeting)
    Attendance.objects.bulk_create(
        Attendance(meeting=meeting, invitation=i, method="list")
        for i in meeting.invitations.all()[:1600]
    )
    client = client_as("worker")
    with django_assert_max_num_queries(30):
        page = client.get(reverse("meetings:console", args=[meeting.pk]))
    assert page.status_code == 200 and 'data-count="3000"' in page.content.decode()
    assert page.content.decode().count("data-invitation=") == 50
    with django_assert_max_num_queries(15):
        quorum = client.get(reverse("meetings:quorum", args=[meeting.pk])).content.decode()
    assert 'data-present="1600"' in quorum and 'data-quorate="no"' in quorum  # < 2/3 of 3000
    with django_assert_max_num_queries(20):
        partial = client.get(
            reverse("meetings:console", args=[meeting.pk]),
            {"q": "户代表12", "status": "present"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="attendance",
        )
    assert "<html" not in partial.content.decode()


def test_list_pages_have_a_query_budget(
    client_as, world, users, adults, django_assert_max_num_queries
):
    for n in range(12):
        announced(world, users, attendance_mode="households", title=f"会议{n}")
    for key in ("worker", "resident"):
        client = client_as(key)
        with django_assert_max_num_queries(20):
            response = client.get(reverse("meetings:list"))
        assert response.status_code == 200
        with django_assert_max_num_queries(20):
            assert client.get(reverse("meetings:mine")).status_code == 200


def test_members_page_adds_and_removes(client_as, world, users, adults):
    meeting = draft(world, users, kind=MeetingKind.JOINT_MEETING)
    client = client_as("worker")
    url = reverse("meetings:members", args=[meeting.pk])
    client.post(url, {"label": "物业 林经理", "party": "property_manager"})
    client.post(url, {"label": "", "party": "resident_rep", "resident": adults[1].pk})
    assert meeting.invitations.count() == 2
    client.post(url, {"remove": meeting.invitations.first().pk})
    assert meeting.invitations.count() == 1
    assert client.post(url, {"label": "x", "party": "nonsense"}).status_code == 200
    assert client.post(url, {"remove": "abc"}).status_code == 404


def test_create_announce_and_run_through_the_pages(client_as, world, users, adults):
    client = client_as("worker")
    start = timezone.localtime(timezone.now() + timezone.timedelta(days=3))
    response = client.post(
        reverse("meetings:create"),
        {
            "kind": "residents_meeting",
            "place": world.committees[0].pk,
            "title": "居民会议",
            "attendance_mode": "households",
            "form": "in_person",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timezone.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "location": "活动室",
        },
    )
    meeting = Meeting.objects.get(title="居民会议")
    assert response.status_code == 302
    client.post(reverse("meetings:agenda_add", args=[meeting.pk]), {"title": "议程一"})
    announce = reverse("meetings:announce", args=[meeting.pk])
    page = client.post(announce, {})
    assert page.status_code == 200 and 'name="short_notice_ok"' in page.content.decode()
    assert client.post(announce, {"short_notice_ok": "on"}).status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == "announced" and meeting.base_count == 5
    client.post(reverse("meetings:start", args=[meeting.pk]))
    client.post(reverse("meetings:close", args=[meeting.pk]))
    minutes = reverse("meetings:minutes", args=[meeting.pk])
    client.post(minutes, {"op": "save", "text": "会议记录"})
    assert client_as("director").post(minutes, {"op": "approve"}).status_code == 302
    client.post(minutes, {"op": "publish"})
    meeting.refresh_from_db()
    assert meeting.state == "minutes_published"


def test_garbage_gets_4xx_not_500(client_as, scene):
    client = client_as("worker")
    m = scene["meeting"].pk
    assert client.get("/meetings/99999999999/").status_code == 404
    assert client.get(reverse("meetings:checkin_token", args=["x" * 300])).status_code == 404
    bad = client.post(
        reverse("meetings:checkin", args=[m]), {"ids": ["abc", "-1"], "code": "\u0000"}
    )
    assert bad.status_code == 302
    create = client.post(reverse("meetings:create"), {"kind": "nope", "starts_at": "yesterday"})
    assert create.status_code == 200
    assert (
        client.get(
            reverse("meetings:console", args=[m]), {"page": "zz", "status": "??"}
        ).status_code
        == 200
    )
    assert (
        client.post(
            reverse("meetings:motion_hands", args=[scene["open"].pk]), {"answer-zz": "yes"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            reverse("meetings:petition", args=[scene["petition"].pk]), {"remove": "zz"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("meetings:procedure", args=[scene["procedure"].pk]), {"position": "x"}
        ).status_code
        == 200
    )
    assert (
        client.get(reverse("meetings:list"), {"state": "<script>", "page": "-3"}).status_code == 200
    )


# --- petitions and procedures -----------------------------------------------------------------


def test_the_petition_page_says_when_the_committee_must_convene(client_as, world, users, adults):
    client = client_as("worker")
    client.post(
        reverse("meetings:petitions"),
        {"place": world.committees[0].pk, "kind": "residents_meeting", "subject": "停车收费"},
    )
    from linli.meetings.models import Petition

    petition = Petition.objects.get(subject="停车收费")
    url = reverse("meetings:petition", args=[petition.pk])
    search = client.get(url, {"q": "居民0"}).content.decode()
    assert f'value="r:{adults[0].pk}"' in search
    client.post(url, {"key": f"r:{adults[0].pk}"})
    page = client.get(url).content.decode()
    assert 'data-met="no"' in page
    client.post(url, {"key": f"r:{adults[1].pk}"})
    page = client.get(url).content.decode()
    assert 'data-met="yes"' in page and "data-must-convene" in page


def test_the_procedure_page_shows_done_next_and_locked(client_as, scene):
    client = client_as("worker")
    url = reverse("meetings:procedure", args=[scene["procedure"].pk])
    page = client.get(url).content.decode()
    assert re.findall(r'data-status="(\w+)"', page) == ["next"] + ["locked"] * 5
    client.post(url, {"position": 2, "record": "跳步"})
    assert client.get(url).content.decode().count('data-status="done"') == 0
    client.post(url, {"position": 1, "record": "党总支提议"})
    page = client.get(url).content.decode()
    assert re.findall(r'data-status="(\w+)"', page)[:2] == ["done", "next"]


def test_templates_page(client_as, world):
    client = client_as("worker")
    response = client.post(
        reverse("meetings:procedure_templates"),
        {
            "place": world.committees[0].pk,
            "name": "本居流程",
            "steps": "proposal 提议\nresolution 决议",
        },
    )
    assert response.status_code == 302
    assert "本居流程" in client.get(reverse("meetings:procedure_templates")).content.decode()
    bad = client.post(
        reverse("meetings:procedure_templates"),
        {"place": world.committees[0].pk, "name": "坏", "steps": "nonsense x"},
    )
    assert bad.status_code == 200


def test_meeting_and_motion_pages_have_a_query_budget(
    client_as, scene, django_assert_max_num_queries
):
    for key in ("worker", "resident"):
        client = client_as(key)
        with django_assert_max_num_queries(40):
            assert (
                client.get(reverse("meetings:detail", args=[scene["meeting"].pk])).status_code
                == 200
            )
        with django_assert_max_num_queries(25):
            assert (
                client.get(reverse("meetings:motion", args=[scene["passed"].pk])).status_code == 200
            )


def test_paper_ballots_of_a_written_consultation_through_the_page(client_as, world, users):
    from linli.meetings.tests.conftest import owner_of, soon

    for i in range(3):
        owner_of(world, i, f"业主{i}", "100.00")
    meeting = running(
        world,
        users,
        kind=MeetingKind.OWNERS_ASSEMBLY,
        place=world.compounds[0],
        form="written_consultation",
        starts_at=soon(16),
    )
    motion = services.motion_add(
        actor=users["worker"],
        agenda_item=meeting.agenda.first(),
        text="使用维修资金",
        matter="maintenance_fund_use",
    )
    motion = services.motion_open_vote(actor=users["worker"], motion=motion)
    client = client_as("worker")
    url = reverse("meetings:motion_hands", args=[motion.pk])
    page = client.get(url).content.decode()
    assert 'value="paper"' in page and page.count("data-invitation=") == 3
    first = meeting.invitations.order_by("position").first()
    data = {"channel": "paper", "provenance": "第0001号", f"answer-{first.pk}": "yes"}
    client.post(url, data)
    assert motion.vote.participations.get().state == "pending"
    response = client.post(url, data, follow=True)  # the same owner again: a warning, no row
    assert motion.vote.participations.count() == 1
    assert any(m.level_tag == "warning" for m in response.context["messages"])
    closed = client.post(reverse("meetings:motion_close", args=[motion.pk]), follow=True)
    assert any(m.level_tag == "error" for m in closed.context["messages"])


# --- fixes from walking a residents' meeting in the browser -----------------------------------


def test_the_motion_page_publishes_its_resolution(client_as, scene, django_assert_max_num_queries):
    url = reverse("meetings:motion", args=[scene["passed"].pk])
    publish = reverse("meetings:resolution_publish", args=[scene["resolution"].pk])
    for key in ("resident", "selfgov"):  # they see the resolution, may not publish it
        page = client_as(key).get(url).content.decode()
        assert scene["resolution"].text in page and 'data-action="publish-resolution"' not in page
    client = client_as("worker")
    with django_assert_max_num_queries(25):
        page = client.get(url).content.decode()
    assert 'data-action="publish-resolution"' in page and f'action="{publish}"' in page
    response = client.post(publish, {"next": url})
    assert response.status_code == 302 and response["Location"] == url
    scene["resolution"].refresh_from_db()
    notice = scene["resolution"].notice_id
    assert notice is not None
    page = client.get(url).content.decode()
    assert 'data-action="publish-resolution"' not in page
    assert reverse("notices:notice", args=[notice]) in page
    assert reverse("notices:print", args=[notice]) in page


def test_a_worker_of_another_committee_cannot_publish_from_the_motion_page(client_as, scene):
    url = reverse("meetings:motion", args=[scene["passed"].pk])
    publish = reverse("meetings:resolution_publish", args=[scene["resolution"].pk])
    client = client_as("stranger")
    assert client.get(url).status_code == 404
    assert client.post(publish, {"next": url}).status_code == 404
    scene["resolution"].refresh_from_db()
    assert scene["resolution"].notice_id is None


def test_the_quorum_poll_brings_rows_checked_in_elsewhere(
    client_as, world, users, adults, django_assert_max_num_queries
):
    meeting = running(world, users, attendance_mode="adults")
    invitations = list(meeting.invitations.order_by("position"))
    client = client_as("worker")
    console = client.get(reverse("meetings:console", args=[meeting.pk])).content.decode()
    assert 'hx-include="#attendance input[name=shown]"' in console
    shown = re.findall(r'name="shown" value="(\d+)"', console)
    assert shown == [str(i.pk) for i in invitations]
    # The resident checks in on their phone while the worker's list is on the screen.
    mine = services.invitation_of(users["resident"], meeting)
    services.meeting_check_in(
        actor=users["resident"], meeting=meeting, invitation=mine, method="self"
    )
    quorum = reverse("meetings:quorum", args=[meeting.pk])
    with django_assert_max_num_queries(15):
        poll = client.get(quorum, {"shown": [*shown, "zz", "-1"]}).content.decode()
    assert 'data-present="1"' in poll
    rows = re.findall(r"<template><tr ([^>]*)>", poll)
    assert len(rows) == 1
    assert f'id="attendance-{mine.pk}"' in rows[0] and 'hx-swap-oob="true"' in rows[0]
    assert "data-present" in rows[0] and 'name="ids"' not in poll and 'name="shown"' not in poll
    # Without rows sent (the meeting page) and for those who do not manage it: the panel only.
    assert "<template>" not in client.get(quorum).content.decode()
    resident = client_as("resident").get(quorum, {"shown": shown}).content.decode()
    assert 'data-present="1"' in resident and "<template>" not in resident


def test_the_quorum_poll_is_404_to_a_worker_of_another_committee(client_as, world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    shown = [i.pk for i in meeting.invitations.all()]
    response = client_as("stranger").get(
        reverse("meetings:quorum", args=[meeting.pk]), {"shown": shown}
    )
    assert response.status_code == 404


def test_ticking_someone_already_here_skips_them_quietly(client_as, world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    invitations = list(meeting.invitations.order_by("position"))
    check_in(users, meeting, invitations[:1])
    client = client_as("worker")
    url = reverse("meetings:checkin", args=[meeting.pk])
    response = client.post(url, {"ids": [i.pk for i in invitations[:3]]}, follow=True)
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert len(shown) == 1 and shown[0][0] == "success", shown
    assert "2" in shown[0][1] and invitations[1].label in shown[0][1]
    assert invitations[0].label not in shown[0][1] and "1" in shown[0][1]
    assert Attendance.objects.filter(meeting=meeting).count() == 3
    # All of them here already: a note, no error, still one row each.
    response = client.post(url, {"ids": [i.pk for i in invitations[:3]]}, follow=True)
    shown = [(m.level_tag, str(m)) for m in response.context["messages"]]
    assert [level for level, _text in shown] == ["info"], shown
    assert Attendance.objects.filter(meeting=meeting).count() == 3
    assert all(i.attendances.count() == 1 for i in invitations[:3])


def test_a_meeting_title_fits_the_notice_from_the_draft(client_as, world, users, adults):
    client = client_as("worker")
    start = timezone.localtime(timezone.now() + timezone.timedelta(days=10))
    data = {
        "kind": "residents_meeting",
        "place": world.committees[0].pk,
        "title": "会",
        "attendance_mode": "households",
        "form": "in_person",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timezone.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = client.post(reverse("meetings:create"), data)
    assert response.status_code == 200 and not Meeting.objects.exists()
    assert str(services.MEETING_TITLE_LENGTH) in response.context["form"].errors["title"]
    meeting = draft(world, users)
    edit = reverse("meetings:edit", args=[meeting.pk])
    data = {
        "title": "会" * 201,
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timezone.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    response = client.post(edit, data)
    assert response.status_code == 200
    assert str(services.MEETING_TITLE_LENGTH) in response.context["form"].errors["title"]
    assert client.post(edit, {**data, "title": "议事"}).status_code == 302
    meeting.refresh_from_db()
    assert meeting.title == "议事"


# --- a topic put on a meeting's agenda from its page ------------------------------------------


@pytest.fixture
def flagged(world, users):
    """A residents' topic of the first committee with enough backing (on the agenda list)."""
    from linli.deliberation.choices import TopicState
    from linli.deliberation.models import Topic
    from linli.deliberation.services import topic_raise

    topic = topic_raise(
        actor=users["resident"],
        committee=world.committees[0],
        title="小花园增设休息长椅",
        body="老人散步累了只能站着，建议增设几张长椅。",
        category="facilities",
    )
    Topic.objects.filter(pk=topic.pk).update(
        state=TopicState.ON_AGENDA_LIST, threshold_reached_at=timezone.now()
    )
    topic.refresh_from_db()
    return topic


def test_a_flagged_topic_goes_on_a_meeting_from_its_page(
    client_as, world, users, adults, flagged, django_assert_max_num_queries
):
    from linli.deliberation.choices import AnswerKind, TopicState

    first = draft(world, users, title="第一次居民会议")
    second = announced(world, users, attendance_mode="households", title="第二次居民会议")
    draft(world, users, place=world.committees[1], actor=None, title="别的社区的会议")
    topic_page = reverse("deliberation:topic", args=[flagged.pk])
    url = reverse("meetings:agenda_from_topic", args=[flagged.pk])
    client = client_as("worker")
    page = client.get(topic_page).content.decode()
    assert f'href="{url}"' in page and 'data-action="put-on-agenda"' in page
    assert f'href="{url}"' not in client_as("resident").get(topic_page).content.decode()
    client = client_as("worker")
    with django_assert_max_num_queries(20):
        response = client.get(url)
    assert response.status_code == 200
    listed = {m.pk for m in response.context["form"].fields["meeting"].queryset}
    assert listed == {first.pk, second.pk}
    response = client.post(url, {"meeting": second.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("meetings:detail", args=[second.pk])
    item = second.agenda.get(topic=flagged)
    assert item.title == flagged.title and item.position == 2
    flagged.refresh_from_db()
    assert flagged.state == TopicState.SCHEDULED
    assert flagged.answer_kind == AnswerKind.ACCEPTED_TO_AGENDA
    assert flagged.meeting_label.startswith("第二次居民会议")
    # The topic page links the real meeting; the residents see it too (it is announced).
    for key in ("worker", "resident"):
        page = client_as(key).get(topic_page).content.decode()
        link = reverse("meetings:detail", args=[second.pk])
        assert f'href="{link}" data-meeting-link="{second.pk}"' in page, key
    # The same meeting is no longer offered, and the service refuses it twice.
    client = client_as("worker")
    listed = {m.pk for m in client.get(url).context["form"].fields["meeting"].queryset}
    assert listed == {first.pk}
    assert client.post(url, {"meeting": second.pk}).status_code == 200
    assert second.agenda.filter(topic=flagged).count() == 1
    with pytest.raises(ValidationError):
        services.agenda_add(actor=users["worker"], meeting=second, topic=flagged)


def test_an_accepted_topic_with_a_named_meeting_goes_on_the_real_one(
    client_as, world, users, adults, flagged
):
    from linli.deliberation.services import topic_answer

    topic_answer(
        actor=users["worker"],
        topic=flagged,
        kind="accepted_to_agenda",
        meeting_label="下次居民会议",
    )
    topic_page = reverse("deliberation:topic", args=[flagged.pk])
    client = client_as("worker")
    page = client.get(topic_page).content.decode()
    assert "下次居民会议" in page and "data-meeting-link" not in page
    assert 'data-action="put-on-agenda"' in page
    meeting = draft(world, users, title="七月居民会议")
    url = reverse("meetings:agenda_from_topic", args=[flagged.pk])
    assert client.post(url, {"meeting": meeting.pk}).status_code == 302
    page = client.get(topic_page).content.decode()
    assert f'data-meeting-link="{meeting.pk}"' in page and "下次居民会议" not in page
    # A draft is staff-only: the resident reads the meeting's name, not a link to it.
    page = client_as("resident").get(topic_page).content.decode()
    assert "七月居民会议" in page and "data-meeting-link" not in page


def test_putting_a_topic_on_an_agenda_is_404_outside_the_committee(
    client_as, world, users, adults, flagged
):
    meeting = draft(world, users)
    url = reverse("meetings:agenda_from_topic", args=[flagged.pk])
    for key in ("stranger", "resident", "selfgov"):
        client = client_as(key)
        assert client.get(url).status_code == 404, key
        assert client.post(url, {"meeting": meeting.pk}).status_code == 404, key
    assert not meeting.agenda.filter(topic=flagged).exists()
    # A worker of the other committee does not get its own meetings offered for this one either.
    other = draft(world, users, place=world.committees[1], actor=None, title="别的社区的会议")
    response = client_as("worker").post(url, {"meeting": other.pk})
    assert response.status_code == 200 and not other.agenda.filter(topic=flagged).exists()


def test_an_open_topic_is_not_offered_for_an_agenda_from_its_page(
    client_as, world, users, adults, flagged
):
    from linli.deliberation.choices import TopicState
    from linli.deliberation.models import Topic

    Topic.objects.filter(pk=flagged.pk).update(state=TopicState.OPEN)
    url = reverse("meetings:agenda_from_topic", args=[flagged.pk])
    client = client_as("worker")
    assert client.get(url).status_code == 404
    page = client.get(reverse("deliberation:topic", args=[flagged.pk])).content.decode()
    assert 'data-action="put-on-agenda"' not in page


def test_without_a_coming_meeting_the_page_offers_to_draft_one(client_as, world, users, flagged):
    response = client_as("worker").get(reverse("meetings:agenda_from_topic", args=[flagged.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and "data-no-meetings" in page
    assert f"{reverse('meetings:create')}?kind=residents_meeting&amp;place=" in page
