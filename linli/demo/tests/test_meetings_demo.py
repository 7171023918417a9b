"""The demo's meetings: every kind, written through the services, consistent with the rules."""

import pytest

from linli.demo.meetings import populate_meetings
from linli.demo.register import populate_register
from linli.meetings.choices import MeetingKind, MeetingState
from linli.meetings.models import Meeting, Petition, Procedure, Resolution
from linli.meetings.selectors import petition_status
from linli.notices.models import Notice
from linli.votes.models import Vote

pytestmark = pytest.mark.django_db


def test_the_demo_holds_every_kind_of_meeting_and_decision(world, users):
    populate_register(world, seed=7, residents=100)
    counts = populate_meetings(world, seed=7, users=users)
    kinds = set(Meeting.objects.values_list("kind", flat=True))
    assert kinds == set(MeetingKind.values)
    assert not Meeting.objects.exclude(state=MeetingState.MINUTES_PUBLISHED).exists()
    # Every meeting was announced with a notice and its minutes are on the board.
    assert not Meeting.objects.filter(notice__isnull=True).exists()
    assert Notice.objects.filter(kind="resolution").count() >= Resolution.objects.count()
    assert not Resolution.objects.filter(notice__isnull=True).exists()
    # The owners' assembly by written consultation passed by the double majority.
    owners = Meeting.objects.get(kind=MeetingKind.OWNERS_ASSEMBLY)
    motion = owners.motions.get()
    outcome = motion.result["outcome"]
    assert owners.written and outcome["quorate"] and outcome["passed"]
    assert {s["key"] for s in outcome["steps"]} >= {"area_participation", "head_majority"}
    assert motion.vote.participations.filter(channel__in=["paper", "proxy"]).exists()
    assert not motion.vote.participations.filter(state="pending").exists()
    # The committee election elected five of seven; the budget vote funded projects.
    election = Vote.objects.get(kind="election")
    assert election.state == "closed" and len(election.motion.result["named"]["elected"]) == 5
    budget = Vote.objects.get(kind="budget")
    assert budget.state == "closed" and counts["budget_ballots"] > 0
    # The review meeting scored the committee; the petition met its threshold.
    assert Vote.objects.filter(kind="poll", method="score", state="closed").exists()
    assert petition_status(petition=Petition.objects.get()).met
    procedure = Procedure.objects.get()
    assert procedure.completed_at and procedure.steps.filter(notice__isnull=False).count() == 2


def test_the_resident_persona_has_an_open_poll_to_answer(world, users):
    from linli.demo.management.commands.demo import _link_resident
    from linli.votes.selectors import votes_for

    populate_register(world, seed=7, residents=100)
    _link_resident(users["resident"])
    counts = populate_meetings(world, seed=7, users=users)
    assert counts["open_polls"] == 1
    poll = Vote.objects.get(kind="poll", state="open")
    assert poll.participations.exists()
    rows = [row for row in votes_for(viewer=users["resident"]) if row.vote.pk == poll.pk]
    assert len(rows) == 1 and rows[0].can_vote
