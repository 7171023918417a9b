from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from linli.core import selectors
from linli.core.forms import AuditSearchForm
from linli.core.perms import VIEW_AUDIT


@login_required
def audit(request):
    if not request.user.has_perm(VIEW_AUDIT):
        raise Http404
    form = AuditSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.audit_search_page(viewer=request.user, page=request.GET.get("page"), **filters)
    template = "core/audit.html#results" if request.htmx else "core/audit.html"
    return render(request, template, {"form": form, "page": page})
