"""The project workflow: every step from its one state, by its one role, with its record; the
profile's rules at their boundaries; money only through the ledger."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from linli.funds.choices import AccountKind, CommitmentState
from linli.funds.selectors import ledger_verify
from linli.funds.tests.factories import balance, fund
from linli.notices import services as notices
from linli.notices.models import Notice
from linli.projects import services
from linli.projects.choices import PaymentState, Stage, Step
from linli.projects.choices import ProjectState as S
from linli.projects.models import ProjectStep
from linli.projects.selectors import budget_rows, overdue_disclosures, survey_summary
from linli.projects.tests.factories import (
    EVAL,
    GOOD,
    LINES,
    a_project,
    a_topic,
    funded,
    invoice,
    money,
    pay,
    profile,
    review_all,
    walk,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(world, users):
    funded(world)
    profile(world)
    return world


def test_whole_path_records_every_step_and_moves_money_only_through_the_ledger(ready, users):
    project = a_project(ready, users)
    project = walk(project, users, S.APPROVED)
    committee_fund = fund(ready.committees[0])
    assert project.commitment.amount == money("10000")
    assert balance(committee_fund, AccountKind.COMMITTED) == money("10000")
    payment = pay(project, users, "8000.00")
    assert payment.state == PaymentState.PAID
    assert balance(committee_fund, AccountKind.SPENT) == money("8000")
    project = walk(project, users, S.CLOSED)
    assert project.state == S.CLOSED
    project.commitment.refresh_from_db()
    assert project.commitment.state == CommitmentState.CLOSED
    assert balance(committee_fund, AccountKind.COMMITTED) == 0  # 2,000 released
    steps = list(ProjectStep.objects.filter(project=project).values_list("step", flat=True))
    for step in (
        Step.CREATE,
        Step.SUBMIT,
        Step.CHECK,
        Step.REVIEW_PASS,
        Step.PUBLICISE,
        Step.APPROVE,
        Step.PAYMENT,
        Step.COMPLETE,
        Step.ACCEPT,
        Step.EVALUATE,
        Step.CLOSE,
    ):
        assert step in steps
    assert all(row.actor_id for row in ProjectStep.objects.filter(project=project))
    assert ledger_verify() == []
    outcome = Notice.objects.filter(source=f"project:{project.pk}").order_by("-id").first()
    assert "夜间照明改善" in outcome.body and "¥8,000.00" in outcome.body


@pytest.mark.parametrize(
    "to, step",
    [
        (S.DRAFT, "project_check"),
        (S.SUBMITTED, "project_publicise"),
        (S.CHECKED, "project_approve"),
        (S.REVIEWED, "project_complete"),
        (S.APPROVED, "project_evaluate"),
    ],
)
def test_no_step_can_be_skipped(ready, users, to, step):
    project = a_project(ready, users)
    if to != S.DRAFT:
        project = walk(project, users, to)
    kwargs = {
        "project_check": {"actor": users["director"], "decision": "pass"},
        "project_publicise": {"actor": users["selfgov"]},
        "project_approve": {"actor": users["selfgov"]},
        "project_complete": {"actor": users["worker"], "report": "完成"},
        "project_evaluate": {"actor": users["selfgov"]},
    }[step]
    with pytest.raises(ValidationError) as caught:
        getattr(services, step)(project=project, **kwargs)
    assert caught.value.code == "state"


def test_each_step_belongs_to_its_role(ready, users):
    project = a_project(ready, users)
    with pytest.raises(PermissionDenied):
        services.project_submit(actor=users["stranger"], project=project)
    services.project_submit(actor=users["worker"], project=project)
    with pytest.raises(PermissionDenied):  # a worker does not check
        services.project_check(actor=users["worker"], project=project, decision="pass")
    services.project_check(actor=users["director"], project=project, decision="pass")
    with pytest.raises(PermissionDenied):  # the committee does not score its own project
        services.review_submit(
            actor=users["director"], project=project, stage=Stage.REVIEW, scores=GOOD
        )
    with pytest.raises(PermissionDenied):  # a reviewer does not decide
        services.project_review_decide(actor=users["reviewer"], project=project, decision="pass")


def test_checker_is_not_the_submitter(ready, users):
    project = a_project(ready, users)
    services.project_submit(actor=users["director"], project=project)
    with pytest.raises(ValidationError) as caught:
        services.project_check(actor=users["director"], project=project, decision="pass")
    assert caught.value.code == "same_person"
    services.project_check(actor=users["secretary"], project=project, decision="pass")


def test_returned_project_is_edited_and_resubmitted(ready, users):
    project = walk(a_project(ready, users), users, S.SUBMITTED)
    with pytest.raises(ValidationError):
        services.project_check(actor=users["director"], project=project, decision="return")
    project = services.project_check(
        actor=users["director"], project=project, decision="return", note="预算请细化"
    )
    assert project.state == S.DRAFT
    lines = [*LINES, {"category": "publicity", "item": "告示打印", "amount": "120.00"}]
    project = services.project_update(actor=users["worker"], project=project, lines=lines)
    assert project.budget == money("10120")
    assert services.project_submit(actor=users["worker"], project=project).state == S.SUBMITTED


# --- the profile's rules at their boundaries --------------------------------------------------


def test_cap_reached_exactly_is_allowed_and_a_fen_more_refused(ready, users):
    profile(ready, per_project_cap=Decimal("10000.00"))
    assert a_project(ready, users).budget == money("10000")  # exactly the cap
    over = [*LINES, {"category": "publicity", "item": "海报", "amount": "0.01"}]
    with pytest.raises(ValidationError) as caught:
        a_project(ready, users, lines=over)
    assert "¥10,000.01" in str(caught.value) and "¥10,000.00" in str(caught.value)


def test_cap_lowered_after_drafting_is_applied_at_submission(ready, users):
    project = a_project(ready, users)
    profile(ready, per_project_cap=Decimal("9999.99"))
    with pytest.raises(ValidationError) as caught:
        services.project_submit(actor=users["worker"], project=project)
    assert caught.value.error_dict["lines"][0].code == "cap"


def test_negative_list_category_is_refused_unless_the_street_removes_it(ready, users):
    meals = [{"category": "banquets_and_meals", "item": "志愿者午餐", "amount": "600.00"}]
    with pytest.raises(ValidationError) as caught:
        a_project(ready, users, lines=meals)
    assert "负面清单" in str(caught.value)
    row = profile(ready)
    row.negative_list = [x for x in row.negative_list if x != "banquets_and_meals"]
    row.save()
    assert a_project(ready, users, lines=meals).budget == money("600")


def test_negative_list_words_are_caught_under_another_category(ready, users):
    gift = [{"category": "materials", "item": "慰问老人购物卡", "amount": "500.00"}]
    with pytest.raises(ValidationError, match="购物卡"):
        a_project(ready, users, lines=gift)


def test_deliberation_record_required_by_profile(ready, users):
    project = services.project_create(
        actor=users["worker"],
        place=ready.committees[0],
        title="无议事记录的项目",
        plan="计划",
        beneficiaries="居民",
        beneficiary_count=10,
        starts_on=dt.date(2026, 12, 10),
        ends_on=dt.date(2026, 12, 20),
        lines=LINES,
    )
    with pytest.raises(ValidationError) as caught:
        services.project_submit(actor=users["worker"], project=project)
    assert caught.value.error_dict["topic"][0].code == "deliberation"
    profile(ready, require_deliberation=False)
    assert services.project_submit(actor=users["worker"], project=project).state == S.SUBMITTED


def test_participation_minimum_refuses_with_the_figures(ready, users, monkeypatch):
    from linli.demo.register import populate_register
    from linli.funds import participation

    populate_register(ready, seed=11, residents=100)
    project = a_project(ready, users)
    rate = participation.participation_rate(
        place=ready.committees[0], start=dt.date(2025, 12, 6), end=dt.date(2026, 12, 5)
    )
    assert rate.households_total > 0
    took = rate.households_took_part
    exact = Decimal(took) / Decimal(rate.households_total)
    # A minimum a hair above the rate refuses, naming both figures.
    profile(ready, min_participation_rate=(exact + Decimal("0.0001")).quantize(Decimal("0.0001")))
    with pytest.raises(ValidationError) as caught:
        services.project_submit(actor=users["worker"], project=project, on=dt.date(2026, 12, 6))
    assert f"{took}/{rate.households_total}" in str(caught.value)
    # The minimum exactly met passes (the rate rounded down to the profile's four places).
    profile(ready, min_participation_rate=exact.quantize(Decimal("0.0001"), rounding="ROUND_DOWN"))
    project = services.project_submit(
        actor=users["worker"], project=project, on=dt.date(2026, 12, 6)
    )
    assert (project.participation_households, project.participation_total) == (
        took,
        rate.households_total,
    )


# --- review panel -----------------------------------------------------------------------------


def test_panel_needs_enough_reviewers_and_the_pass_mark_exactly(ready, users):
    profile(ready, pass_score=78)
    project = walk(a_project(ready, users), users, S.CHECKED)
    for key in ("reviewer", "reviewer2"):
        services.review_submit(actor=users[key], project=project, stage=Stage.REVIEW, scores=GOOD)
    with pytest.raises(ValidationError, match="2"):
        services.project_review_decide(actor=users["selfgov"], project=project, decision="pass")
    low = {**GOOD, "sustainability": 7}  # 77
    services.review_submit(
        actor=users["reviewer3"], project=project, stage=Stage.REVIEW, scores=low
    )
    with pytest.raises(ValidationError):  # mean 77.67 < 78
        services.project_review_decide(actor=users["selfgov"], project=project, decision="pass")
    services.review_submit(
        actor=users["reviewer3"], project=project, stage=Stage.REVIEW, scores=GOOD
    )
    project = services.project_review_decide(
        actor=users["selfgov"], project=project, decision="pass"
    )
    assert project.review_score == Decimal("78.00")  # exactly the pass mark passes


def test_reviewer_living_in_the_community_must_declare_and_is_not_counted(ready, users):
    from linli.accounts.roles import Role
    from linli.accounts.services import role_assign

    project = walk(a_project(ready, users), users, S.CHECKED)
    household = users["resident"].assignments.get().place
    role_assign(actor=None, user=users["reviewer3"], role=Role.RESIDENT, place=household)
    with pytest.raises(ValidationError) as caught:
        services.review_submit(
            actor=users["reviewer3"], project=project, stage=Stage.REVIEW, scores=GOOD
        )
    assert caught.value.error_dict["conflict"][0].code == "conflict"
    services.review_submit(
        actor=users["reviewer3"],
        project=project,
        stage=Stage.REVIEW,
        conflict=True,
        conflict_note="本人居住在该小区",
    )
    result = services.panel(project, Stage.REVIEW)
    assert (result.scored, result.recused) == (0, 1)


def test_scores_outside_the_criteria_are_refused(ready, users):
    project = walk(a_project(ready, users), users, S.CHECKED)
    for scores in ({**GOOD, "need": 26}, {**GOOD, "need": "x"}, {"need": 5}, "garbage"):
        with pytest.raises(ValidationError):
            services.review_submit(
                actor=users["reviewer"], project=project, stage=Stage.REVIEW, scores=scores
            )


# --- public notice ----------------------------------------------------------------------------


def test_approval_waits_for_the_last_publicity_day_and_answered_objections(ready, users):
    profile(ready, publicity_days=7)
    project = walk(a_project(ready, users), users, S.PUBLICISED)
    notice = project.notice
    published = timezone.localtime(notice.published_at).date()
    assert notice.last_day == published + dt.timedelta(days=7)
    with pytest.raises(ValidationError, match=str(notice.last_day.day)):
        services.project_approve(actor=users["selfgov"], project=project)
    objection = notices.objection_file(
        actor=users["resident"], notice=notice, text="灯具品牌请公开比价"
    )
    # The window ends: still refused while the objection is unanswered.
    Notice.objects.filter(pk=notice.pk).update(
        published_at=timezone.now() - dt.timedelta(days=8),
        window_until=timezone.now() - dt.timedelta(seconds=1),
    )
    project.refresh_from_db()
    with pytest.raises(ValidationError, match="1"):
        services.project_approve(actor=users["selfgov"], project=project)
    notices.objection_answer(
        actor=users["director"], objection=objection, answer="已比价三家，结果附后。"
    )
    assert services.project_approve(actor=users["selfgov"], project=project).state == S.APPROVED


def test_window_boundary_is_midnight_after_the_last_day(ready, users):
    project = walk(a_project(ready, users), users, S.PUBLICISED)
    until = project.notice.window_until
    assert services.approval_errors(project, now=until - dt.timedelta(microseconds=1))
    assert services.approval_errors(project, now=until) == []


def test_approval_refused_when_the_fund_cannot_cover_the_budget(world, users):
    funded(world, total="10000.00")  # self-governance part 3,000 by the default split
    profile(world)
    project = walk(a_project(world, users), users, S.PUBLICISED)
    past = timezone.now() - dt.timedelta(seconds=1)
    Notice.objects.filter(pk=project.notice_id).update(
        published_at=past - dt.timedelta(days=8), window_until=past
    )
    project.refresh_from_db()
    with pytest.raises(ValidationError, match=r"¥3,000\.00"):
        services.project_approve(actor=users["selfgov"], project=project)
    project.refresh_from_db()
    assert project.state == S.PUBLICISED and project.commitment_id is None


# --- payments ---------------------------------------------------------------------------------


def test_payment_needs_the_profiles_signatures_then_posts(ready, users):
    project = walk(a_project(ready, users), users, S.APPROVED)
    payment = pay(project, users, "500.00", approve=False)
    assert payment.state == PaymentState.REQUESTED and payment.transaction_id is None
    with pytest.raises(ValidationError):  # the requester cannot sign twice
        services.payment_approve(
            actor=users["director"], payment=payment
        ) and services.payment_approve(actor=users["director"], payment=payment)
    payment.refresh_from_db()
    assert payment.state == PaymentState.PAID and payment.transaction.amount == money("500")
    assert payment.disclose_by == timezone.localdate() + dt.timedelta(days=30)


def test_payment_line_exactly_used_up_then_a_fen_more_refused(ready, users):
    project = walk(a_project(ready, users), users, S.APPROVED)
    line = project.lines.get(position=2)  # 2,000
    pay(project, users, "1500.00", line=line, memo="安装")
    pending = pay(project, users, "499.99", line=line, memo="安装尾款", approve=False)
    with pytest.raises(ValidationError) as caught:
        pay(project, users, "0.02", line=line, memo="安装")
    assert caught.value.error_dict["amount"][0].code == "line"
    assert "¥0.01" in str(caught.value)
    pay(project, users, "0.01", line=line, memo="安装")  # exactly the line
    services.payment_approve(actor=users["director"], payment=pending)
    rows = {row.line.position: row for row in budget_rows(project)}
    assert rows[2].paid == money("2000") and rows[2].left == 0


def test_payment_refused_by_negative_words_and_missing_invoice(ready, users):
    project = walk(a_project(ready, users), users, S.APPROVED)
    with pytest.raises(ValidationError) as caught:
        pay(project, users, "100.00", memo="验收后聚餐")
    assert caught.value.error_dict["memo"][0].code == "negative"
    line = project.lines.first()
    with pytest.raises(ValidationError) as caught:
        services.payment_request(
            actor=users["worker"],
            project=project,
            line=line,
            amount="100",
            payee="某公司",
            memo="灯具",
        )
    assert {"invoice", "invoice_number"} <= set(caught.value.error_dict)


def test_payment_refused_above_the_cap_even_if_the_line_allows(ready, users):
    project = walk(a_project(ready, users), users, S.APPROVED)
    profile(ready, per_project_cap=Decimal("5000.00"))  # the street lowered it mid-year
    pay(project, users, "5000.00")
    with pytest.raises(ValidationError) as caught:
        pay(project, users, "0.01")
    assert caught.value.error_dict["amount"][0].code == "cap"


def test_refused_payment_frees_the_line_and_garbage_is_a_clear_error(ready, users):
    project = walk(a_project(ready, users), users, S.APPROVED)
    payment = pay(project, users, "8000.00", approve=False)
    with pytest.raises(ValidationError):
        services.payment_refuse(actor=users["director"], payment=payment, reason="")
    services.payment_refuse(actor=users["director"], payment=payment, reason="发票抬头有误")
    assert pay(project, users, "8000.00").state == PaymentState.PAID
    for bad in ("abc", "-1", "0", "1.001", "1e400"):
        with pytest.raises(ValidationError):
            pay(project, users, bad)


# --- disclosure, acceptance, evaluation -------------------------------------------------------


def test_payments_are_overdue_until_published(ready, users):
    project = walk(a_project(ready, users), users, S.APPROVED)
    payment = pay(project, users, "800.00")
    later = payment.disclose_by + dt.timedelta(days=1)
    assert list(overdue_disclosures(place=ready.committees[0], today=payment.disclose_by)) == []
    assert list(overdue_disclosures(place=ready.committees[0], today=later)) == [payment]
    assert list(overdue_disclosures(viewer=users["stranger"], today=later)) == []
    services.project_disclose(actor=users["worker"], project=project)
    assert list(overdue_disclosures(place=ready.committees[0], today=later)) == []
    notice = Notice.objects.filter(kind="accounts", source=f"project:{project.pk}").get()
    assert "¥800.00" in notice.body and "¥10,000.00" in notice.body
    with pytest.raises(ValidationError):
        services.project_disclose(actor=users["worker"], project=project)


def test_acceptance_can_fail_back_to_the_committee(ready, users):
    project = walk(a_project(ready, users), users, S.COMPLETED)
    project = services.project_accept(
        actor=users["selfgov"], project=project, passed=False, note="3 号楼两盏灯不亮"
    )
    assert project.state == S.APPROVED
    project = services.project_complete(actor=users["worker"], project=project, report="已修复")
    assert project.state == S.COMPLETED


def test_survey_once_per_resident_of_the_community_during_evaluation(ready, users):
    project = walk(a_project(ready, users), users, S.ACCEPTED)
    with pytest.raises(PermissionDenied):
        services.survey_answer(actor=users["stranger"], project=project, score=5)
    with pytest.raises(ValidationError):
        services.survey_answer(actor=users["resident"], project=project, score=6)
    services.survey_answer(actor=users["resident"], project=project, score=4, comment="亮多了")
    with pytest.raises(ValidationError):
        services.survey_answer(actor=users["resident"], project=project, score=5)
    summary = survey_summary(project)
    assert (summary.answers, summary.satisfied) == (1, 1)
    review_all(project, users, Stage.EVALUATION, EVAL)
    project = services.project_evaluate(actor=users["selfgov"], project=project)
    assert project.evaluation_score == Decimal("80.00")
    with pytest.raises(ValidationError):
        services.survey_answer(actor=users["resident"], project=project, score=3)


def test_topic_links_to_its_project(ready, users):
    project = a_project(ready, users)
    project.topic.refresh_from_db()
    assert project.topic.project_ref == f"project:{project.pk}"


def test_overdue_accounts_warn_the_committee_once(ready, users, monkeypatch):
    from linli.notices.models import Notification

    project = walk(a_project(ready, users), users, S.APPROVED)
    payment = pay(project, users, "800.00")
    counts = services.disclosures_remind(today=payment.disclose_by + dt.timedelta(days=1))
    assert counts == {"payments": 1, "projects": 1}
    warned = set(
        Notification.objects.filter(title__contains=project.title).values_list("user", flat=True)
    )
    assert users["worker"].pk in warned and users["stranger"].pk not in warned
    again = services.disclosures_remind(today=payment.disclose_by + dt.timedelta(days=2))
    assert again == {"payments": 0, "projects": 0}


def test_only_the_committee_or_the_street_office_publishes_accounts(ready, users):
    project = walk(a_project(ready, users), users, S.APPROVED)
    pay(project, users, "100.00")
    for key in ("reviewer", "stranger", "resident"):
        with pytest.raises(PermissionDenied):
            services.project_disclose(actor=users[key], project=project)
    services.project_disclose(actor=users["selfgov"], project=project)


# --- found in review: each of these failed before its fix --------------------------------------


def test_a_withdrawn_notice_blocks_approval_until_published_again(ready, users):
    project = walk(a_project(ready, users), users, S.PUBLICISED)
    notices.notice_withdraw(actor=users["worker"], notice=project.notice, reason="暂不公示了")
    past = timezone.now() - dt.timedelta(seconds=1)
    Notice.objects.filter(pk=project.notice_id).update(
        published_at=past - dt.timedelta(days=8), window_until=past
    )
    project.refresh_from_db()
    with pytest.raises(ValidationError):
        services.project_approve(actor=users["selfgov"], project=project)
    project = services.project_publicise(actor=users["selfgov"], project=project)
    assert project.notice.withdrawn_at is None and project.notice.window_until > timezone.now()
    with pytest.raises(ValidationError) as caught:  # a notice on the board runs its course
        services.project_publicise(actor=users["selfgov"], project=project)
    assert caught.value.code == "state"


def test_next_years_money_is_not_approved_before_its_year(ready, users):
    year = timezone.localdate().year + 1
    project = walk(a_project(ready, users, year=year), users, S.PUBLICISED)
    until = project.notice.window_until
    assert any(str(year) in str(e) for e in services.approval_errors(project, now=until))
    new_year = dt.datetime(year, 1, 1, tzinfo=timezone.get_default_timezone())
    assert services.approval_errors(project, now=max(until, new_year)) == []


def test_one_invoice_pays_once_in_a_community(ready, users):
    profile(ready, payment_approvals=1)
    project = walk(a_project(ready, users), users, S.APPROVED)

    def request():
        return services.payment_request(
            actor=users["worker"],
            project=project,
            line=project.lines.first(),
            amount="100",
            payee="某公司",
            memo="灯具",
            invoice=invoice(),
            invoice_number="No.5550001",
        )

    request()
    with pytest.raises(ValidationError) as caught:
        request()  # a double click: the same invoice
    assert "invoice_number" in caught.value.error_dict
    assert project.payments.count() == 1


def test_payment_dates_are_bounded_and_a_refusal_leaves_no_file(ready, users, settings):
    project = walk(a_project(ready, users), users, S.APPROVED)
    line = project.lines.first()
    for on in (dt.date(2001, 1, 1), timezone.localdate() + dt.timedelta(days=1)):
        with pytest.raises(ValidationError) as caught:
            services.payment_request(
                actor=users["worker"],
                project=project,
                line=line,
                amount="10",
                payee="某公司",
                memo="灯具",
                invoice=invoice(),
                invoice_number=f"No.{on.year}",
                on=on,
            )
        assert "on" in caught.value.error_dict
    invoices = (
        list((settings.MEDIA_ROOT / "projects").rglob("*"))
        if (settings.MEDIA_ROOT / "projects").exists()
        else []
    )
    assert not [p for p in invoices if p.is_file()]


def test_personal_numbers_never_reach_the_board(ready, users):
    with pytest.raises(ValidationError) as caught:
        a_project(ready, users, plan="联系人电话 13812345678")
    assert "plan" in caught.value.error_dict
    project = walk(a_project(ready, users), users, S.APPROVED)
    with pytest.raises(ValidationError) as caught:
        services.payment_request(
            actor=users["worker"],
            project=project,
            line=project.lines.first(),
            amount="10",
            payee="张三 13812345678",
            memo="灯具",
            invoice=invoice(),
            invoice_number="No.9",
        )
    assert "payee" in caught.value.error_dict


def test_a_topic_the_committee_raised_alone_is_not_a_residents_decision(ready, users):
    from linli.deliberation import services as deliberation
    from linli.deliberation.choices import TopicCategory

    topic = deliberation.topic_raise(
        actor=users["worker"],
        committee=ready.committees[0],
        title="居委自己提的议题",
        body="居委会自己提出的议题，没有居民附议。",
        category=TopicCategory.OTHER,
    )
    project = a_project(ready, users, topic=topic)
    with pytest.raises(ValidationError) as caught:
        services.project_submit(actor=users["worker"], project=project)
    assert "topic" in caught.value.error_dict


def test_the_creator_does_not_check_a_project_someone_else_submitted(ready, users):
    project = services.project_create(
        actor=users["director"],
        place=ready.committees[0],
        title="主任起草的项目",
        plan="计划",
        beneficiaries="居民",
        beneficiary_count=10,
        starts_on=dt.date(2026, 12, 10),
        ends_on=dt.date(2026, 12, 20),
        lines=LINES,
        topic=a_topic(ready, users),
    )
    services.project_submit(actor=users["worker"], project=project)
    with pytest.raises(ValidationError):
        services.project_check(actor=users["director"], project=project, decision="pass")
    services.project_check(actor=users["secretary"], project=project, decision="pass")
