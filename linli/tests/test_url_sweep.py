"""Every URL, visited by a community worker of a *sibling* committee, must not reveal the first
committee: views about an object answer 404/403, list views do not show it. A new view whose
parameter this sweep cannot fill fails here until it is added to PARAMETERS, so no view escapes.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# Views that hold no place-scoped data at all.
PUBLIC = {
    "accounts:login",
    "accounts:logout",
    "admin_login",
    "accounts:second_factor",
    "set_language",
    "api-v1:openapi-json",
    "api-v1:openapi-view",
    "api-v1:token_create",
}
MARKER = "梧桐居民委员会"  # the first committee's name; the stranger works in the second
# Residents' pages of a community's public records answer for any committee or street, like a
# board, so the sweep asks for the city's (not a community: 404); their own tests check that
# they show nothing personal (linli/projects/tests/test_public.py).
PUBLIC_OF_COMMUNITY = {"projects:public_list": "place_id", "projects:public_print": "place_id"}


def _parameters(world):
    committee = world.committees[0]
    return {
        "pk": committee.pk,
        "place_id": committee.pk,
        "object_id": committee.pk,
        "id": committee.pk,
        "attachment_id": committee.pk,
        "action": "dispatch",
        "order_id": committee.pk,
        "meeting_id": committee.pk,  # meetings API
        "app_label": "places",
        "content_type_id": 1,
        # The job queue's admin pages (django_rq).
        "token": "x",
        "queue_index": 0,
        "scheduler_index": 0,
        "connection_index": 0,
        "job_id": "x",
        "result_id": "x",
        "key": "x",
        "scheduler_name": "x",
        "cron_job_name": "x",
        # Notices: a board is public (notices tests check it shows nothing personal), so the
        # sweep asks for the city's, which has none (404); the sweep world has no notices,
        # objections or notifications, so their ids answer 404 too.
        "board_id": world.city.pk,
        "notice_id": committee.pk,
        "objection_id": committee.pk,
        "notification_id": committee.pk,
        # Topics: the committee's own inbox and settings must answer 404 to the stranger; the
        # sweep world has no topics, comments, photos or appeals, so their ids answer 404.
        "committee_id": committee.pk,
        "topic_id": committee.pk,
        "comment_id": committee.pk,
        "photo_id": committee.pk,
        "appeal_id": committee.pk,
        # Votes: the sweep world has no votes or ballots, so their ids answer 404.
        "vote_id": committee.pk,
        "participation_id": committee.pk,
        # Meetings API: the sweep world has no agenda items, motions or resolutions, so their
        # ids answer 404 (the meetings API tests check real ones of the first committee).
        "item_id": committee.pk,
        "motion_id": committee.pk,
        "resolution_id": committee.pk,
        # Funds: the sweep world has no funds or accounts, so their ids answer 404 (the funds
        # tests check real ones of the first committee). The public accounts take `board_id`
        # (the city has none: 404).
        "account_id": committee.pk,
        "fund_id": committee.pk,
        # Fund projects: the sweep world has no projects or payments, so `pk` answers 404 (the
        # projects tests check real ones of the first committee); the scoring page's stage.
        "stage": "review",
        # Projects API and exports (/projects/export.xlsx takes ?place=: none answers 404).
        "project_id": committee.pk,
        "payment_id": committee.pk,
    }


def _walk(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            yield (f"{namespace}{entry.name}" if entry.name else None), namespace, entry


def _text(response) -> str:
    """The response as text; a spreadsheet export by its cells."""
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        from io import BytesIO

        from openpyxl import load_workbook

        book = load_workbook(BytesIO(response.content), read_only=True)
        return " ".join(
            str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v
        )
    return response.content.decode()


def _all_views():
    return list(_walk(get_resolver().url_patterns))


def test_every_url_is_scoped_for_a_sibling_committee(client_as, world):
    client = client_as("stranger")
    params = _parameters(world)
    checked = 0
    for name, namespace, pattern in _all_views():
        if namespace == "open311:" or name in PUBLIC:
            # Open311 is public by design (its own tests assert no personal data in it).
            continue
        if name is None:
            # Only the admin has unnamed patterns (redirects and its catch-all).
            assert namespace == "admin:", pattern
            continue
        keys = list(pattern.pattern.regex.groupindex)
        missing = [k for k in keys if k not in params]
        assert not missing, f"{name}: teach the sweep how to fill {missing}"
        kwargs = {k: params[k] for k in keys}
        if name in PUBLIC_OF_COMMUNITY:
            kwargs[PUBLIC_OF_COMMUNITY[name]] = world.city.pk
        url = reverse(name, kwargs=kwargs)
        response = client.get(url)
        is_admin = name.startswith("admin:")
        if not is_admin and response.status_code == 405 and "GET" not in response["Allow"]:
            # A POST-only view (an API reveal or search): judge it by what a POST answers.
            response = client.post(url, "{}", content_type="application/json")
        if is_admin:
            # The admin is for administrators only: everyone else is sent to sign in (the job
            # queue's JSON view, django_rq's, answers 401 instead).
            assert response.status_code in (302, 401, 405), (name, response.status_code)
            if response.status_code == 302:
                assert "/login/" in response["Location"] or response["Location"] == "/admin/", name
        elif keys:
            assert response.status_code in (403, 404), (name, url, response.status_code)
        else:
            # 422: a POST-only endpoint refusing the empty body (it reveals nothing).
            allowed = (200, 302, 403, 404, 422)
            assert response.status_code in allowed, (name, url, response.status_code)
            assert MARKER not in _text(response), (name, url)
        checked += 1
    assert checked > 20


def test_the_sweep_would_catch_an_unscoped_view(client_as, world):
    """Sanity check of the sweep's own premise: the owner of the place sees it."""
    response = client_as("worker").get(reverse("places:detail", args=[world.committees[0].pk]))
    assert response.status_code == 200
    assert MARKER in response.content.decode()


@pytest.mark.parametrize(
    "key", ["worker", "director", "dispatcher", "selfgov", "handler", "bureau", "admin"]
)
def test_roles_above_or_at_the_committee_see_it(client_as, world, key):
    response = client_as(key).get(reverse("places:detail", args=[world.committees[0].pk]))
    assert response.status_code == 200


def test_grid_worker_sees_only_the_grid_compounds(client_as, world):
    client = client_as("gridworker")
    grid_compounds = set(world.grids[0].compounds.values_list("pk", flat=True))
    for compound in world.compounds:
        status = client.get(reverse("places:detail", args=[compound.pk])).status_code
        assert status == (200 if compound.pk in grid_compounds else 404)
    assert client.get(reverse("places:detail", args=[world.street.pk])).status_code == 404


def test_administrator_uses_the_admin_and_its_changes_are_audited(client_as, world):
    from linli.core.models import AuditEvent

    client = client_as("admin")
    assert client.get("/admin/").status_code == 200
    place = world.compounds[0]
    response = client.post(
        f"/admin/places/place/{place.pk}/change/", {"name": "改名小区", "code": ""}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="places.place.update", object_id=str(place.pk))
    assert event.changes["name"] == {"old": place.name, "new": "改名小区"}
    assert client_as("bureau").get("/admin/").status_code == 302
