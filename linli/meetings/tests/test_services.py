import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from linli.meetings import selectors, services
from linli.meetings.choices import (
    AttendanceMode,
    MeetingKind,
    MeetingState,
    MotionKind,
    MotionState,
    Party,
)
from linli.meetings.models import Attendance, Invitation, Resolution
from linli.meetings.tests.conftest import announced, check_in, draft, owner_of, running, soon
from linli.notices.models import Notice, Notification

pytestmark = pytest.mark.django_db

MEMBERS = [(f"代表{i}", Party.RESIDENT_REP) for i in range(9)]


def _agenda(meeting):
    return meeting.agenda.order_by("position").first()


def _decide(users, meeting, *, yes=0, no=0, abstain=0, text="同意加装电梯"):
    """Open a decision over those present and record hands, in invitation order."""
    motion = services.motion_add(actor=users["worker"], agenda_item=_agenda(meeting), text=text)
    motion = services.motion_open_vote(actor=users["worker"], motion=motion)
    present = list(meeting.invitations.filter(attendances__isnull=False).order_by("position", "id"))
    answers = ["yes"] * yes + ["no"] * no + ["abstain"] * abstain
    choices = {inv.pk: a for inv, a in zip(present, answers, strict=False)}
    if choices:
        services.motion_record_hands(actor=users["worker"], motion=motion, choices=choices)
    return services.motion_close(actor=users["worker"], motion=motion)


# --- creation rules ---------------------------------------------------------------------------


def test_each_kind_takes_its_defaults(world, users):
    hearing = draft(world, users, kind=MeetingKind.HEARING, title="停车收费听证会")
    assert hearing.attendance_mode == AttendanceMode.MEMBERS
    assert hearing.rule_id == "consultative_meeting"
    # PR-02: the hearing group is headed by the committee director.
    assert "周主任" in hearing.chair
    joint = draft(world, users, kind=MeetingKind.JOINT_MEETING, title="1+5+X 联席会议")
    assert "Party branch" in joint.convener_body or "党" in joint.convener_body
    residents = draft(world, users, attendance_mode="households")
    assert residents.rule_id == "residents_meeting"
    assert residents.convener_body == world.committees[0].name  # RC-05: the committee convenes
    owners = draft(world, users, kind=MeetingKind.OWNERS_ASSEMBLY, place=world.compounds[0])
    assert owners.attendance_mode == AttendanceMode.OWNERS


@pytest.mark.parametrize(
    ("kind", "mode", "field"),
    [
        (MeetingKind.RESIDENTS_MEETING, AttendanceMode.MEMBERS, "attendance_mode"),
        (MeetingKind.HEARING, AttendanceMode.ADULTS, "attendance_mode"),
        (MeetingKind.OWNERS_ASSEMBLY, AttendanceMode.OWNERS, "place"),  # owners: a compound
    ],
)
def test_it_refuses_a_mode_or_place_the_kind_does_not_allow(world, users, kind, mode, field):
    with pytest.raises(ValidationError) as error:
        draft(world, users, kind=kind, attendance_mode=mode)
    assert field in error.value.message_dict


def test_written_consultation_is_for_owners_and_residents_only(world, users):
    with pytest.raises(ValidationError) as error:
        draft(world, users, kind=MeetingKind.HEARING, form="written_consultation")
    assert "form" in error.value.message_dict


@pytest.mark.parametrize("title", ["", "会", " 会 ", "会" * 201])
def test_a_title_the_notice_could_not_carry_is_refused_at_draft(world, users, title):
    with pytest.raises(ValidationError) as error:
        draft(world, users, title=title)
    assert error.value.message_dict["title"] == [str(services.MEETING_TITLE_LENGTH)]
    meeting = draft(world, users, title="议事")
    with pytest.raises(ValidationError) as error:
        services.meeting_update(actor=users["worker"], meeting=meeting, title=title)
    assert "title" in error.value.message_dict
    meeting = services.meeting_update(actor=users["worker"], meeting=meeting, title="会" * 200)
    assert len(meeting.title) == 200


def test_a_stranger_cannot_create_a_meeting_in_another_committee(world, users):
    with pytest.raises(PermissionDenied):
        draft(world, users, actor="stranger")


# --- invitation lists -------------------------------------------------------------------------


def test_adults_mode_invites_every_adult_living_here(world, users, adults):
    meeting = announced(world, users, attendance_mode="adults")
    keys = set(meeting.invitations.values_list("key", flat=True))
    assert keys == {f"r:{r.pk}" for r in adults}  # the child is not invited
    assert meeting.base_count == 10
    # The resident persona's invitation carries their account.
    mine = services.invitation_of(users["resident"], meeting)
    assert mine is not None and mine.resident_id == adults[0].pk


def test_households_mode_invites_one_per_household(world, users, adults):
    meeting = announced(world, users, attendance_mode="households")
    assert meeting.base_count == 5
    assert all(k.startswith("h:") for k in meeting.invitations.values_list("key", flat=True))
    # Any member of the household finds the household's invitation as theirs.
    mine = services.invitation_of(users["resident"], meeting)
    assert mine is not None and mine.household_id == adults[0].household_id


def test_members_and_group_reps_are_entered_by_hand(world, users, adults):
    meeting = draft(world, users, kind=MeetingKind.REPRESENTATIVES_MEETING)
    services.member_add(actor=users["worker"], meeting=meeting, label="张三", party="resident_rep")
    linked = services.member_add(
        actor=users["worker"], meeting=meeting, party="resident_rep", resident=adults[0]
    )
    assert linked.key == f"r:{adults[0].pk}" and linked.user == users["resident"]
    with pytest.raises(ValidationError):
        services.member_add(
            actor=users["worker"], meeting=meeting, party="resident_rep", resident=adults[0]
        )
    meeting = services.meeting_announce(actor=users["worker"], meeting=meeting)
    assert meeting.base_count == 2
    reps = draft(world, users, attendance_mode="group_reps")
    services.member_add(actor=users["worker"], meeting=reps, label="一组代表", party="resident_rep")
    assert services.meeting_announce(actor=users["worker"], meeting=reps).base_count == 1
    with pytest.raises(ValidationError):  # register modes take no hand-made list
        services.member_add(
            actor=users["worker"], meeting=draft(world, users), label="某人", party="other"
        )


def test_owners_mode_invites_owners_with_area_and_one_head_per_owner(world, users):
    first = owner_of(world, 0, "业主甲", "80.00")
    owner_of(world, 1, "业主乙", "120.50")
    # The same owner holding a third unit is still one head (OW-06).
    from linli.people.services import ownership_set, unit_area_set
    from linli.people.tests.factories import a_unit

    unit = a_unit(world.committees[0], 2)
    ownership_set(actor=None, unit=unit, owner=first)
    unit_area_set(actor=None, unit=unit, source="registry", area="50.00")
    meeting = announced(
        world, users, kind=MeetingKind.OWNERS_ASSEMBLY, place=world.compounds[0], starts_at=soon(16)
    )
    assert meeting.base_count == 2
    assert meeting.base_area == pytest.approx(250.5)
    assert sorted(meeting.invitations.values_list("area", flat=True)) == [120.5, 130]


def test_an_empty_list_or_agenda_cannot_be_announced(world, users):
    meeting = services.meeting_create(
        actor=users["worker"],
        place=world.committees[0],
        kind=MeetingKind.HEARING,
        title="听证会",
        starts_at=soon(),
        ends_at=soon(hours=1),
    )
    with pytest.raises(ValidationError, match="至少添加一项议程"):
        services.meeting_announce(actor=users["worker"], meeting=meeting)
    services.agenda_add(actor=users["worker"], meeting=meeting, title="议题")
    with pytest.raises(ValidationError):
        services.meeting_announce(actor=users["worker"], meeting=meeting)


# --- announcement -----------------------------------------------------------------------------


def test_announcing_publishes_the_agenda_and_invites_those_with_accounts(world, users, adults):
    meeting = announced(world, users, attendance_mode="adults")
    assert meeting.state == MeetingState.ANNOUNCED
    notice = Notice.objects.get(pk=meeting.notice_id)
    assert notice.kind == "meeting" and notice.place == world.committees[0]
    assert "加装电梯方案" in notice.body and "居委会会议室" in notice.body
    assert Notification.objects.filter(user=users["resident"], kind="meeting_invitation").exists()


def test_short_notice_needs_confirming(world, users, adults):
    meeting = draft(world, users, starts_at=soon(3), ends_at=soon(3, 2))
    with pytest.raises(ValidationError) as error:
        services.meeting_announce(actor=users["worker"], meeting=meeting)
    assert error.value.code == "short_notice"
    assert _state_of(meeting) == MeetingState.DRAFT
    meeting = services.meeting_announce(
        actor=users["worker"], meeting=meeting, short_notice_ok=True
    )
    assert meeting.short_notice and meeting.state == MeetingState.ANNOUNCED


def test_notice_days_are_a_setting(settings, world, users, adults):
    settings.LINLI_MEETING_NOTICE_DAYS = {"residents_meeting": 2}
    meeting = draft(world, users, starts_at=soon(3), ends_at=soon(3, 2))
    assert services.meeting_announce(actor=users["worker"], meeting=meeting).short_notice is False
    assert services.notice_days(MeetingKind.OWNERS_ASSEMBLY) == 15  # PR-08


def _state_of(meeting):
    from linli.meetings.models import Meeting

    return Meeting.objects.get(pk=meeting.pk).state


# --- check-in ---------------------------------------------------------------------------------


def test_check_in_by_qr_and_by_list_happens_once(world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    first, second = meeting.invitations.order_by("position")[:2]
    services.meeting_check_in(
        actor=users["worker"], meeting=meeting, token=first.checkin_token, method="qr"
    )
    with pytest.raises(services.AlreadyCheckedIn) as already:
        services.meeting_check_in(
            actor=users["worker"], meeting=meeting, invitation=first, method="list"
        )
    assert first.label in already.value.message
    services.meeting_check_in(
        actor=users["worker"], meeting=meeting, invitation=second, method="list"
    )
    assert Attendance.objects.filter(meeting=meeting).count() == 2
    # The database itself refuses a second row.
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.create(meeting=meeting, invitation=first, method="qr")


def test_check_in_refuses_unknown_codes_closed_meetings_and_strangers(world, users, adults):
    meeting = announced(world, users, attendance_mode="adults")
    invitation = meeting.invitations.first()
    with pytest.raises(ValidationError):  # not started yet
        services.meeting_check_in(
            actor=users["worker"], meeting=meeting, invitation=invitation, method="list"
        )
    meeting = services.meeting_start(actor=users["worker"], meeting=meeting)
    with pytest.raises(ValidationError):
        services.meeting_check_in(actor=users["worker"], meeting=meeting, token="nope", method="qr")
    with pytest.raises(PermissionDenied):
        services.meeting_check_in(
            actor=users["stranger"], meeting=meeting, invitation=invitation, method="list"
        )


def test_a_ticked_list_skips_those_already_checked_in(world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    invitations = list(meeting.invitations.order_by("position")[:4])
    mine = services.invitation_of(users["resident"], meeting)
    services.meeting_check_in(
        actor=users["resident"], meeting=meeting, invitation=mine, method="self"
    )
    ticked = [mine, *[i for i in invitations if i.pk != mine.pk][:2]]
    new, skipped = services.meeting_check_in_list(
        actor=users["worker"], meeting=meeting, invitations=ticked
    )
    assert [a.invitation_id for a in new] == [i.pk for i in ticked[1:]]
    assert {a.method for a in new} == {"list"}
    assert [a.invitation_id for a in skipped] == [mine.pk] and skipped[0].method == "self"
    assert Attendance.objects.filter(meeting=meeting).count() == 3
    new, skipped = services.meeting_check_in_list(
        actor=users["worker"], meeting=meeting, invitations=ticked
    )
    assert new == [] and len(skipped) == 3
    # The rules still hold for the whole list: a stranger, a closed meeting.
    with pytest.raises(PermissionDenied):
        services.meeting_check_in_list(
            actor=users["stranger"], meeting=meeting, invitations=invitations[3:]
        )
    meeting = services.meeting_close(actor=users["worker"], meeting=meeting)
    with pytest.raises(ValidationError):
        services.meeting_check_in_list(
            actor=users["worker"], meeting=meeting, invitations=invitations[3:]
        )
    assert Attendance.objects.filter(meeting=meeting).count() == 3


def test_a_resident_checks_in_only_themself(world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    mine = services.invitation_of(users["resident"], meeting)
    other = meeting.invitations.exclude(pk=mine.pk).first()
    with pytest.raises(PermissionDenied):
        services.meeting_check_in(
            actor=users["resident"], meeting=meeting, invitation=other, method="self"
        )
    services.meeting_check_in(
        actor=users["resident"], meeting=meeting, invitation=mine, method="self"
    )
    assert mine.attendances.get().method == "self"


def test_registration(world, users, adults):
    meeting = announced(world, users, attendance_mode="adults")
    invitation = services.meeting_register(actor=users["resident"], meeting=meeting)
    assert invitation.registered_at is not None
    with pytest.raises(ValidationError):
        services.meeting_register(actor=users["resident"], meeting=meeting)
    with pytest.raises(ValidationError):
        services.meeting_register(actor=users["worker"], meeting=meeting)  # not invited


# --- quorum -----------------------------------------------------------------------------------


def test_residents_quorum_is_more_than_half_exactly_half_is_not(world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    invitations = list(meeting.invitations.order_by("position"))
    check_in(users, meeting, invitations[:5])
    quorum = selectors.meeting_quorum(meeting=meeting)
    assert (quorum.present, quorum.base, quorum.quorate, quorum.needed) == (5, 10, False, 6)
    check_in(users, meeting, invitations[5:6])
    assert selectors.meeting_quorum(meeting=meeting).quorate is True


def test_representatives_quorum_is_two_thirds_inclusive(world, users):
    meeting = running(world, users, kind=MeetingKind.REPRESENTATIVES_MEETING, members=MEMBERS)
    invitations = list(meeting.invitations.order_by("position"))
    check_in(users, meeting, invitations[:5])
    quorum = selectors.meeting_quorum(meeting=meeting)
    assert (quorum.quorate, quorum.needed) == (False, 6)
    check_in(users, meeting, invitations[5:6])  # 6 of 9 is exactly two-thirds
    assert selectors.meeting_quorum(meeting=meeting).quorate is True


def test_consultative_meetings_need_no_quorum(world, users):
    meeting = running(world, users, kind=MeetingKind.HEARING, members=MEMBERS[:3])
    quorum = selectors.meeting_quorum(meeting=meeting)
    assert quorum.quorate is True and quorum.steps == []


def test_owners_quorum_counts_area_and_heads_checked_in(world, users):
    owner_of(world, 0, "业主甲", "100.00")
    owner_of(world, 1, "业主乙", "100.00")
    owner_of(world, 2, "业主丙", "100.00")
    meeting = running(
        world, users, kind=MeetingKind.OWNERS_ASSEMBLY, place=world.compounds[0], starts_at=soon(16)
    )
    invitations = list(meeting.invitations.order_by("position"))
    check_in(users, meeting, invitations[:1])
    quorum = selectors.meeting_quorum(meeting=meeting)
    assert (quorum.present, quorum.base, quorum.quorate) == (1, 3, False)
    check_in(users, meeting, invitations[1:2])  # 2 of 3 heads and 200 of 300 m²: two-thirds
    quorum = selectors.meeting_quorum(meeting=meeting)
    assert quorum.quorate is True and quorum.present_area == 200


# --- motions ----------------------------------------------------------------------------------


def test_a_residents_motion_needs_more_than_half_of_those_present(world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    check_in(users, meeting, list(meeting.invitations.order_by("position"))[:6])
    failed = _decide(users, meeting, yes=3, no=1, abstain=2)  # 3 of 6: exactly half
    assert failed.state == MotionState.CLOSED and not hasattr(failed, "resolution")
    assert failed.result["outcome"]["passed"] is False
    passed = _decide(users, meeting, yes=4, abstain=2, text="同意更换门禁")
    assert passed.resolution.text == "同意更换门禁"
    assert passed.result["facts"] == {
        "mode": "adults",
        "entitled": 10,
        "present": 6,
        "yes": 4,
        "no": 0,
        "abstain": 2,
    }


def test_hands_only_for_those_present_and_once(world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    invitations = list(meeting.invitations.order_by("position"))
    check_in(users, meeting, invitations[:6])
    motion = services.motion_add(actor=users["worker"], agenda_item=_agenda(meeting), text="动议")
    motion = services.motion_open_vote(actor=users["worker"], motion=motion)
    with pytest.raises(ValidationError):  # absent
        services.motion_record_hands(
            actor=users["worker"], motion=motion, choices={invitations[8].pk: "yes"}
        )
    services.motion_record_hands(
        actor=users["worker"], motion=motion, choices={invitations[0].pk: "yes"}
    )
    with pytest.raises(ValidationError):  # voted already
        services.motion_record_hands(
            actor=users["worker"], motion=motion, choices={invitations[0].pk: "no"}
        )
    # Someone arriving after the vote opened is not on its frozen list.
    check_in(users, meeting, invitations[6:7])
    with pytest.raises(ValidationError):
        services.motion_record_hands(
            actor=users["worker"], motion=motion, choices={invitations[6].pk: "yes"}
        )


def test_attendees_vote_on_their_phones(world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    mine = services.invitation_of(users["resident"], meeting)
    check_in(users, meeting, [mine])
    motion = services.motion_add(actor=users["worker"], agenda_item=_agenda(meeting), text="动议")
    motion = services.motion_open_vote(actor=users["worker"], motion=motion)
    services.motion_cast(actor=users["resident"], motion=motion, choice="yes")
    with pytest.raises(ValidationError):
        services.motion_cast(actor=users["resident"], motion=motion, choice="no")


def test_a_household_representative_votes_on_their_phone(world, users, adults):
    """One per household: the frozen list holds households, and the checked-in household's
    adult votes for it, once."""
    meeting = running(world, users, attendance_mode="households")
    mine = services.invitation_of(users["resident"], meeting)
    assert mine is not None and mine.household_id is not None
    check_in(users, meeting, [mine])
    motion = services.motion_add(actor=users["worker"], agenda_item=_agenda(meeting), text="动议")
    motion = services.motion_open_vote(actor=users["worker"], motion=motion)
    services.motion_cast(actor=users["resident"], motion=motion, choice="yes")
    with pytest.raises(ValidationError):
        services.motion_cast(actor=users["resident"], motion=motion, choice="no")
    assert motion.vote.ballots.count() == 1


def test_representatives_motion_at_exactly_two_thirds_present(world, users):
    meeting = running(world, users, kind=MeetingKind.REPRESENTATIVES_MEETING, members=MEMBERS)
    check_in(users, meeting, list(meeting.invitations.order_by("position"))[:6])
    motion = _decide(users, meeting, yes=4, no=2)
    assert motion.result["outcome"]["quorate"] and motion.result["outcome"]["passed"]
    motion = _decide(users, meeting, yes=3, no=3, text="另一动议")
    assert motion.result["outcome"]["passed"] is False


def test_closing_the_meeting_closes_open_votes(world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    check_in(users, meeting, list(meeting.invitations.order_by("position"))[:6])
    motion = services.motion_add(actor=users["worker"], agenda_item=_agenda(meeting), text="动议")
    services.motion_open_vote(actor=users["worker"], motion=motion)
    services.meeting_close(actor=users["worker"], meeting=meeting)
    motion.refresh_from_db()
    assert motion.state == MotionState.CLOSED and motion.vote.state == "closed"


def test_owners_assembly_by_written_consultation_with_paper_ballots(world, users):
    from linli.votes.services import ballot_confirm, ballot_record

    for i, area in enumerate(["100.00", "100.00", "100.00"]):
        owner_of(world, i, f"业主{i}", area)
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
        agenda_item=_agenda(meeting),
        text="使用维修资金更换屋面防水",
        matter="maintenance_fund_use",
    )
    assert motion.rule_id == "owners_ordinary"
    motion = services.motion_open_vote(actor=users["worker"], motion=motion)
    assert motion.vote.entitled_count == 3  # everyone invited, not just those present
    invitations = list(meeting.invitations.order_by("position"))
    for invitation, answer in zip(invitations, ["yes", "yes", "no"], strict=True):
        participation = ballot_record(
            actor=users["worker"],
            vote=motion.vote,
            voter_key=invitation.key,
            choice=answer,
            channel="paper",
            provenance=f"第{invitation.pk}号表决票",
        )
        ballot_confirm(actor=users["director"], participation=participation)
    motion = services.motion_close(actor=users["worker"], motion=motion)
    outcome = motion.result["outcome"]
    assert outcome["quorate"] and outcome["passed"]
    assert motion.resolution.result["facts"]["yes_heads"] == 2


def test_owners_special_matter_needs_three_quarters(world, users):
    for i in range(4):
        owner_of(world, i, f"业主{i}", "100.00")
    meeting = running(
        world, users, kind=MeetingKind.OWNERS_ASSEMBLY, place=world.compounds[0], starts_at=soon(16)
    )
    check_in(users, meeting, list(meeting.invitations.all()))
    motion = services.motion_add(
        actor=users["worker"],
        agenda_item=_agenda(meeting),
        text="利用共有部分设置广告位",
        matter="common_parts_use_or_business",
    )
    assert motion.rule_id == "owners_special"
    motion = services.motion_open_vote(actor=users["worker"], motion=motion)
    answers = dict(
        zip(meeting.invitations.order_by("position"), ["yes", "yes", "yes", "no"], strict=True)
    )
    services.motion_record_hands(
        actor=users["worker"], motion=motion, choices={i.pk: a for i, a in answers.items()}
    )
    motion = services.motion_close(actor=users["worker"], motion=motion)
    assert motion.result["outcome"]["passed"] is True  # 3/4 exactly, 以上 inclusive


def test_review_meeting_evaluates_the_committee_with_scores(world, users):
    meeting = running(world, users, kind=MeetingKind.REVIEW, members=MEMBERS[:3])
    check_in(users, meeting, list(meeting.invitations.all()))
    motion = services.motion_add(
        actor=users["worker"],
        agenda_item=_agenda(meeting),
        text="2026年度居委会及社工民主评议",
        kind=MotionKind.EVALUATION,
        candidates="周主任\n郑敏\n吴书记",
    )
    motion = services.motion_open_vote(actor=users["worker"], motion=motion)
    assert (motion.vote.kind, motion.vote.method, motion.vote.secret) == ("poll", "score", True)
    options = list(motion.vote.options.order_by("position"))
    from linli.votes.services import ballot_record

    for invitation in meeting.invitations.all():
        ballot_record(
            actor=users["worker"],
            vote=motion.vote,
            voter_key=invitation.key,
            choice={str(o.pk): 5 for o in options},
            channel="meeting",
        )
    motion = services.motion_close(actor=users["worker"], motion=motion)
    assert not Resolution.objects.filter(motion=motion).exists()
    assert motion.result["took_part"] == 3


def test_motion_validation(world, users):
    meeting = draft(world, users, kind=MeetingKind.REVIEW)
    item = _agenda(meeting)
    with pytest.raises(ValidationError):
        services.motion_add(actor=users["worker"], agenda_item=item, text="")
    with pytest.raises(ValidationError):
        services.motion_add(
            actor=users["worker"],
            agenda_item=item,
            text="评议",
            kind="evaluation",
            candidates="一人",
        )
    with pytest.raises(ValidationError):
        services.motion_add(
            actor=users["worker"],
            agenda_item=item,
            text="选举",
            kind="election",
            candidates="甲\n乙",
        )
    owners = draft(world, users, kind=MeetingKind.OWNERS_ASSEMBLY, place=world.compounds[0])
    with pytest.raises(ValidationError):  # an owners' decision names its matter
        services.motion_add(actor=users["worker"], agenda_item=_agenda(owners), text="决定")


def test_a_vote_needs_someone_present(world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    motion = services.motion_add(actor=users["worker"], agenda_item=_agenda(meeting), text="动议")
    with pytest.raises(ValidationError):
        services.motion_open_vote(actor=users["worker"], motion=motion)


# --- minutes and resolutions ------------------------------------------------------------------


def test_minutes_are_approved_by_a_second_person_then_published(world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    with pytest.raises(ValidationError):
        services.minutes_save(actor=users["worker"], meeting=meeting, text="记录")
    meeting = services.meeting_close(actor=users["worker"], meeting=meeting)
    minutes = services.minutes_save(actor=users["worker"], meeting=meeting, text="会议记录：……")
    with pytest.raises(ValidationError):
        services.minutes_publish(actor=users["worker"], minutes=minutes)
    with pytest.raises(ValidationError):
        services.minutes_approve(actor=users["worker"], minutes=minutes)
    minutes = services.minutes_approve(actor=users["director"], minutes=minutes)
    with pytest.raises(ValidationError):
        services.minutes_save(actor=users["worker"], meeting=meeting, text="改")
    minutes = services.minutes_publish(actor=users["worker"], minutes=minutes)
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.MINUTES_PUBLISHED and minutes.notice.kind == "meeting"


def test_a_resolution_is_published_without_names(world, users, adults):
    meeting = running(world, users, attendance_mode="adults")
    check_in(users, meeting, list(meeting.invitations.order_by("position"))[:6])
    motion = _decide(users, meeting, yes=6)
    resolution = services.resolution_publish(actor=users["worker"], resolution=motion.resolution)
    notice = resolution.notice
    assert notice.kind == "resolution" and "同意加装电梯" in notice.body
    assert not any(person.name in notice.body for person in adults)
    with pytest.raises(ValidationError):
        services.resolution_publish(actor=users["worker"], resolution=resolution)


# --- petitions --------------------------------------------------------------------------------


def test_a_petition_of_exactly_one_fifth_of_adults_must_be_convened(world, users, adults):
    petition = services.petition_create(
        actor=users["worker"],
        place=world.committees[0],
        kind="residents_meeting",
        subject="要求召开居民会议讨论停车收费",
    )
    services.petition_sign(actor=users["worker"], petition=petition, key=f"r:{adults[0].pk}")
    status = selectors.petition_status(petition=petition)
    assert (status.petitioners, status.entitled, status.met, status.needed) == (1, 10, False, 2)
    with pytest.raises(ValidationError):
        services.petition_sign(actor=users["worker"], petition=petition, key=f"r:{adults[0].pk}")
    with pytest.raises(ValidationError):  # not an entitled adult
        services.petition_sign(actor=users["worker"], petition=petition, key="r:999999")
    services.petition_sign(actor=users["worker"], petition=petition, key=f"r:{adults[1].pk}")
    assert selectors.petition_status(petition=petition).met is True


def test_petition_by_groups_and_by_owners(world, users):
    groups = services.petition_create(
        actor=users["worker"],
        place=world.committees[0],
        kind="residents_meeting",
        mode="group_reps",
        groups_total=9,
        subject="居民小组提议",
    )
    for name in ("一组", "二组"):
        services.petition_sign(actor=users["worker"], petition=groups, group=name)
    assert selectors.petition_status(petition=groups).met is False
    services.petition_sign(actor=users["worker"], petition=groups, group="三组")  # 3 of 9 = 1/3
    assert selectors.petition_status(petition=groups).met is True
    owners = [owner_of(world, i, f"业主{i}", "90.00") for i in range(5)]
    petition = services.petition_create(
        actor=users["worker"],
        place=world.compounds[0],
        kind="owners_extraordinary",
        subject="临时业主大会",
    )
    services.petition_sign(actor=users["worker"], petition=petition, key=f"o:{owners[0].pk}")
    status = selectors.petition_status(petition=petition)
    assert (status.entitled, status.met) == (5, True)  # 1 of 5 = 20%


def test_petition_needs_the_right_place_and_groups_total(world, users):
    with pytest.raises(ValidationError):
        services.petition_create(
            actor=users["worker"], place=world.compounds[0], kind="residents_meeting", subject="x"
        )
    with pytest.raises(ValidationError):
        services.petition_create(
            actor=users["worker"],
            place=world.committees[0],
            kind="residents_meeting",
            mode="group_reps",
            subject="x",
        )


# --- 四议两公开 -------------------------------------------------------------------------------


def _passed_meeting(world, users):
    meeting = running(world, users, kind=MeetingKind.REPRESENTATIVES_MEETING, members=MEMBERS)
    check_in(users, meeting, list(meeting.invitations.all()))
    _decide(users, meeting, yes=9)
    return services.meeting_close(actor=users["worker"], meeting=meeting)


def test_a_procedure_takes_its_steps_in_order(world, users):
    procedure = services.procedure_create(
        actor=users["worker"], place=world.committees[0], title="小区停车改造"
    )
    assert list(procedure.steps.values_list("key", flat=True)) == [
        "proposal",
        "consultation",
        "review",
        "resolution",
        "publish_resolution",
        "publish_result",
    ]
    with pytest.raises(ValidationError, match="请先完成“提议”"):
        services.procedure_step_complete(
            actor=users["worker"], procedure=procedure, position=2, record="两委商议"
        )
    services.procedure_step_complete(
        actor=users["worker"], procedure=procedure, position=1, record="党总支提议"
    )
    with pytest.raises(ValidationError):  # done already
        services.procedure_step_complete(
            actor=users["worker"], procedure=procedure, position=1, record="again"
        )
    services.procedure_step_complete(
        actor=users["worker"], procedure=procedure, position=2, record="两委联席会议商议"
    )
    services.procedure_step_complete(
        actor=users["worker"], procedure=procedure, position=3, record="党员大会审议通过"
    )
    # The resolution step needs a closed meeting of the committee with a passed resolution.
    with pytest.raises(ValidationError) as error:
        services.procedure_step_complete(actor=users["worker"], procedure=procedure, position=4)
    assert "meeting" in error.value.message_dict
    failed = running(world, users, kind=MeetingKind.HEARING, members=MEMBERS[:2])
    with pytest.raises(ValidationError):
        services.procedure_step_complete(
            actor=users["worker"], procedure=procedure, position=4, meeting=failed
        )
    meeting = _passed_meeting(world, users)
    step = services.procedure_step_complete(
        actor=users["worker"], procedure=procedure, position=4, meeting=meeting
    )
    assert "同意加装电梯" in step.record
    published = services.procedure_step_complete(
        actor=users["worker"], procedure=procedure, position=5, record="决议：同意停车改造"
    )
    assert published.notice.kind == "resolution"
    result = services.procedure_step_complete(
        actor=users["worker"], procedure=procedure, position=6, record="改造已完成，新增车位30个"
    )
    assert result.notice.kind == "procedure"
    procedure.refresh_from_db()
    assert procedure.completed_at is not None


def test_a_committee_template_orders_its_own_steps(world, users):
    template = services.procedure_template_save(
        actor=users["worker"],
        committee=world.committees[0],
        name="简化流程",
        steps=[("proposal", "居委会提议"), ("resolution", ""), ("publish_resolution", "")],
    )
    procedure = services.procedure_create(
        actor=users["worker"], place=world.committees[0], title="事项", template=template
    )
    assert procedure.steps.order_by("position").first().display_label == "居委会提议"
    with pytest.raises(ValidationError):
        services.procedure_template_save(
            actor=users["worker"], committee=world.committees[0], name="坏", steps=["nonsense", "x"]
        )
    with pytest.raises(PermissionDenied):
        services.procedure_create(actor=users["stranger"], place=world.committees[0], title="x")


def test_cancelling_an_announced_meeting_publishes_it(world, users, adults):
    meeting = announced(world, users, attendance_mode="adults")
    with pytest.raises(ValidationError):
        services.meeting_cancel(actor=users["worker"], meeting=meeting, reason="")
    meeting = services.meeting_cancel(actor=users["worker"], meeting=meeting, reason="台风停会")
    assert meeting.state == MeetingState.CANCELLED
    assert Notice.objects.filter(title__contains="2026年度居民会议", body="台风停会").exists()


def test_invitations_survive_a_household_in_two_meetings(world, users, adults):
    a = announced(world, users, attendance_mode="households")
    b = announced(world, users, attendance_mode="households", title="第二次")
    assert Invitation.objects.filter(meeting__in=[a, b]).count() == 10
    assert len(selectors.my_invitations(viewer=users["resident"])) == 2


def test_a_residents_topic_goes_on_the_agenda(world, users):
    from linli.deliberation.services import topic_raise

    topic = topic_raise(
        actor=users["resident"],
        committee=world.committees[0],
        title="3号楼加装电梯",
        body="老人上下楼不便，希望加装电梯。",
        category="facilities",
    )
    meeting = draft(world, users)
    item = services.agenda_add(actor=users["worker"], meeting=meeting, topic=topic)
    topic.refresh_from_db()
    assert item.title == "3号楼加装电梯" and item.topic == topic
    assert topic.state == "scheduled" and meeting.title in topic.meeting_label
    other = draft(world, users, place=world.committees[1], actor="stranger", title="别处")
    with pytest.raises(ValidationError):
        services.agenda_add(actor=users["stranger"], meeting=other, topic=topic)
