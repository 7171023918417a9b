"""The demo's fund projects: three years through the real services, every state in the current
year (each in the first committee), the books consistent with the ledger's own checks."""

import datetime as dt
import random
from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum

from linli.demo.funds import populate_funds
from linli.demo.projects import projects_hook
from linli.funds.choices import CommitmentState
from linli.funds.models import Transaction
from linli.funds.selectors import ledger_verify
from linli.notices.models import Notice, Objection
from linli.projects.choices import PaymentState, ProjectState, Stage
from linli.projects.models import Payment, Project, ProjectStep, Review, SurveyResponse
from linli.projects.selectors import overdue_disclosures

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 6)


@pytest.fixture(autouse=True)
def _on_the_demo_day(monkeypatch, settings, tmp_path):
    # The services refuse postings after the local date and closes before 31 December: pin it.
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: TODAY)
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LINLI_NOTIFY_SENDERS = []


def _load(world, users, seed=7):
    from linli.demo.topics import populate_topics

    populate_topics(world=world, users=users, rng=random.Random(seed))
    counts = Counter()

    def hook(**kwargs):
        counts.update(projects_hook(**kwargs))

    populate_funds(world, users=users, seed=seed, today=TODAY, projects_hook=hook)
    return counts


def test_three_years_of_projects_at_every_stage(world, users):
    counts = _load(world, users)
    projects = Project.objects.all()
    committees = len(world.committees)
    # 6 + 4–5 a committee in each past year, the tour of 20 and 4–6 a committee this year.
    assert projects.count() == counts["projects"] >= 2 * (6 + 4 * (committees - 1)) + 20
    for year in (2024, 2025, 2026):
        assert projects.filter(year=year).count() >= 10, year

    current = projects.filter(year=2026)
    first = current.filter(place=world.committees[0])
    for state in ProjectState.values:
        assert first.filter(state=state).exists(), state
    # Past years ended: nothing left open when the year closed.
    past = projects.filter(year__lt=2026)
    ended = {ProjectState.CLOSED, ProjectState.REJECTED, ProjectState.WITHDRAWN}
    assert set(past.values_list("state", flat=True)) <= ended
    assert past.filter(state=ProjectState.CLOSED).count() >= past.count() * 0.7
    assert past.filter(steps__step="accept_fail").exists()
    assert past.filter(steps__step="return").exists()

    # The variants the pages show.
    checked = first.filter(state=ProjectState.CHECKED)
    assert sorted(p.reviews.filter(stage=Stage.REVIEW).count() for p in checked) == [0, 1, 2]
    publicised = first.filter(state=ProjectState.PUBLICISED)
    for project in publicised:  # published in the last few days: residents may still object
        assert project.notice.published_at.date() <= TODAY <= project.notice.last_day
    objections = Objection.objects.filter(notice__in=[p.notice for p in publicised])
    assert set(objections.values_list("state", flat=True)) == {"open", "answered"}
    assert Payment.objects.filter(
        project__in=first, state=PaymentState.REQUESTED, approvals__isnull=False
    ).exists()
    assert overdue_disclosures(place=world.committees[0], today=TODAY).exists()
    assert SurveyResponse.objects.filter(project__state=ProjectState.ACCEPTED).exists()
    assert not SurveyResponse.objects.filter(user=users["resident"]).exists()

    # Every closed project: accepted, scored by three reviewers, paid within its budget, its
    # commitment closed, the outcome on the board.
    for project in projects.filter(state=ProjectState.CLOSED).select_related("commitment"):
        assert project.commitment.state == CommitmentState.CLOSED
        paid = project.payments.filter(state=PaymentState.PAID).aggregate(total=Sum("amount"))
        assert Decimal(0) < paid["total"] <= project.budget
        assert project.reviews.filter(stage=Stage.EVALUATION, conflict=False).count() == 3
        assert project.outcome and project.evaluation_score is not None
        assert not project.payments.filter(disclosed_in=None).exists()
        assert project.payments.filter(invoice="").count() == 0
        if project.year < 2026:
            assert project.steps.filter(at__year=project.year).count() == project.steps.count()
    # Each decided by its residents: a topic or a held meeting of its own committee.
    for project in projects.select_related("topic", "meeting"):
        record = project.topic or project.meeting
        assert record is not None and record.path.startswith(project.path), project.pk
    for project in projects.exclude(commitment=None):
        assert MIN <= project.budget <= CAP[project.year]
    assert not Review.objects.filter(conflict=True).exists()

    # Dated as it happened: nothing in the future, steps in order, ledger dates within the year.
    assert not Transaction.objects.filter(date__gt=TODAY).exists()
    for year in (2024, 2025):
        assert not Transaction.objects.filter(
            commitment__project__year=year, date__year__gt=year
        ).exists()
    latest = dt.datetime.combine(TODAY, dt.time.max, tzinfo=dt.UTC)
    assert not ProjectStep.objects.filter(at__gt=latest).exists()
    assert not Notice.objects.filter(
        source__startswith="project:", published_at__gt=latest
    ).exists()
    for project in projects:
        times = list(project.steps.order_by("id").values_list("at", flat=True))
        assert times == sorted(times), project.pk
        assert project.created_at == times[0]

    assert ledger_verify() == []
    assert counts["payments"] == Payment.objects.filter(state=PaymentState.PAID).count()
    assert (
        counts["paid"]
        == Payment.objects.filter(state=PaymentState.PAID).aggregate(total=Sum("amount"))["total"]
    )


MIN = Decimal(3000)
CAP = {2024: Decimal(20000), 2025: Decimal(20000), 2026: Decimal(30000)}


class _Undo(Exception):
    pass


def _history(world, users, seed):
    """The first year's projects in a savepoint, noted and rolled back (the ledger refuses
    DELETE, not a rollback)."""

    def hook(**kwargs):
        if kwargs["year"] == 2024:
            projects_hook(**kwargs)

    try:
        with transaction.atomic():
            populate_funds(world, users=users, seed=seed, today=TODAY, projects_hook=hook)
            rows = list(
                Project.objects.order_by("pk").values_list(
                    "place_id", "year", "title", "state", "budget", "created_at"
                )
            )
            steps = list(ProjectStep.objects.order_by("pk").values_list("step", "at"))
            money = list(Transaction.objects.order_by("pk").values_list("kind", "date", "amount"))
            raise _Undo
    except _Undo:
        pass
    assert not Project.objects.exists()
    return rows, steps, money


def test_deterministic_for_a_seed(world, users):
    first = _history(world, users, seed=7)
    assert first == _history(world, users, seed=7)
    assert len(first[0]) >= 10
