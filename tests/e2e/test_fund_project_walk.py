"""Issue 6, "Done when": a resident's topic becomes a project, is reviewed and published, money is
paid against a line with an invoice, the project is accepted and evaluated, and the accounts
appear on the public board.

The street has allocated the first committee its year's working funds (the ledger's service, as
the street office would on its funds page). 钱阿姨 raises a topic on her phone. The committee's
worker turns it into a fund project with the wizard (two budget lines) and submits it; the
director checks it; the street's three reviewers score it against the published criteria; the
street office passes the review and publishes the notice. The one shortcut: the notice's window
is moved into the past instead of waiting for the publicity days. The street office approves
(the budget is committed in the ledger); the worker requests a payment against the first line
with the invoice attached and the director co-signs it, so it is paid; the worker publishes the
accounts and reports completion; the street office accepts it; 钱阿姨 answers the satisfaction
survey on her phone; the reviewers score the evaluation; the street office records it and closes
the project with its outcome. An anonymous phone then finds the accounts on the community's
board and the project's spending by line, and prints the A4 accounts page. The ledger verifies.

Steps are matched by field names and data attributes, so the Chinese UI needs no translation.
"""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}
TOPIC = "3号楼楼道灯太暗，老人晚上下楼不安全"
TITLE = "3号楼楼道灯改造"
SCORES = {"need": 22, "feasibility": 20, "budget": 16, "benefit": 16, "sustainability": 8}
EVALUATION = {"goals": 26, "money": 22, "residents": 20, "lasting": 16}
PHONE_NUMBER = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def fits_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


@pytest.fixture
def funded(world, settings, tmp_path, ledger_flushable):
    from linli.funds.services import allocation_post

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LINLI_NOTIFY_SENDERS = []
    allocation_post(actor=None, place=world.committees[0], total="200000.00")
    return world


def act(page, action: str):
    """Click the button of an action on the project page and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(f"[data-action={action}]")


def test_topic_to_closed_project_with_accounts_on_the_board(
    funded, users, page, phone, browser, sign_in, live_server, results_dir
):
    from django.utils import timezone

    from linli.deliberation import services as deliberation
    from linli.deliberation.choices import TopicCategory
    from linli.funds.selectors import ledger_verify
    from linli.notices.models import Notice
    from linli.projects.models import Project

    committee = funded.committees[0]
    base = live_server.url

    # 钱阿姨 raises the topic on her phone.
    sign_in(phone, "resident")
    phone.goto(f"{base}/topics/new/")
    phone.fill("[name=title]", TOPIC)
    phone.fill("[name=body]", "楼道灯坏了好几盏，晚上很黑，建议用自治金换成声控节能灯。")
    if phone.locator("select[name=category]").count():
        phone.select_option("select[name=category]", TopicCategory.FACILITIES)
    with phone.expect_navigation():
        phone.click("form button[type=submit].primary")
    topic_id = deliberation.Topic.objects.get(title=TOPIC).pk

    # The worker turns it into a fund project with the wizard.
    sign_in(page, "worker")
    page.goto(f"{base}/topics/{topic_id}/")
    with page.expect_navigation():
        page.click("[data-action=to-project]")
    expect(page.locator("[name=title]")).not_to_have_value("")
    page.fill("[name=title]", TITLE)
    today = timezone.localdate()
    page.fill("[name=starts_on]", (today - dt.timedelta(days=20)).isoformat())
    page.fill("[name=ends_on]", today.isoformat())
    page.fill("[name=beneficiaries]", "3号楼住户，其中60岁以上老人约30人")
    page.fill("[name=beneficiary_count]", "96")
    page.select_option("[name=line-0-category]", "materials")
    page.fill("[name=line-0-item]", "声控节能灯 24 盏")
    page.fill("[name=line-0-amount]", "4800")
    rows = page.locator("[data-line]").count()
    page.click("[data-add-line]")  # one more row, kept blank: blank rows are dropped on save
    page.wait_for_selector(f"[data-line='{rows}']")
    page.select_option("[name=line-1-category]", "services")
    page.fill("[name=line-1-item]", "电工安装")
    page.fill("[name=line-1-amount]", "1200")
    expect(page.locator("#lines-total")).to_have_attribute("data-total", "6000.00")
    page.screenshot(path=results_dir / "project-wizard.png", full_page=True)
    act(page, "save")
    project = Project.objects.get(title=TITLE)
    assert project.topic_id == topic_id and project.budget == 6000
    act(page, "submit")
    page.context.clear_cookies()

    # The director checks it (someone other than the applicant).
    sign_in(page, "director")
    page.goto(f"{base}/projects/{project.pk}/")
    act(page, "check")
    page.context.clear_cookies()

    # Three reviewers score it against the published criteria.
    for reviewer in ("reviewer", "reviewer2", "reviewer3"):
        sign_in(page, reviewer)
        page.goto(f"{base}/projects/{project.pk}/review/review/")
        for code, points in SCORES.items():
            page.fill(f"[name=score_{code}]", str(points))
        act(page, "score")
        page.context.clear_cookies()

    # The street office passes the review and publishes the notice.
    sign_in(page, "selfgov")
    page.goto(f"{base}/projects/{project.pk}/")
    act(page, "decide")
    act(page, "publicise")
    expect(page.locator("[data-approval-errors]")).to_be_visible()  # the notice runs first
    project.refresh_from_db()
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    Notice.objects.filter(pk=project.notice_id).update(
        published_at=past - dt.timedelta(days=8), window_until=past
    )
    page.reload()
    act(page, "approve")
    project.refresh_from_db()
    assert project.state == "approved" and project.commitment.amount == 6000
    page.context.clear_cookies()

    # The worker pays against the first line with the invoice; the director co-signs.
    sign_in(page, "worker")
    page.goto(f"{base}/projects/{project.pk}/")
    page.click("[data-panel=payment] summary")
    page.select_option("[name=line]", str(project.lines.get(position=1).pk))
    page.fill("[name=amount]", "4650.00")
    page.fill("[name=payee]", "上海明亮照明器材有限公司")
    page.fill("[name=memo]", "声控节能灯 24 盏")
    page.fill("[name=invoice_number]", "No.31009876")
    page.set_input_files(
        "[name=invoice]",
        files=[{"name": "发票.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 demo"}],
    )
    act(page, "pay")
    page.context.clear_cookies()
    sign_in(page, "director")
    page.goto(f"{base}/projects/{project.pk}/")
    act(page, "sign")
    payment = project.payments.get()
    assert payment.state == "paid" and payment.transaction.amount == 4650
    page.context.clear_cookies()

    # The worker publishes the accounts and reports completion; the street accepts it.
    sign_in(page, "worker")
    page.goto(f"{base}/projects/{project.pk}/")
    act(page, "disclose")
    page.click("[data-panel=complete] summary")
    page.fill("[name=report]", "24 盏声控灯已装好，居民代表参与了验收前检查。")
    act(page, "complete")
    page.context.clear_cookies()
    sign_in(page, "selfgov")
    page.goto(f"{base}/projects/{project.pk}/")
    page.fill("[name=note]", "现场查看，灯具全部正常。")
    act(page, "accept")
    page.context.clear_cookies()

    # 钱阿姨 answers the satisfaction survey on her phone.
    phone.goto(f"{base}/projects/p/{project.pk}/")
    phone.click("input[name=score][value='5']")
    phone.fill("[name=comment]", "晚上下楼亮堂多了")
    with phone.expect_navigation():
        phone.click("#survey button[type=submit]")
    expect(phone.locator("[data-answered]")).to_be_visible()
    assert fits_phone(phone)

    # The reviewers score the evaluation; the street records it and closes the project.
    for reviewer in ("reviewer", "reviewer2", "reviewer3"):
        sign_in(page, reviewer)
        page.goto(f"{base}/projects/{project.pk}/review/evaluation/")
        for code, points in EVALUATION.items():
            page.fill(f"[name=score_{code}]", str(points))
        act(page, "score")
        page.context.clear_cookies()
    sign_in(page, "selfgov")
    page.goto(f"{base}/projects/{project.pk}/")
    act(page, "evaluate")
    page.fill("[name=outcome]", "3号楼楼道照明全部改善，结余资金退回自治金。")
    act(page, "close")
    project.refresh_from_db()
    assert project.state == "closed" and project.evaluation_score == 84
    page.screenshot(path=results_dir / "project-closed.png", full_page=True)

    # Anyone finds the accounts on the community's board, on a phone, without signing in.
    anonymous = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN").new_page()
    anonymous.goto(f"{base}/board/{committee.pk}/")
    expect(anonymous.get_by_text(TITLE).first).to_be_visible()
    with anonymous.expect_navigation():
        anonymous.click(".board-projects a")
    with anonymous.expect_navigation():
        anonymous.get_by_text(TITLE).first.click()
    line_one = anonymous.locator("tr[data-line='1']")
    expect(line_one).to_contain_text("4,650.00")
    expect(anonymous.locator("[data-state]")).to_have_attribute("data-state", "closed")
    assert fits_phone(anonymous)
    body = anonymous.content()
    for name in ("郑敏", "周主任", "高教授", "钱阿姨"):
        assert name not in body
    assert not PHONE_NUMBER.search(body)
    anonymous.screenshot(path=results_dir / "project-public.png", full_page=True)
    anonymous.goto(f"{base}/projects/community/{committee.pk}/print/?year={project.year}")
    expect(anonymous.get_by_text(TITLE).first).to_be_visible()
    assert "4,650.00" in anonymous.content() or "4650.00" in anonymous.content()
    anonymous.context.close()
    assert ledger_verify() == []
