from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from linli.places import selectors
from linli.places.choices import CHILD_KIND, KIND_ORDER


@login_required
def browse(request):
    """Entry to the place browser: the viewer's own top places."""
    roots = selectors.viewer_roots(viewer=request.user)
    if len(roots) == 1:
        return redirect("places:detail", pk=roots[0].pk)
    counts = selectors.subtree_counts(prefixes=[r.path for r in roots])
    rows = [(r, counts.get(r.path, {})) for r in roots]
    return render(request, "places/browse.html", {"rows": rows, "kinds": KIND_ORDER})


@login_required
def detail(request, pk: int):
    place = selectors.place_get(viewer=request.user, pk=pk)
    page = selectors.place_children_page(
        viewer=request.user, place=place, page=request.GET.get("page")
    )
    counts = selectors.subtree_counts(prefixes=[place.path, *(c.path for c in page)])
    context = {
        "place": place,
        "page": page,
        "children": [(c, counts.get(c.path, {})) for c in page],
        "counts": counts[place.path],
        "child_kind": CHILD_KIND.get(place.kind),
        "kinds": KIND_ORDER,
        "breadcrumbs": selectors.place_breadcrumbs(viewer=request.user, place=place),
        "grids": selectors.place_grids(place=place),
        "departments": selectors.place_departments(place=place),
    }
    template = "places/detail.html#children" if request.htmx else "places/detail.html"
    return render(request, template, context)
