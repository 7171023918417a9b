"""Issue 5, "Done when": residents back a topic to the threshold, a worker schedules a residents'
meeting, residents check in on phones, the quorum appears, a motion is voted and passes, the
resolution is published on the board and prints.

The first committee's register comes from the demo's own register builder (about fifteen
households with adults). Three residents of different households hold accounts and use phones:
钱阿姨 (the "resident" persona) raises the topic, two neighbours back it. The committee's worker
lowers the backing threshold to three, drafts a residents' meeting attended one per household,
puts the topic on its agenda, announces it at short notice and opens it. The three residents check
themselves in; the worker ticks households on the list until the live quorum panel turns quorate
(one short of it first). The motion is voted: yes on the residents' phones, hands for the rest
(some no, some abstaining: they count in the denominator); it passes on the rule's arithmetic.
The resolution goes on the public board, where an anonymous visitor opens it and prints it on A4
without any personal data.

Every step is a click matched by ids, data attributes and field names, so the Chinese UI needs no
translation.
"""

import datetime as dt
import re
import time

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "Demo-pass-123!"
PHONE = {"width": 360, "height": 740}
THRESHOLD = 3
TOPIC_TITLE = "小花园增设休息长椅"
TOPIC_BODY = "小花园里没有地方坐，老人散步累了只能站着，建议增设几张长椅，方便大家休息。"
MEETING_TITLE = "2026年第二次居民会议"
MOTION = "同意在小花园增设四张休息长椅，费用由社区自治金列支。"
# A mainland mobile number and an 18-character resident ID number.
PHONE_NUMBER = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def fits_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def local_input(moment: dt.datetime) -> str:
    """A datetime-local input's value in the server's time zone."""
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def register(world, settings, tmp_path):
    """The demo register of the test street (households, adults, owners), built from the seed."""
    from linli.demo.builder import TEST_SIZE
    from linli.demo.register import populate_register

    settings.MEDIA_ROOT = tmp_path / "media"
    return populate_register(world, seed=1, residents=TEST_SIZE.residents)


@pytest.fixture
def residents(world, users, register):
    """Three resident accounts in three households of the first committee, each linked to an
    adult of the register the way the demo links its persona: the persona 钱阿姨 (first
    dwelling) and two neighbours. Returns {username: household id}."""
    from django.utils import timezone

    from linli.accounts.roles import Role
    from linli.accounts.services import role_assign, user_create
    from linli.demo.management.commands.demo import _link_resident
    from linli.people.models import Household
    from linli.votes.electorate import electorate

    voters = electorate(place=world.committees[0], unit="household", on=timezone.localdate())
    persona = users["resident"]
    _link_resident(persona)
    home = Household.objects.get(place=persona.assignments.get().place)
    others = [v.household_id for v in voters if v.household_id != home.pk][:2]
    accounts = {persona.username: home.pk}
    for number, household_id in enumerate(others, start=1):
        household = Household.objects.select_related("place").get(pk=household_id)
        user = user_create(
            actor=None,
            username=f"neighbour{number}",
            password=PASSWORD,
            display_name=f"居民 邻居{number}号",
        )
        role_assign(actor=None, user=user, role=Role.RESIDENT, place=household.place)
        _link_resident(user)
        assert user.resident.household_id == household_id
        accounts[user.username] = household_id
    return accounts


@pytest.fixture
def personas(browser, sign_in, residents):
    """One signed-in page per account, each in its own browser context (its own cookies);
    anonymous=True opens a context nobody signed in to."""
    contexts = []

    def open_as(username: str | None, *, phone: bool = False):
        options = {"locale": "zh-CN"}
        if phone:
            options.update(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        if username is None:
            return page
        sign_in(page, username)
        assert "/accounts/login/" not in page.url, f"{username} could not sign in"
        return page

    yield open_as
    for context in contexts:
        context.close()


def submit(page, locator):
    """Click a submit button and wait for the page it leads to; no error may be shown."""
    with page.expect_navigation():
        locator.click()
    errors = page.locator(".messages li.error, .error[role=alert], .field .error").all_inner_texts()
    assert not errors, errors
    return page


def test_topic_to_resolution_on_the_board(
    personas, live_server, world, users, residents, results_dir
):
    from django.db.models import Count
    from django.utils import timezone

    from linli.deliberation.choices import AnswerKind, TopicState
    from linli.deliberation.models import Topic
    from linli.meetings.choices import AttendanceMode, CheckInMethod, MeetingState, MotionState
    from linli.meetings.models import AgendaItem, Attendance, Meeting, Motion, Resolution
    from linli.meetings.selectors import meeting_quorum
    from linli.notices.models import Notice
    from linli.people.models import Resident
    from linli.votes.models import Ballot, Entitlement, Participation

    started = time.monotonic()
    url = live_server.url
    committee = world.committees[0]
    author, *backers = residents  # usernames: the persona first

    # --- 1. the worker lowers the threshold; a resident raises a topic; neighbours back it ------
    worker = personas("worker")
    worker.goto(f"{url}/topics/inbox/")
    submit(worker, worker.locator(f"a[href='/topics/committee/{committee.pk}/settings/']"))
    worker.fill("input[name=support_threshold]", str(THRESHOLD))
    worker.check("input[name=support_unit][value=household]")
    submit(worker, worker.locator("form.card button[type=submit]"))
    assert worker.url == f"{url}/topics/committee/{committee.pk}/inbox/"
    expect(worker.locator("[data-flagged]")).to_have_attribute("data-flagged", "0")

    phones = {name: personas(name, phone=True) for name in residents}
    raiser = phones[author]
    raiser.goto(f"{url}/topics/")
    submit(raiser, raiser.locator("a.button.primary[href='/topics/new/']"))
    assert fits_phone(raiser)
    raiser.fill("input[name=title]", TOPIC_TITLE)
    raiser.fill("textarea[name=body]", TOPIC_BODY)
    raiser.select_option("select[name=category]", "facilities")
    submit(raiser, raiser.locator("form.topic-form button[type=submit].primary"))
    topic = Topic.objects.get()
    assert raiser.url == f"{url}/topics/{topic.pk}/"
    assert topic.author_id == users["resident"].pk and topic.place_id == committee.pk

    for count, name in enumerate([author, *backers], start=1):
        phone = phones[name]
        if name != author:  # the neighbours find it on the community's list
            phone.goto(f"{url}/topics/")
            row = phone.locator(f"li.topic-row[data-topic='{topic.pk}']")
            expect(row).to_have_attribute("data-state", TopicState.OPEN)
            assert fits_phone(phone)
            submit(phone, row.locator("h2 a"))
        # 附议 answers with the backing block (htmx), no page load.
        phone.locator("#support-box [data-back]").click()
        box = phone.locator("#support-box")
        expect(box).to_have_attribute("data-support-count", str(count))
        expect(box.locator("[data-backed]")).to_be_visible()
        assert fits_phone(phone)
    expect(phones[backers[-1]].locator("#support-box [data-threshold-reached]")).to_be_visible()
    phones[backers[-1]].reload()
    expect(phones[backers[-1]].locator("header.place-head [data-state]")).to_have_attribute(
        "data-state", TopicState.ON_AGENDA_LIST
    )
    phones[backers[-1]].screenshot(
        path=str(results_dir / "topic-flagged-phone.png"), full_page=True
    )

    # The committee's inbox lists it among the topics with enough backing.
    worker.goto(f"{url}/topics/inbox/")
    expect(worker.locator("[data-flagged]")).to_have_attribute("data-flagged", "1")
    expect(worker.locator(f"li[data-topic='{topic.pk}']").first).to_be_visible()

    # --- 2. the worker drafts a residents' meeting, puts the topic on it, announces, opens ---
    starts = timezone.now() + dt.timedelta(hours=1)
    worker.goto(f"{url}/meetings/new/?kind=residents_meeting&place={committee.pk}")
    expect(worker.locator("select[name=kind]")).to_have_value("residents_meeting")
    expect(worker.locator("select[name=place]")).to_have_value(str(committee.pk))
    worker.fill("input[name=title]", MEETING_TITLE)
    worker.select_option("select[name=attendance_mode]", AttendanceMode.HOUSEHOLDS)
    worker.fill("input[name=starts_at]", local_input(starts))
    worker.fill("input[name=ends_at]", local_input(starts + dt.timedelta(hours=2)))
    worker.fill("input[name=location]", "居委会二楼会议室")
    submit(worker, worker.locator("form.card button[type=submit].primary"))
    meeting = Meeting.objects.get()
    detail = f"{url}/meetings/{meeting.pk}/"
    assert worker.url == detail
    expect(worker.locator("article.meeting")).to_have_attribute("data-state", MeetingState.DRAFT)

    # From the topic's page: "put on a meeting's agenda" offers the committee's coming meetings.
    worker.goto(f"{url}/topics/{topic.pk}/")
    submit(worker, worker.locator("a[data-action=put-on-agenda]"))
    worker.check(f"input[name=meeting][value='{meeting.pk}']")
    submit(worker, worker.locator("button[data-action=add-topic-to-agenda]"))
    assert worker.url == detail
    item = AgendaItem.objects.get(meeting=meeting)
    assert item.topic_id == topic.pk and item.title == TOPIC_TITLE
    expect(
        worker.locator(f"li[data-agenda='{item.pk}'] a[href='/topics/{topic.pk}/']")
    ).to_be_visible()

    # Seven days' notice is the rule; an hour is short notice, which the worker must confirm.
    with worker.expect_navigation():
        worker.locator("a[data-action=announce]").click()
    with worker.expect_navigation():
        worker.locator("button[data-action=announce]").click()
    expect(worker.locator(".error[role=alert]")).to_be_visible()
    assert Meeting.objects.get().state == MeetingState.DRAFT
    worker.check("input[name=short_notice_ok]")
    submit(worker, worker.locator("button[data-action=announce]"))
    assert worker.url == detail
    expect(worker.locator("article.meeting")).to_have_attribute(
        "data-state", MeetingState.ANNOUNCED
    )
    meeting.refresh_from_db()
    assert meeting.short_notice and meeting.attendance_mode == AttendanceMode.HOUSEHOLDS
    base = meeting.base_count
    assert base == meeting.invitations.count() >= 10
    assert all(key.startswith("h:") for key in meeting.invitations.values_list("key", flat=True))
    needed = base // 2 + 1  # more than half of the households

    submit(worker, worker.locator("a[data-action=console]"))
    console = f"{url}/meetings/{meeting.pk}/console/"
    assert worker.url == console
    submit(worker, worker.locator("button[data-action=start]"))
    expect(worker.locator("button[data-action=close]")).to_be_visible()
    panel = worker.locator("#quorum-panel")
    expect(panel).to_have_attribute("data-present", "0")
    expect(panel).to_have_attribute("data-base", str(base))
    expect(panel).to_have_attribute("data-quorate", "no")

    # --- 3. residents check in on their phones; the worker ticks households on the list ------
    elsewhere = meeting.invitations.exclude(household_id__in=residents.values())
    kept = worker.locator(
        f"#attendance tr[data-invitation='{elsewhere.order_by('position').first().pk}'] "
        "input[name=ids]"
    )
    kept.check()  # the worker is in the middle of ticking while the phones check in
    for number, name in enumerate(residents):
        phone = phones[name]
        phone.goto(f"{url}/meetings/mine/")
        card = phone.locator(f"article.invitation[data-meeting='{meeting.pk}']")
        expect(card.locator("img.m-qr")).to_be_visible()
        assert fits_phone(phone)
        if number == 0:
            phone.screenshot(path=str(results_dir / "meeting-checkin-phone.png"), full_page=True)
        submit(phone, card.locator("[data-action=self-check-in]"))
        assert phone.url == detail
        expect(phone.locator(".my-invitation [data-checked-in]")).to_be_visible()
        expect(phone.locator("#quorum-panel")).to_have_attribute("data-present", str(number + 1))
        assert fits_phone(phone)
    # The console's panel is live (htmx polls every 5 s): no reload needed.
    expect(panel).to_have_attribute("data-present", str(len(residents)), timeout=8_000)
    expect(panel).to_have_attribute("data-quorate", "no")

    # The same poll brings the rows checked in on the phones (out of band): no reload, none of
    # them is offered for ticking again, and a box the worker had ticked stays ticked.
    expect(worker.locator("#attendance tr[data-present]")).to_have_count(len(residents))
    for invitation_id in Attendance.objects.filter(meeting=meeting).values_list(
        "invitation_id", flat=True
    ):
        row = worker.locator(f"#attendance tr[data-present][data-invitation='{invitation_id}']")
        expect(row).to_have_count(1)
        expect(row.locator("input[name=ids]")).to_have_count(0)
    expect(kept).to_be_checked()
    kept.uncheck()

    def tick(n: int):
        boxes = worker.locator("#attendance input[name=ids]")
        for index in range(n):
            boxes.nth(index).check()
        submit(worker, worker.locator("#attendance [data-action=tick-check-in]"))
        assert worker.url == console
        expect(worker.locator(".messages li.success")).to_have_count(1)
        expect(worker.locator(".messages li.info")).to_have_count(0)

    ticked = needed - len(residents)
    # The hands of the households ticked: just enough yes for a majority of those present with
    # the phones' yes, one no, the rest abstaining (abstentions count in the denominator).
    yes = needed // 2 + 1
    hands = ["yes"] * (yes - len(residents)) + ["no"]
    hands += ["abstain"] * (ticked - len(hands))
    assert len(hands) == ticked and hands.count("abstain") >= 1
    tick(ticked - 1)  # one short of the quorum
    expect(panel).to_have_attribute("data-present", str(needed - 1))
    expect(panel).to_have_attribute("data-quorate", "no")
    expect(panel.locator("[data-quorum=not-reached]")).to_be_visible()
    tick(1)
    expect(panel).to_have_attribute("data-present", str(needed))
    expect(panel).to_have_attribute("data-quorate", "yes")
    expect(panel.locator("[data-quorum=reached]")).to_be_visible()
    expect(worker.locator("#attendance tr[data-present]")).to_have_count(needed)
    # A resident's phone shows it too.
    phones[author].reload()
    expect(phones[author].locator("#quorum-panel")).to_have_attribute("data-quorate", "yes")
    # The topic's page links the meeting whose agenda holds it.
    phones[author].goto(f"{url}/topics/{topic.pk}/")
    expect(phones[author].locator(f"a[data-meeting-link='{meeting.pk}']")).to_be_visible()
    assert fits_phone(phones[author])

    # --- 4. a motion, voted on phones and by hands; it passes ---------------------------------
    block = worker.locator(f".agenda-item[data-agenda='{item.pk}']")
    block.locator("details summary").click()
    block.locator("textarea[name=text]").fill(MOTION)
    expect(block.locator("select[name=kind]")).to_have_value("decision")
    submit(worker, block.locator("form button[type=submit]"))
    motion = Motion.objects.get()
    card = worker.locator(f".motion[data-motion='{motion.pk}']")
    expect(card).to_have_attribute("data-motion-state", MotionState.PENDING)
    submit(worker, card.locator("[data-action=open-vote]"))
    expect(card).to_have_attribute("data-motion-state", MotionState.OPEN)
    worker.screenshot(path=str(results_dir / "meeting-console.png"), full_page=True)

    for name in residents:  # two taps: the meeting from "my invitations", then yes
        phone = phones[name]
        phone.goto(f"{url}/meetings/mine/")
        submit(phone, phone.locator(f"article.invitation[data-meeting='{meeting.pk}'] h2 a"))
        voting = phone.locator(f"section.open-motion[data-motion='{motion.pk}']")
        expect(voting).to_be_visible()
        assert fits_phone(phone)
        submit(phone, voting.locator("[data-choice=yes]"))
        expect(phone.locator(".messages li.success")).to_have_count(1)
        expect(
            phone.locator(f"section.open-motion[data-motion='{motion.pk}'] [data-voted]")
        ).to_be_visible()
        assert fits_phone(phone)

    submit(worker, card.locator("[data-action=record-hands]"))
    rows = worker.locator("table.hands tbody tr[data-invitation]")
    expect(rows).to_have_count(needed)
    expect(worker.locator("table.hands [data-voted]")).to_have_count(len(residents))
    waiting = worker.locator("table.hands tbody tr[data-invitation]:not(:has([data-voted]))")
    expect(waiting).to_have_count(len(hands))
    for index, answer in enumerate(hands):
        waiting.nth(index).locator(f"input[type=radio][value={answer}]").check()
    submit(worker, worker.locator("button[data-action=record]"))
    expect(worker.locator("table.hands [data-voted]")).to_have_count(needed)

    worker.goto(console)
    tally = card.locator(".tally")
    expect(tally.locator("li[data-key=yes] strong")).to_have_text(str(yes))
    expect(tally.locator("[data-passed]")).to_have_attribute("data-passed", "yes")
    submit(worker, card.locator("[data-action=close-vote]"))
    assert worker.url == f"{url}/meetings/motions/{motion.pk}/"
    quorum_row = worker.locator("table.m-arith tr[data-step=quorum]")
    majority_row = worker.locator("table.m-arith tr[data-step=majority]")
    expect(quorum_row).to_have_attribute("data-ok", "yes")
    expect(quorum_row.locator("td").nth(1)).to_have_text(str(needed))
    expect(majority_row).to_have_attribute("data-ok", "yes")
    expect(majority_row.locator("td").nth(1)).to_have_text(str(yes))
    expect(worker.locator(".tally [data-passed]")).to_have_attribute("data-passed", "yes")
    expect(worker.locator("[data-took-part]")).to_have_text(str(needed))
    worker.screenshot(path=str(results_dir / "meeting-motion-result.png"), full_page=True)

    # The residents see the result on their phones once voting has closed.
    phones[author].goto(f"{url}/meetings/motions/{motion.pk}/")
    expect(phones[author].locator("tr[data-step=majority][data-ok=yes]")).to_have_count(1)
    assert fits_phone(phones[author])

    # --- 5. the resolution on the public board, and its A4 sheet -----------------------------
    # Published from the result page, which then links the notice on the board.
    resolution = Resolution.objects.get()
    entry = worker.locator(f"section.resolution[data-resolution='{resolution.pk}']")
    submit(worker, entry.locator("[data-action=publish-resolution]"))
    assert worker.url == f"{url}/meetings/motions/{motion.pk}/"
    expect(worker.locator(".messages li.success")).to_have_count(1)
    resolution.refresh_from_db()
    assert resolution.notice_id is not None
    expect(entry.locator(f"a[href='/board/notice/{resolution.notice_id}/']")).to_be_visible()
    expect(entry.locator("[data-action=publish-resolution]")).to_have_count(0)
    # The meeting page says so too.
    submit(worker, worker.locator(f"p.crumbs a[href='/meetings/{meeting.pk}/']"))
    entry = worker.locator(f"section.resolutions li[data-resolution='{resolution.pk}']")
    expect(entry.locator(f"a[href='/board/notice/{resolution.notice_id}/print/']")).to_be_visible()
    expect(entry.locator("[data-action=publish-resolution]")).to_have_count(0)

    visitor = personas(None, phone=True)
    visitor.goto(f"{url}/board/{committee.pk}/")
    notice = visitor.locator(f"article.notice[data-notice='{resolution.notice_id}']")
    expect(notice).to_be_visible()
    expect(notice.locator("h2")).to_contain_text(MOTION[:20])
    # The meeting's own notice (with its agenda) went up when it was announced.
    expect(visitor.locator(f"article.notice[data-notice='{meeting.notice_id}']")).to_be_visible()
    assert fits_phone(visitor)
    visitor.screenshot(path=str(results_dir / "board-phone.png"), full_page=True)
    submit(visitor, notice.locator("h2 a"))
    assert visitor.url == f"{url}/board/notice/{resolution.notice_id}/"
    assert fits_phone(visitor)
    submit(visitor, visitor.locator(f"a[href='/board/notice/{resolution.notice_id}/print/']"))
    sheet = visitor.locator("article.sheet")
    expect(sheet.locator("h1")).to_contain_text(MOTION[:20])
    expect(sheet.locator(".sheet-body")).to_contain_text(MOTION)
    expect(sheet.locator(".online img")).to_be_visible()
    text = sheet.inner_text()
    assert not PHONE_NUMBER.search(text), PHONE_NUMBER.search(text)
    assert not ID_NUMBER.search(text), ID_NUMBER.search(text)
    people = Resident.objects.filter(path__startswith=committee.path).values_list("name", flat=True)
    named = [name for name in people if name in text]
    assert not named, named
    addresses = [
        label for label in meeting.invitations.values_list("label", flat=True) if label in text
    ]
    assert not addresses, addresses
    for account in ("resident", "worker", "director"):
        assert users[account].display_name not in text
    visitor.emulate_media(media="print")
    visitor.screenshot(path=str(results_dir / "resolution-print.png"), full_page=True)
    pdf = visitor.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    (results_dir / "resolution-print.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf)) == 1  # one A4 sheet

    # --- 6. what the database says -------------------------------------------------------------
    topic.refresh_from_db()
    assert topic.state == TopicState.SCHEDULED
    assert topic.answer_kind == AnswerKind.ACCEPTED_TO_AGENDA
    assert topic.support_count == THRESHOLD and topic.threshold_reached_at is not None
    assert topic.meeting_label.startswith(MEETING_TITLE)
    assert set(topic.supports.values_list("household_id", flat=True)) == {
        Resident.objects.get(account__username=name).household.place_id for name in residents
    }

    meeting.refresh_from_db()
    assert meeting.state == MeetingState.IN_PROGRESS
    quorum = meeting_quorum(meeting=meeting)
    assert quorum.quorate and quorum.present == needed and quorum.base == base
    methods = sorted(Attendance.objects.filter(meeting=meeting).values_list("method", flat=True))
    assert methods == sorted([CheckInMethod.SELF] * len(residents) + [CheckInMethod.LIST] * ticked)

    motion.refresh_from_db()
    outcome = motion.result["outcome"]
    assert motion.state == MotionState.CLOSED and outcome["passed"] and outcome["quorate"]
    vote = motion.vote
    keys = list(Entitlement.objects.filter(vote=vote).values_list("key", flat=True))
    assert len(keys) == needed and all(k.startswith("h:") for k in keys)
    # One ballot per household present: the phones online, the rest by hands.
    taken = list(Participation.objects.filter(vote=vote).values_list("entitlement__key", flat=True))
    assert sorted(taken) == sorted(keys)
    assert Ballot.objects.filter(vote=vote, counted=True).count() == needed
    channels = sorted(Participation.objects.filter(vote=vote).values_list("channel", flat=True))
    assert channels == sorted(["online"] * len(residents) + ["meeting"] * len(hands))
    answers = dict(
        Ballot.objects.filter(vote=vote)
        .values("answer")
        .order_by("answer")
        .annotate(n=Count("id"))
        .values_list("answer", "n")
    )
    assert answers == {"yes": yes, "no": hands.count("no"), "abstain": hands.count("abstain")}

    resolution.refresh_from_db()
    assert resolution.motion_id == motion.pk and resolution.published_at is not None
    board_notice = Notice.objects.get(pk=resolution.notice_id)
    assert board_notice.kind == "resolution" and board_notice.place_id == committee.pk
    assert not PHONE_NUMBER.search(board_notice.body) and not ID_NUMBER.search(board_notice.body)

    assert time.monotonic() - started < 60
