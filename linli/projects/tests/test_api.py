"""The fund projects API: a whole project by API from application to close, scoping (404 for a
sibling committee's worker on every object endpoint), the error codes (403, 409 "state",
422 with the services' codes), garbage, the invoice upload, and a fuzz on real objects."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from linli.funds.selectors import ledger_verify
from linli.notices.models import Notice
from linli.projects.choices import ProjectState as S
from linli.projects.models import Payment, Project
from linli.projects.tests.factories import (
    EVAL,
    GOOD,
    LINES,
    a_project,
    a_topic,
    funded,
    pay,
    profile,
    walk,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/projects"
MAX_ID = 2**31 - 1


@pytest.fixture
def ready(world, users):
    funded(world)
    profile(world)
    return world


def _post(client, url, body=None):
    return client.post(url, {} if body is None else body, content_type="application/json")


def _new(world, topic, **fields) -> dict:
    body = {
        "place_id": world.committees[0].pk,
        "title": "楼道灯改造",
        "plan": "更换 3 号楼至 8 号楼楼道灯，居民志愿者协助排查。",
        "beneficiaries": "3–8 号楼住户",
        "beneficiary_count": 240,
        "starts_on": "2026-12-10",
        "ends_on": "2026-12-31",
        "lines": LINES,
        "topic_id": topic.pk if topic else None,
    }
    body.update(fields)
    return body


INVOICE_NUMBERS = itertools.count(41001234)


def _invoice(name="发票.pdf", content=b"%PDF-1.4 invoice"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _pay(client, project_id, line_id, amount="1000.00", memo="灯具首批", invoice=None, **extra):
    data = {
        "line_id": line_id,
        "amount": amount,
        "payee": "上海某某照明器材有限公司",
        "memo": memo,
        "invoice_number": f"No.{next(INVOICE_NUMBERS)}",
        **extra,
    }
    if invoice is not False:
        data["invoice"] = invoice or _invoice()
    return client.post(f"{API}/{project_id}/payments", data)


def _window_over(project_id: int) -> None:
    past = timezone.now() - dt.timedelta(minutes=1)
    notice_id = Project.objects.get(pk=project_id).notice_id
    Notice.objects.filter(pk=notice_id).update(
        published_at=past - dt.timedelta(days=8), window_until=past
    )


def _details(response) -> list[dict]:
    return response.json()["error"]["details"]


def _types(response) -> set[str]:
    return {d["type"] for d in _details(response)}


def test_a_project_from_application_to_close_through_the_api(client_as, ready, users):
    topic = a_topic(ready, users)
    created = _post(client_as("worker"), f"{API}/", _new(ready, topic))
    assert created.status_code == 201, created.content
    project = created.json()
    pk = project["id"]
    assert (project["state"], project["budget"], project["topic_id"]) == (
        "draft",
        "10000.00",
        topic.pk,
    )
    assert {"update", "submit", "withdraw"} <= set(project["actions"])
    assert project["steps"][0]["step"] == "create" and project["steps"][0]["role"]

    lines = [*LINES, {"category": "publicity", "item": "告示打印", "amount": "120.00"}]
    patched = client_as("worker").patch(
        f"{API}/{pk}", {"lines": lines}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["budget"] == "10120.00"
    assert len(patched.json()["lines"]) == 3
    submitted = _post(client_as("worker"), f"{API}/{pk}/submit")
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"

    checked = _post(client_as("director"), f"{API}/{pk}/check", {"decision": "pass"})
    assert checked.json()["state"] == "checked"
    for key in ("reviewer", "reviewer2", "reviewer3"):
        reviewed = _post(client_as(key), f"{API}/{pk}/review", {"stage": "review", "scores": GOOD})
        assert reviewed.status_code == 200, reviewed.content
    mine = [r for r in reviewed.json()["reviews"] if r["mine"]]
    assert mine[0]["total"] == "78.00" and mine[0]["scores"][0]["code"] == "need"
    decided = _post(client_as("selfgov"), f"{API}/{pk}/decide", {"decision": "pass"})
    assert decided.json()["state"] == "reviewed" and decided.json()["review_score"] == "78.00"
    publicised = _post(client_as("selfgov"), f"{API}/{pk}/publicise")
    assert publicised.json()["state"] == "publicised" and publicised.json()["notice_id"]

    early = _post(client_as("selfgov"), f"{API}/{pk}/approve")
    assert early.status_code == 422 and _types(early) == {"approval"}
    _window_over(pk)
    approved = _post(client_as("selfgov"), f"{API}/{pk}/approve")
    assert approved.status_code == 200, approved.content
    assert approved.json()["committed"] == "10120.00" and "pay" not in approved.json()["actions"]
    line_id = approved.json()["lines"][0]["id"]
    requested = _pay(client_as("worker"), pk, line_id, "8000.00")
    assert requested.status_code == 201, requested.content
    payment = requested.json()
    assert payment["state"] == "requested" and payment["has_invoice"] is True
    assert Payment.objects.get(pk=payment["id"]).invoice.read() == b"%PDF-1.4 invoice"
    detail = client_as("worker").get(f"{API}/{pk}").json()
    assert detail["lines"][0]["pending"] == "8000.00" and detail["lines"][0]["left"] == "0.00"
    assert "pay" in detail["actions"] and "complete" in detail["actions"]
    signed = _post(client_as("director"), f"{API}/payments/{payment['id']}/approve")
    assert signed.status_code == 200 and signed.json()["state"] == "paid"
    assert len(signed.json()["signatures"]) == 2 and signed.json()["disclose_by"]
    detail = client_as("worker").get(f"{API}/{pk}").json()
    assert (detail["paid"], detail["pending"], detail["left"]) == ("8000.00", "0.00", "2120.00")
    assert detail["lines"][0]["paid"] == "8000.00" and "disclose" in detail["actions"]

    disclosed = _post(client_as("worker"), f"{API}/{pk}/disclose")
    assert disclosed.status_code == 200 and disclosed.json()["payments"][0]["disclosed"]
    again = _post(client_as("worker"), f"{API}/{pk}/disclose")
    assert again.status_code == 409 and again.json()["error"]["code"] == "nothing"

    completed = _post(
        client_as("worker"), f"{API}/{pk}/complete", {"report": "40 盏灯已安装完毕。"}
    )
    assert completed.json()["state"] == "completed"
    accepted = _post(
        client_as("selfgov"), f"{API}/{pk}/accept", {"passed": True, "note": "现场验收合格"}
    )
    assert accepted.json()["state"] == "accepted"
    seen = client_as("resident").get(f"{API}/{pk}")
    assert seen.status_code == 200 and seen.json()["actions"] == ["survey"]
    assert seen.json()["reviews"] == [] and all(s["note"] == "" for s in seen.json()["steps"])
    answered = _post(client_as("resident"), f"{API}/{pk}/survey", {"score": 5, "comment": "亮多了"})
    assert answered.status_code == 201 and answered.json()["score"] == 5
    twice = _post(client_as("resident"), f"{API}/{pk}/survey", {"score": 4})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "duplicate"

    for key in ("reviewer", "reviewer2", "reviewer3"):
        body = {"stage": "evaluation", "scores": EVAL, "opinion": "效果良好"}
        assert _post(client_as(key), f"{API}/{pk}/review", body).status_code == 200
    evaluated = _post(client_as("selfgov"), f"{API}/{pk}/evaluate", {"note": "达到预期"})
    assert evaluated.json()["evaluation_score"] == "80.00"
    assert evaluated.json()["survey"]["answers"] == 1
    assert evaluated.json()["survey"]["satisfied_share"] == "1.0000"
    closed = _post(
        client_as("selfgov"), f"{API}/{pk}/close", {"outcome": "楼道灯全部更换，夜间照明改善。"}
    )
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert closed.json()["actions"] == []
    steps = [s["step"] for s in closed.json()["steps"]]
    for step in ("create", "edit", "submit", "check", "review_pass", "publicise", "approve"):
        assert step in steps
    for step in ("payment", "disclose", "complete", "accept", "evaluate", "close"):
        assert step in steps
    assert ledger_verify() == []


def test_list_is_scoped_filtered_and_has_a_query_budget(
    client_as, ready, users, django_assert_max_num_queries
):
    for n in range(6):
        a_project(ready, users, title=f"项目{n}")
    submitted = walk(a_project(ready, users, title="已提交"), users, S.SUBMITTED)
    client = client_as("worker")
    with django_assert_max_num_queries(10):
        body = client.get(f"{API}/").json()
    assert body["count"] == 7 and len(body["results"]) == 7
    only = client.get(f"{API}/", {"state": "submitted"}).json()
    assert [p["id"] for p in only["results"]] == [submitted.pk]
    year = timezone.localdate().year
    assert client.get(f"{API}/", {"year": year}).json()["count"] == 7
    assert client.get(f"{API}/", {"year": year - 1}).json()["count"] == 0
    street = client_as("selfgov").get(f"{API}/", {"place_id": ready.committees[0].pk}).json()
    assert street["count"] == 7
    other = client_as("selfgov").get(f"{API}/", {"place_id": ready.committees[1].pk}).json()
    assert other["count"] == 0
    assert client_as("stranger").get(f"{API}/").json()["count"] == 0
    # Residents see their community's projects from the public notice on only.
    assert client_as("resident").get(f"{API}/").json()["count"] == 0


def test_criteria_are_published(client_as, ready):
    body = client_as("resident").get(f"{API}/criteria").json()
    assert body["review"][0]["code"] == "need"
    assert sum(c["points"] for c in body["review"]) == 100
    assert sum(c["points"] for c in body["evaluation"]) == 100


def test_detail_query_count_is_bounded(client_as, ready, users, django_assert_max_num_queries):
    project = walk(a_project(ready, users), users, S.APPROVED)
    for _n in range(3):
        pay(project, users, "100.00")
    client = client_as("worker")
    with django_assert_max_num_queries(25):
        response = client.get(f"{API}/{project.pk}")
    assert len(response.json()["payments"]) == 3


# --- scoping ------------------------------------------------------------------------------------


def _object_endpoints(project_id: int, payment_id: int):
    return [
        ("get", f"{API}/{project_id}", None),
        ("patch", f"{API}/{project_id}", {"title": "改名"}),
        ("post", f"{API}/{project_id}/submit", {}),
        ("post", f"{API}/{project_id}/check", {"decision": "pass"}),
        ("post", f"{API}/{project_id}/withdraw", {"reason": "不做了"}),
        ("post", f"{API}/{project_id}/review", {"stage": "review", "scores": GOOD}),
        ("post", f"{API}/{project_id}/decide", {"decision": "pass"}),
        ("post", f"{API}/{project_id}/publicise", {}),
        ("post", f"{API}/{project_id}/approve", {}),
        ("post", f"{API}/{project_id}/complete", {"report": "完成"}),
        ("post", f"{API}/{project_id}/accept", {"passed": True, "note": "合格"}),
        ("post", f"{API}/{project_id}/evaluate", {}),
        ("post", f"{API}/{project_id}/close", {"outcome": "结束"}),
        ("post", f"{API}/{project_id}/disclose", {}),
        ("post", f"{API}/{project_id}/survey", {"score": 5}),
        ("post", f"{API}/payments/{payment_id}/approve", {}),
        ("post", f"{API}/payments/{payment_id}/refuse", {"reason": "发票有误"}),
    ]


def test_a_sibling_committees_worker_gets_404_on_every_object_endpoint(client_as, ready, users):
    project = walk(a_project(ready, users), users, S.APPROVED)
    payment = pay(project, users, "100.00", approve=False)
    client = client_as("stranger")
    for method, url, body in _object_endpoints(project.pk, payment.pk):
        if method == "get":
            response = client.get(url)
        else:
            response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
        if method != "get":  # an empty body too: the object is looked up first
            empty = getattr(client, method)(url, {}, content_type="application/json")
            assert empty.status_code == 404, (method, url, empty.status_code)
    line = project.lines.first()
    upload = _pay(client, project.pk, line.pk, "10.00")
    assert upload.status_code == 404
    # Creating at another committee's place: 404 too, like the place does not exist.
    created = _post(client, f"{API}/", _new(ready, None))
    assert created.status_code == 404
    project.refresh_from_db()
    assert project.state == S.APPROVED and Payment.objects.filter(state="requested").count() == 1


def test_missing_objects_are_404(client_as, ready):
    client = client_as("worker")
    for method, url, body in _object_endpoints(MAX_ID, MAX_ID):
        if method == "get":
            response = client.get(url)
        else:
            response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 404, (method, url, response.status_code)


def test_residents_see_only_public_projects_of_their_community(client_as, ready, users):
    draft = a_project(ready, users)
    resident = client_as("resident")
    assert resident.get(f"{API}/{draft.pk}").status_code == 404
    assert _post(resident, f"{API}/{draft.pk}/survey", {"score": 5}).status_code == 404
    public = walk(a_project(ready, users), users, S.PUBLICISED)
    assert resident.get(f"{API}/{public.pk}").status_code == 200
    assert resident.get(f"{API}/").json()["count"] == 1
    # A staff step asked by a resident: the project does not exist for staff work.
    assert _post(resident, f"{API}/{public.pk}/approve").status_code == 404
    # Surveys open during the evaluation only: 409 "state" before.
    early = _post(resident, f"{API}/{public.pk}/survey", {"score": 5})
    assert early.status_code == 409 and early.json()["error"]["code"] == "state"


# --- 403, 409 and 422 ---------------------------------------------------------------------------


def test_a_step_by_the_wrong_role_is_403(client_as, ready, users):
    project = walk(a_project(ready, users), users, S.SUBMITTED)
    refused = _post(client_as("worker"), f"{API}/{project.pk}/check", {"decision": "pass"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert refused.json()["error"]["message"]
    assert _post(client_as("worker"), f"{API}/{project.pk}/check").status_code == 403
    empty = _post(client_as("director"), f"{API}/{project.pk}/check")
    assert empty.status_code == 422 and _details(empty)[0]["loc"] == ["body", "decision"]
    project = walk(project, users, S.CHECKED)
    decide = _post(client_as("reviewer"), f"{API}/{project.pk}/decide", {"decision": "pass"})
    assert decide.status_code == 403
    director = _post(client_as("director"), f"{API}/{project.pk}/review", {"scores": GOOD})
    assert director.status_code == 403
    # A reviewer sees the street's projects but does not apply there.
    reviewer = _post(client_as("reviewer"), f"{API}/", _new(ready, None))
    assert reviewer.status_code == 403


@pytest.mark.parametrize(
    ("state", "url", "body", "key"),
    [
        (S.DRAFT, "check", {"decision": "pass"}, "director"),
        (S.SUBMITTED, "publicise", {}, "selfgov"),
        (S.CHECKED, "approve", {}, "selfgov"),
        (S.REVIEWED, "complete", {"report": "完成"}, "worker"),
        (S.APPROVED, "evaluate", {}, "selfgov"),
        (S.PUBLICISED, "withdraw", {"reason": "不做了"}, "worker"),
        (S.SUBMITTED, "submit", {}, "worker"),
    ],
)
def test_a_step_from_the_wrong_state_is_409(client_as, ready, users, state, url, body, key):
    project = a_project(ready, users)
    if state != S.DRAFT:
        project = walk(project, users, state)
    response = _post(client_as(key), f"{API}/{project.pk}/{url}", body)
    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "state"
    assert response.json()["error"]["message"]


def test_patch_of_a_submitted_project_is_409(client_as, ready, users):
    project = walk(a_project(ready, users), users, S.SUBMITTED)
    response = client_as("worker").patch(
        f"{API}/{project.pk}", {"title": "新名称"}, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "state"


def test_cap_and_negative_list_at_application(client_as, ready, users):
    profile(ready, per_project_cap=Decimal("10000.00"))
    worker = client_as("worker")
    exactly = _post(worker, f"{API}/", _new(ready, a_topic(ready, users)))
    assert exactly.status_code == 201
    over = [*LINES, {"category": "publicity", "item": "海报", "amount": "0.01"}]
    response = _post(worker, f"{API}/", _new(ready, None, lines=over))
    assert response.status_code == 422 and _types(response) == {"cap"}
    assert _details(response)[0]["loc"] == ["body", "lines"]
    assert "¥10,000.01" in _details(response)[0]["msg"]
    meals = [{"category": "banquets_and_meals", "item": "志愿者午餐", "amount": "600.00"}]
    response = _post(worker, f"{API}/", _new(ready, None, lines=meals))
    assert response.status_code == 422 and "志愿者午餐" in _details(response)[0]["msg"]


def test_deliberation_and_participation_refuse_submission_with_codes(client_as, ready, users):
    from linli.people.tests.factories import a_household, a_resident

    worker = client_as("worker")
    pk = _post(worker, f"{API}/", _new(ready, None)).json()["id"]
    response = _post(worker, f"{API}/{pk}/submit")
    assert response.status_code == 422 and _types(response) == {"deliberation"}
    assert _details(response)[0]["loc"] == ["body", "topic_id"]
    topic = a_topic(ready, users)
    patched = worker.patch(f"{API}/{pk}", {"topic_id": topic.pk}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["topic_id"] == topic.pk
    a_resident(a_household(ready.committees[0], 0))
    profile(ready, min_participation_rate=Decimal("0.5000"))
    response = _post(worker, f"{API}/{pk}/submit")
    assert response.status_code == 422 and _types(response) == {"participation"}
    assert "0/1" in _details(response)[0]["msg"]


def test_review_panel_codes_conflict_and_panel(client_as, ready, users):
    from linli.accounts.roles import Role
    from linli.accounts.services import role_assign

    project = walk(a_project(ready, users), users, S.CHECKED)
    household = users["resident"].assignments.get().place
    role_assign(actor=None, user=users["reviewer3"], role=Role.RESIDENT, place=household)
    url = f"{API}/{project.pk}/review"
    conflict = _post(client_as("reviewer3"), url, {"stage": "review", "scores": GOOD})
    assert conflict.status_code == 422 and _types(conflict) == {"conflict"}
    declared = _post(
        client_as("reviewer3"), url, {"conflict": True, "conflict_note": "本人居住在该小区"}
    )
    assert declared.status_code == 200
    assert declared.json()["panels"][0] == {
        "stage": "review",
        "scored": 0,
        "recused": 1,
        "mean": None,
    }
    assert declared.json()["reviews"][0]["conflict"] is True
    for key in ("reviewer", "reviewer2"):
        assert _post(client_as(key), url, {"scores": GOOD}).status_code == 200
    decide = _post(client_as("selfgov"), f"{API}/{project.pk}/decide", {"decision": "pass"})
    assert decide.status_code == 422 and _types(decide) == {"panel"}
    assert _details(decide)[0]["loc"] == ["body"]
    bad = _post(client_as("reviewer"), url, {"scores": {**GOOD, "need": 26}})
    assert bad.status_code == 422 and _details(bad)[0]["loc"] == ["body", "scores"]


def test_payments_line_cap_negative_invoice_and_refusal(client_as, ready, users):
    project = walk(a_project(ready, users), users, S.APPROVED)
    line = project.lines.get(position=2)  # 2,000
    response = _pay(client_as("worker"), project.pk, line.pk, "2000.01", memo="安装")
    assert response.status_code == 422 and _types(response) == {"line"}
    assert _details(response)[0]["loc"] == ["body", "amount"]
    response = _pay(client_as("worker"), project.pk, line.pk, "100.00", memo="验收后聚餐")
    assert response.status_code == 422 and _types(response) == {"negative"}
    response = _pay(client_as("worker"), project.pk, line.pk, "100.00", invoice=False)
    assert response.status_code == 422
    assert {"invoice"} == {d["loc"][-1] for d in _details(response)}
    bad_file = _pay(
        client_as("worker"),
        project.pk,
        line.pk,
        "100.00",
        invoice=_invoice("发票.exe", b"MZ\x90\x00"),
    )
    assert bad_file.status_code == 422 and _types(bad_file) == {"invoice_type"}
    other = walk(a_project(ready, users, title="另一个项目"), users, S.APPROVED)
    foreign = _pay(client_as("worker"), project.pk, other.lines.first().pk, "100.00")
    assert foreign.status_code == 422 and _details(foreign)[0]["loc"] == ["body", "line_id"]
    profile(ready, per_project_cap=Decimal("5000.00"))
    assert (
        _pay(
            client_as("worker"), project.pk, project.lines.get(position=1).pk, "5000.00"
        ).status_code
        == 201
    )
    response = _pay(client_as("worker"), project.pk, line.pk, "0.01", memo="安装")
    assert response.status_code == 422 and _types(response) == {"cap"}

    pending = Payment.objects.get(state="requested")
    refused = _post(client_as("director"), f"{API}/payments/{pending.pk}/refuse", {"reason": ""})
    assert refused.status_code == 422 and _details(refused)[0]["loc"] == ["body", "reason"]
    refused = _post(
        client_as("director"), f"{API}/payments/{pending.pk}/refuse", {"reason": "发票抬头有误"}
    )
    assert refused.status_code == 200 and refused.json()["state"] == "refused"
    again = _post(client_as("director"), f"{API}/payments/{pending.pk}/approve")
    assert again.status_code == 409 and again.json()["error"]["code"] == "state"
    by_worker = _pay(client_as("worker"), project.pk, project.lines.get(position=1).pk, "10.00")
    signed = _post(client_as("worker"), f"{API}/payments/{by_worker.json()['id']}/approve")
    assert signed.status_code == 403


def test_garbage_is_422_not_500(client_as, ready, users):
    project = walk(a_project(ready, users), users, S.APPROVED)
    worker = client_as("worker")
    assert worker.post(f"{API}/", "{", content_type="application/json").status_code in (400, 422)
    cases = [
        ("post", f"{API}/", {"place_id": "x"}),
        ("post", f"{API}/", _new(ready, None, lines="x")),
        ("post", f"{API}/", _new(ready, None, lines=[{"category": "x", "item": 1, "amount": 3}])),
        ("post", f"{API}/", _new(ready, None, starts_on="9999-01-01")),
        ("post", f"{API}/", _new(ready, None, title="名\x00称")),
        ("post", f"{API}/", _new(ready, None, topic_id=MAX_ID)),
        ("post", f"{API}/", _new(ready, None, compound_id=ready.compounds[-1].pk)),
        (
            "post",
            f"{API}/",
            _new(ready, None, lines=[{"category": "materials", "item": "灯", "amount": "abc"}]),
        ),
        ("post", f"{API}/", _new(ready, None, beneficiary_count=0, ends_on="2026-01-01")),
        ("patch", f"{API}/{project.pk}", {"title": None}),
        ("post", f"{API}/{project.pk}/check", {"decision": "maybe"}),
        ("post", f"{API}/{project.pk}/review", {"scores": "garbage"}),
        ("post", f"{API}/{project.pk}/review", {"stage": "later", "scores": GOOD}),
        ("post", f"{API}/{project.pk}/accept", {"passed": "perhaps"}),
        ("post", f"{API}/{project.pk}/survey", {"score": "abc"}),
        ("post", f"{API}/{project.pk}/survey", {"score": 10**30}),
        ("get", f"{API}/?page=x&state=nope&year=1", None),
    ]
    for method, url, body in cases:
        if method == "get":
            response = worker.get(url)
        else:
            response = getattr(worker, method)(url, body, content_type="application/json")
        assert response.status_code == 422, (method, url, body, response.content)
        assert response.json()["error"]["code"] == "invalid"
    assert worker.get(f"{API}/abc").status_code in (404, 422)
    assert worker.get(f"{API}/99999999999").status_code in (404, 422)
    line = project.lines.first()
    no_amount = worker.post(f"{API}/{project.pk}/payments", {"line_id": line.pk})
    assert no_amount.status_code == 422
    bad_amount = _pay(worker, project.pk, line.pk, "-1")
    assert bad_amount.status_code == 422 and _details(bad_amount)[0]["loc"] == ["body", "amount"]
    bad_date = _pay(worker, project.pk, line.pk, "10.00", on="0001-01-01")
    assert bad_date.status_code == 422
    json_body = _post(worker, f"{API}/{project.pk}/payments", {"line_id": line.pk})
    assert json_body.status_code == 422


def test_openapi_lists_every_projects_route_with_a_response_schema(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    expected = {
        ("/api/v1/projects/", "get"),
        ("/api/v1/projects/", "post"),
        ("/api/v1/projects/criteria", "get"),
        ("/api/v1/projects/{project_id}", "get"),
        ("/api/v1/projects/{project_id}", "patch"),
        ("/api/v1/projects/{project_id}/payments", "post"),
        ("/api/v1/projects/payments/{payment_id}/approve", "post"),
        ("/api/v1/projects/payments/{payment_id}/refuse", "post"),
        ("/api/v1/projects/{project_id}/survey", "post"),
    }
    steps = ("submit", "check", "withdraw", "review", "decide", "publicise", "approve")
    for step in (*steps, "complete", "accept", "evaluate", "close", "disclose"):
        expected.add((f"/api/v1/projects/{{project_id}}/{step}", "post"))
    for path, method in expected:
        operation = paths[path][method]
        assert operation["summary"], (path, method)
        ok = operation["responses"].get("200") or operation["responses"].get("201")
        assert ok and ok["content"]["application/json"]["schema"], (path, method)
    upload = paths["/api/v1/projects/{project_id}/payments"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["properties"]["invoice"]["format"] == "binary"


def test_openapi_document_loads_with_every_projects_operation(client, db):
    import schemathesis

    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").json())
    operations = [
        result.ok()
        for result in schema.include(path_regex="^/api/v1/projects/").get_all_operations()
    ]
    assert len(operations) == 21


# --- fuzzing every projects operation against real objects --------------------------------------


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, its per-request connection reset off so every request sees the
    test's uncommitted data (as in linli/open311/tests/test_schemathesis.py)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _bearer(user) -> dict:
    import secrets

    from linli.accounts.models import ApiToken

    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        prefix=key[:8],
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("persona", ["worker", "selfgov"])
def test_fuzzing_the_projects_api_finds_no_server_error(wsgi_app, ready, users, persona):
    import zlib
    from collections import Counter

    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error

    projects = [
        a_project(ready, users, title="草稿"),
        walk(a_project(ready, users, title="已初审"), users, S.CHECKED),
        walk(a_project(ready, users, title="公示中"), users, S.PUBLICISED),
        walk(a_project(ready, users, title="实施中"), users, S.APPROVED),
        walk(a_project(ready, users, title="验收后"), users, S.ACCEPTED),
    ]
    running = projects[3]
    payments = [
        pay(running, users, "100.00"),
        pay(running, users, "100.00", approve=False),
    ]
    ids = {
        "project_id": [p.pk for p in projects],
        "payment_id": [p.pk for p in payments],
    }
    line_ids = list(running.lines.values_list("pk", flat=True))
    place_ids = [ready.committees[0].pk, ready.street.pk, ready.committees[1].pk]

    def steer(case, draw: int) -> None:
        params = case.path_parameters or {}
        for name, choices in ids.items():
            if name in params:
                params[name] = choices[draw % len(choices)]
        if isinstance(case.query, dict) and "place_id" in case.query:
            case.query["place_id"] = place_ids[draw % len(place_ids)]
        if isinstance(case.body, dict):
            if "place_id" in case.body:
                case.body["place_id"] = place_ids[draw % len(place_ids)]
            if "line_id" in case.body:
                case.body["line_id"] = line_ids[draw % len(line_ids)]

    answers: Counter = Counter()
    headers = _bearer(users[persona])

    def check(case, label: str) -> None:
        draw = zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode())
        if draw % 4:
            steer(case, draw // 4)
        response = case.call(headers=headers)
        answers[label, response.status_code] += 1
        case.validate_response(response, checks=[not_a_server_error])

    def labelled(label: str):
        def run(case):
            check(case, label)

        return run

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app).include(
        path_regex="^/api/v1/projects/"
    )
    for result in schema.get_all_operations():
        operation = result.ok()
        run = labelled(operation.label)
        for mode, count in ((GenerationMode.POSITIVE, 8), (GenerationMode.NEGATIVE, 3)):
            settings(
                max_examples=count,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(given(case=operation.as_strategy(generation_mode=mode))(run))()
    assert len({label for label, _ in answers}) == 21
    assert {200, 404, 422} <= {status for _, status in answers}
    assert ledger_verify() == []
