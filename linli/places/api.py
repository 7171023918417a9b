from django.core.paginator import Paginator
from ninja import Query, Router, Schema

from linli.places import selectors

router = Router(tags=["places"])


class PlaceOut(Schema):
    id: int
    kind: str
    name: str
    code: str
    parent_id: int | None
    depth: int


class PlaceDetailOut(PlaceOut):
    counts: dict[str, int]


class PlacePageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[PlaceOut]


class PageQuery(Schema):
    page: int = 1


@router.get("/", response=list[PlaceOut], summary="The caller's top places")
def roots(request):
    return selectors.viewer_roots(viewer=request.user)


@router.get("/{place_id}", response=PlaceDetailOut, summary="One place with counts under it")
def place_detail(request, place_id: int):
    place = selectors.place_get(viewer=request.user, pk=place_id)
    place.counts = selectors.subtree_counts(prefixes=[place.path])[place.path]
    return place


@router.get("/{place_id}/children", response=PlacePageOut, summary="The children of a place, paged")
def place_children(request, place_id: int, query: Query[PageQuery]):
    place = selectors.place_get(viewer=request.user, pk=place_id)
    page = selectors.place_children_page(viewer=request.user, place=place, page=query.page)
    paginator: Paginator = page.paginator
    return {
        "count": paginator.count,
        "page": page.number,
        "pages": paginator.num_pages,
        "results": list(page),
    }
