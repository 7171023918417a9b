from datetime import date, datetime

from django.http import Http404
from ninja import Query, Router, Schema

from linli.core import selectors
from linli.core.perms import VIEW_AUDIT

router = Router(tags=["audit"])


class AuditEventOut(Schema):
    id: int
    at: datetime
    actor_name: str
    role: str
    place_name: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: dict
    reason: str
    ip: str | None


class AuditPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[AuditEventOut]


class AuditQuery(Schema):
    actor: str = ""
    action: str = ""
    place: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1


@router.get(
    "/events", response=AuditPageOut, summary="Search the audit trail in the caller's scope"
)
def events(request, query: Query[AuditQuery]):
    if not request.user.has_perm(VIEW_AUDIT):
        raise Http404
    page = selectors.audit_search_page(viewer=request.user, **query.dict())
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": list(page),
    }
