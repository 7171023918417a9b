import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from linli.core.models import AuditEvent
from linli.people.choices import EventKind, ResidentStatus
from linli.people.models import Household, Resident, Tag
from linli.people.services import resident_record_death, resident_update
from linli.people.tests.factories import (
    a_household,
    a_resident,
    a_unit,
    an_id_number,
    an_organisation,
    an_owner,
    residents_in,
)

pytestmark = pytest.mark.django_db

PHONE = "13966667777"
CONTACT_PHONE = "13912345678"


@pytest.fixture
def register(world):
    """Committee 1: a household with a tagged resident, an owner and an organisation."""
    committee = world.committees[0]
    household = a_household(committee)
    number = an_id_number(birth=dt.date(1950, 8, 9))
    resident = a_resident(
        household,
        name="周梅",
        id_number=number,
        phone=PHONE,
        tags=["disabled", "elderly_alone"],
        date=dt.date(2019, 4, 1),
    )
    an_owner(household.place, name="周梅", id_number=number, phone=PHONE, area="72.3")
    organisation = an_organisation(committee, areas=[world.compounds[0]])
    return {
        "committee": committee,
        "household": household,
        "resident": resident,
        "number": number,
        "organisation": organisation,
        "contact": organisation.contacts.get(),
        "compound": world.compounds[0],
        "building": household.place.parent,
        "unit": a_unit(committee, 1),
    }


def _urls(r):
    resident, household = r["resident"].pk, r["household"].pk
    organisation = r["organisation"].pk
    return [
        reverse("people:resident", args=[resident]),
        reverse("people:resident_reveal", args=[resident]),
        reverse("people:resident_edit", args=[resident]),
        reverse("people:resident_transfer", args=[resident]),
        reverse("people:resident_leave", args=[resident]),
        reverse("people:resident_return", args=[resident]),
        reverse("people:household", args=[household]),
        reverse("people:household_add", args=[household]),
        reverse("people:place", args=[r["compound"].pk]),
        reverse("people:place", args=[r["building"].pk]),
        reverse("people:dwelling", args=[r["unit"].pk]),
        reverse("people:organisation", args=[organisation]),
        reverse("people:organisation_reveal", args=[organisation]),
        reverse("people:profile", args=[r["committee"].pk]),
        reverse("people:profile", args=[r["compound"].pk]),
    ]


def test_a_stranger_gets_404_for_every_view_of_another_committee(client_as, register):
    client = client_as("stranger")
    for url in _urls(register):
        assert client.get(url).status_code == 404, url
        response = client.post(url, {"field": "phone", "reason": "核实身份信息"})
        assert response.status_code == 404, url
    assert not AuditEvent.objects.filter(action__contains="reveal").exists()
    assert Resident.objects.get(pk=register["resident"].pk).status == ResidentStatus.ACTIVE


def test_a_stranger_searches_without_finding_another_committee(client_as, register):
    client = client_as("stranger")
    link = reverse("people:resident", args=[register["resident"].pk])
    for data in ({"q": "周梅"}, {"q": register["number"]}, {"q": PHONE}, {}):
        response = client.post(reverse("people:search"), data)
        assert response.status_code == 200
        assert link not in response.content.decode()
        assert 'class="who-cell"' not in response.content.decode()
    organisations = client.get(reverse("people:organisations")).content.decode()
    assert register["organisation"].name not in organisations


def test_anonymous_visitors_are_sent_to_sign_in(client, register):
    for url in [reverse("people:search"), *_urls(register)]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_roles_without_the_register_do_not_see_it(client_as, register):
    client = client_as("dispatcher")
    assert client.get(reverse("people:search")).status_code == 404
    assert client.get(reverse("people:resident", args=[register["resident"].pk])).status_code == (
        404
    )
    assert 'href="/people/"' not in client.get("/").content.decode()


def test_the_worker_sees_residents_masked_with_sensitive_tags(client_as, register):
    client = client_as("worker")
    response = client.get(reverse("people:search"))
    page = response.content.decode()
    assert "周梅" in page and "139****7777" in page
    assert register["number"][:6] + "********" + register["number"][-4:] in page
    assert "残疾人" in page and "独居老人" in page
    detail = client.get(reverse("people:resident", args=[register["resident"].pk]))
    html = detail.content.decode()
    assert "残疾人" in html and 'name="reason"' in html
    assert reverse("people:resident_edit", args=[register["resident"].pk]) in html


def test_grid_worker_sees_the_grid_masked_without_sensitive_tags_or_reveal(
    client_as, world, register
):
    outside = a_resident(a_household(world.committees[1]), name="外网格居民")
    client = client_as("gridworker")
    page = client.get(reverse("people:search")).content.decode()
    assert "周梅" in page and "139****7777" in page
    assert "外网格居民" not in page
    assert "残疾人" not in page and "独居老人" in page
    detail = client.get(reverse("people:resident", args=[register["resident"].pk]))
    html = detail.content.decode()
    assert detail.status_code == 200
    assert "残疾人" not in html and 'name="reason"' not in html
    assert reverse("people:resident_edit", args=[register["resident"].pk]) not in html
    household = client.get(reverse("people:household", args=[register["household"].pk]))
    assert "残疾人" not in household.content.decode()
    assert client.get(reverse("people:resident", args=[outside.pk])).status_code == 404
    # Seeing is not revealing or editing.
    reveal = client.post(
        reverse("people:resident_reveal", args=[register["resident"].pk]),
        {"field": "phone", "reason": "回访核实情况"},
    )
    assert reveal.status_code == 403 and PHONE not in reveal.content.decode()
    edit = client.get(reverse("people:resident_edit", args=[register["resident"].pk]))
    assert edit.status_code == 403
    tagged = client.get(reverse("people:search"), {"tag": "disabled"}).content.decode()
    assert "周梅" in tagged  # the refused tag is ignored, not used to filter


def test_plaintext_identifiers_never_appear_on_the_pages(client_as, register):
    client = client_as("worker")
    pages = [
        client.get(reverse("people:search")),
        client.post(reverse("people:search"), {"q": register["number"]}),
        client.post(reverse("people:search"), {"q": PHONE}, HTTP_HX_REQUEST="true"),
        client.get(reverse("people:resident", args=[register["resident"].pk])),
        client.get(reverse("people:resident_edit", args=[register["resident"].pk])),
        client.get(reverse("people:household", args=[register["household"].pk])),
        client.get(reverse("people:place", args=[register["building"].pk])),
        client.get(reverse("people:organisations")),
        client.get(reverse("people:organisation", args=[register["organisation"].pk])),
    ]
    birth = dt.date(1950, 8, 9)
    for response in pages:
        assert response.status_code == 200
        content = response.content.decode()
        for secret in (register["number"], PHONE, CONTACT_PHONE, birth.isoformat()):
            assert secret not in content, (response.request["PATH_INFO"], secret)


def test_exact_lookups_say_so_and_do_not_echo_the_number(client_as, register):
    client = client_as("worker")
    number = register["number"]
    response = client.post(reverse("people:search"), {"q": number.lower()})
    html = response.content.decode()
    assert 'data-lookup="id"' in html and "周梅" in html
    assert number.lower() not in html
    spaced = client.post(reverse("people:search"), {"q": "139 6666 7777"})
    assert 'data-lookup="phone"' in spaced.content.decode() and "周梅" in spaced.content.decode()
    by_name = client.get(reverse("people:search"), {"q": "周"})
    assert 'data-lookup="name"' in by_name.content.decode()
    # A number in a link is not looked up (it would sit in logs and browser history).
    linked = client.get(reverse("people:search"), {"q": "13966667777"}).content.decode()
    assert 'data-refused="identifier-in-url"' in linked and 'data-lookup="phone"' not in linked


def test_typing_in_the_search_box_returns_only_the_results(client_as, register):
    response = client_as("worker").post(
        reverse("people:search"), {"q": "周梅"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "周梅" in html and "<html" not in html and 'class="register"' in html


def test_the_worker_reveals_a_phone_with_a_reason(client_as, register):
    client = client_as("worker")
    url = reverse("people:resident_reveal", args=[register["resident"].pk])
    response = client.post(url, {"field": "phone", "reason": "联系家属"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert PHONE in response.content.decode() and "<html" not in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="people.resident.reveal_phone")
    assert event.reason == "联系家属" and event.actor_id is not None
    assert PHONE not in str(event.changes)
    # Only in that response: the page afterwards is masked again.
    again = client.get(reverse("people:resident", args=[register["resident"].pk]))
    assert PHONE not in again.content.decode()
    # A plain form post shows the whole page with the number shown once.
    plain = client.post(url, {"field": "id", "reason": "办理高龄补贴"})
    assert plain.status_code == 200
    assert register["number"] in plain.content.decode() and "<html" in plain.content.decode()
    assert AuditEvent.objects.filter(action="people.resident.reveal_id").count() == 1


@pytest.mark.parametrize("reason", ["", "  ", "看看"])
def test_a_reveal_without_a_real_reason_is_refused(client_as, register, reason):
    client = client_as("worker")
    url = reverse("people:resident_reveal", args=[register["resident"].pk])
    response = client.post(url, {"field": "phone", "reason": reason}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert PHONE not in html and 'class="error"' in html
    assert not AuditEvent.objects.filter(action__contains="reveal").exists()


def test_reveal_answers_only_to_post(client_as, register):
    url = reverse("people:resident_reveal", args=[register["resident"].pk])
    assert client_as("worker").get(url).status_code == 405


def test_an_organisation_contact_phone_is_revealed_with_a_reason(client_as, register):
    client = client_as("worker")
    organisation = register["organisation"]
    detail = client.get(reverse("people:organisation", args=[organisation.pk])).content.decode()
    assert "139****5678" in detail and CONTACT_PHONE not in detail
    url = reverse("people:organisation_reveal", args=[organisation.pk])
    response = client.post(
        url,
        {"field": "phone", "contact": register["contact"].pk, "reason": "通知业委会开会"},
        HTTP_HX_REQUEST="true",
    )
    assert CONTACT_PHONE in response.content.decode()
    event = AuditEvent.objects.get(action="people.organisationcontact.reveal_phone")
    assert event.reason == "通知业委会开会"
    missing = client.post(url, {"field": "phone", "contact": 999999, "reason": "通知开会"})
    assert missing.status_code == 404


def test_history_shows_move_in_update_and_death_with_dates(client_as, register):
    resident = register["resident"]
    resident_update(
        actor=None,
        resident=resident,
        date=dt.date(2023, 5, 6),
        name=resident.name,
        id_number=register["number"],
        phone="13811112222",
        ethnicity="汉族",
        registration="registered",
        residence="living_registered",
        relation="head",
        tags=["disabled", "elderly_alone"],
    )
    resident_record_death(actor=None, resident=resident, date=dt.date(2025, 1, 2), note="病故")
    client = client_as("worker")
    html = client.get(reverse("people:resident", args=[resident.pk])).content.decode()
    for kind, day in (
        ("move_in", "2019-04-01"),
        ("update", "2023-05-06"),
        ("death", "2025-01-02"),
    ):
        assert f'data-kind="{kind}"' in html and day in html
    assert "138****2222" in html and "13811112222" not in html
    household = client.get(reverse("people:household", args=[register["household"].pk]))
    assert 'data-kind="death"' in household.content.decode()


def test_editing_leaves_an_event_with_masked_old_and_new_values(client_as, register):
    resident = register["resident"]
    client = client_as("worker")
    response = client.post(
        reverse("people:resident_edit", args=[resident.pk]),
        {
            "name": "周梅",
            "id_number": "",  # blank keeps the number
            "phone": "139 0000 1234",
            "ethnicity": "汉族",
            "registration": "registered",
            "residence": "living_only",
            "relation": "head",
            "tags": ["disabled", "elderly_alone"],
            "date": "2024-07-01",
            "note": "电话变更",
        },
    )
    assert response.status_code == 302
    event = resident.events.get(date=dt.date(2024, 7, 1))
    assert event.changes["phone"] == ["139****7777", "139****1234"]
    assert "residence" in event.changes and "id" not in event.changes
    resident.refresh_from_db()
    assert resident.id_masked.endswith(register["number"][-4:])
    audit = AuditEvent.objects.get(action="people.resident.update")
    assert "13900001234" not in str(audit.changes) and PHONE not in str(audit.changes)


def test_editing_reports_a_bad_id_number_on_the_form(client_as, register):
    response = client_as("worker").post(
        reverse("people:resident_edit", args=[register["resident"].pk]),
        {
            "name": "周梅",
            "id_number": "310104195008091234",
            "registration": "registered",
            "residence": "living_registered",
            "relation": "head",
            "date": "2024-07-01",
        },
    )
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert not register["resident"].events.filter(date=dt.date(2024, 7, 1)).exists()


def test_moving_out_and_moving_to_another_household(client_as, register, world):
    client = client_as("worker")
    resident = register["resident"]
    target = register["unit"]
    response = client.post(
        reverse("people:resident_transfer", args=[resident.pk]),
        {"dwelling": target.pk, "date": "2024-09-01", "note": ""},
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.household.place == target
    # A dwelling of another committee is not offered.
    foreign = a_unit(world.committees[1])
    refused = client.post(
        reverse("people:resident_transfer", args=[resident.pk]),
        {"dwelling": foreign.pk, "date": "2024-09-02"},
    )
    assert refused.status_code == 200 and 'class="error"' in refused.content.decode()
    leave = client.post(
        reverse("people:resident_leave", args=[resident.pk]),
        {"kind": "move_out", "date": "2024-10-01", "note": "去外省"},
    )
    assert leave.status_code == 302
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.MOVED_OUT
    assert resident.status_date == dt.date(2024, 10, 1)
    html = client.get(reverse("people:resident", args=[resident.pk])).content.decode()
    assert reverse("people:resident_leave", args=[resident.pk]) not in html
    # Coming back: the same record, offered its old flat by default.
    back_url = reverse("people:resident_return", args=[resident.pk])
    assert back_url in html
    form = client.get(back_url).content.decode()
    assert f'value="{target.pk}" selected' in form
    back = client.post(back_url, {"dwelling": target.pk, "date": "2025-03-01", "note": ""})
    assert back.status_code == 302
    resident.refresh_from_db()
    assert resident.status == ResidentStatus.ACTIVE
    html = client.get(reverse("people:resident", args=[resident.pk])).content.decode()
    with translation.override("zh-hans"):
        assert translation.gettext("Back in the register") in html  # the history shows it


def test_adding_a_member_and_starting_a_household(client_as, register):
    client = client_as("worker")
    unit = register["unit"]
    opened = client.get(reverse("people:dwelling", args=[unit.pk]))
    assert opened.status_code == 200 and not Household.objects.filter(place=unit).exists()
    started = client.post(reverse("people:dwelling", args=[unit.pk]))
    household = Household.objects.get(place=unit)
    assert started["Location"] == reverse("people:household_add", args=[household.pk])
    number = an_id_number(birth=dt.date(2001, 1, 1))
    added = client.post(
        reverse("people:household_add", args=[household.pk]),
        {
            "name": "新住户",
            "id_number": number,
            "phone": "",
            "registration": "migrant",
            "residence": "living_only",
            "relation": "head",
            "date": "2025-02-03",
        },
    )
    assert added.status_code == 302
    resident = Resident.objects.get(name="新住户")
    assert resident.events.get().kind == EventKind.MOVE_IN
    assert resident.events.get().date == dt.date(2025, 2, 3)
    # Now the dwelling opens its household.
    assert client.get(reverse("people:dwelling", args=[unit.pk]))["Location"] == reverse(
        "people:household", args=[household.pk]
    )
    assert client_as("gridworker").post(
        reverse("people:dwelling", args=[a_unit(register["committee"], 2).pk])
    ).status_code in (403, 404)


def test_occupancy_pages_link_down_and_refuse_other_kinds(client_as, register):
    client = client_as("worker")
    compound = client.get(reverse("people:place", args=[register["compound"].pk]))
    assert reverse("people:place", args=[register["building"].pk]) in compound.content.decode()
    building = client.get(reverse("people:place", args=[register["building"].pk]))
    html = building.content.decode()
    assert reverse("people:household", args=[register["household"].pk]) in html
    assert "72.30" in html and "周梅" in html
    assert client.get(reverse("people:place", args=[register["committee"].pk])).status_code == 404
    assert client.get(reverse("people:place", args=[register["unit"].pk])).status_code == 404


def test_profile_opens_the_viewers_place_and_shows_bars(client_as, register, world):
    client = client_as("worker")
    root = client.get(reverse("people:profile_roots"))
    assert root["Location"] == reverse("people:profile", args=[register["committee"].pk])
    html = client.get(root["Location"]).content.decode()
    assert 'data-key="60-79"' in html and "bar-fill w100" in html
    choose = client_as("gridworker").get(reverse("people:profile_roots"))
    assert choose.status_code == 200
    for compound in world.grids[0].compounds.all():
        assert reverse("people:profile", args=[compound.pk]) in choose.content.decode()


def test_nav_and_home_cards_link_to_the_register(client_as, register):
    html = client_as("worker").get("/").content.decode()
    assert 'href="/people/"' in html
    assert reverse("people:organisations") in html
    assert reverse("people:profile", args=[register["committee"].pk]) in html
    assert 'href="/people/import/"' in html
    grid = client_as("gridworker").get("/").content.decode()
    assert 'href="/people/"' in grid and 'href="/people/import/"' not in grid


def _search_queries(client, django_assert_max_num_queries, budget):
    with django_assert_max_num_queries(budget):
        response = client.get(reverse("people:search"))
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("count", [5, 60])
def test_search_runs_a_bounded_number_of_queries(
    client_as, world, django_assert_max_num_queries, count
):
    committee = world.committees[0]
    for index in range(3):
        residents_in(
            a_household(committee, index=index * 5),
            count // 3 + (1 if index < count % 3 else 0),
            start=dt.date(1940 + index * 20, 1, 1),
            tags=["elderly_alone", "disabled"],
        )
    client = client_as("worker")
    client.get("/")  # session and grants warm-up is not the page's cost
    response = _search_queries(client, django_assert_max_num_queries, 12)
    assert response.content.decode().count('class="who-cell"') == min(count, 50)
    with django_assert_max_num_queries(12):
        client.post(reverse("people:search"), {"q": "居民"}, HTTP_HX_REQUEST="true")


@pytest.mark.parametrize("count", [2, 12])
def test_household_and_occupancy_pages_run_bounded_queries(
    client_as, world, django_assert_max_num_queries, count
):
    committee = world.committees[0]
    household = a_household(committee)
    members = residents_in(household, count, tags=["elderly_alone"])
    for member in members[: count // 2]:
        resident_update(
            actor=None,
            resident=member,
            date=dt.date(2024, 1, 1),
            name=member.name,
            id_number=an_id_number(birth=dt.date(1999, 1, 1) + dt.timedelta(days=member.pk)),
            phone="13700000000",
            registration="migrant",
            residence="living_only",
            relation="other",
        )
    for index in range(count // 2):
        an_owner(
            a_unit(committee, index),
            name=f"业主{index}",
            id_number=an_id_number(birth=dt.date(1960, 1, 1) + dt.timedelta(days=index)),
            area="50",
        )
    for index in range(count // 2):
        an_organisation(
            committee,
            name=f"活动队{index}",
            kind="activity_team",
            areas=[household.place.parent.parent],
        )
    building = household.place.parent
    client = client_as("worker")
    client.get("/")
    for url, budget in (
        (reverse("people:household", args=[household.pk]), 17),
        (reverse("people:resident", args=[members[0].pk]), 13),
        (reverse("people:place", args=[building.pk]), 13),
        (reverse("people:place", args=[building.parent_id]), 15),
        (reverse("people:profile", args=[committee.pk]), 16),
        (reverse("people:organisations"), 13),
    ):
        with django_assert_max_num_queries(budget):
            assert client.get(url).status_code == 200, url


def test_administrators_keep_the_tag_vocabulary_audited(client_as, world):
    client = client_as("admin")
    assert client.get("/admin/people/tag/").status_code == 200
    tag = Tag.objects.get(code="volunteer")
    response = client.post(
        f"/admin/people/tag/{tag.pk}/change/",
        {"name": "注册志愿者", "description": tag.description, "active": "on"},
    )
    assert response.status_code == 302
    tag.refresh_from_db()
    assert tag.name == "注册志愿者" and tag.code == "volunteer"
    assert AuditEvent.objects.filter(action="people.tag.update", object_id=str(tag.pk)).exists()
    assert client.post(f"/admin/people/tag/{tag.pk}/delete/").status_code == 403
    assert client_as("worker").get("/admin/people/tag/").status_code == 302


@pytest.mark.parametrize(("key", "root"), [("selfgov", "street"), ("bureau", "district")])
def test_street_and_district_see_the_register_masked_and_their_profile(
    client_as, register, world, key, root
):
    client = client_as(key)
    place = getattr(world, root)
    profile = client.get(reverse("people:profile_roots"))
    assert profile["Location"] == reverse("people:profile", args=[place.pk])
    html = client.get(profile["Location"]).content.decode()
    assert profile_counts_tag(html, "独居老人") and not profile_counts_tag(html, "残疾人")
    detail = client.get(reverse("people:resident", args=[register["resident"].pk]))
    page = detail.content.decode()
    assert detail.status_code == 200 and "139****7777" in page and PHONE not in page
    assert 'name="reason"' not in page and "残疾人" not in page
    assert (
        client.get(reverse("people:resident_edit", args=[register["resident"].pk])).status_code
        == 403
    )


def profile_counts_tag(html: str, name: str) -> bool:
    return f">{name}<" in html
