from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from linli.api import api

urlpatterns = [
    path("", include("linli.accounts.urls")),
    path("places/", include("linli.places.urls")),
    path("people/", include("linli.people.urls")),
    path("orders/", include("linli.workorders.urls")),
    path("board/", include("linli.notices.urls")),
    path("topics/", include("linli.deliberation.urls")),
    path("votes/", include("linli.votes.urls")),
    path("meetings/", include("linli.meetings.urls")),
    path("projects/", include("linli.projects.urls")),
    path("funds/", include("linli.funds.urls")),
    path("open311/v2/", include("linli.open311.urls")),
    path("audit/", include("linli.core.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin signs in through our login (lock-out, second factor), never its own form.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="accounts:login", query_string=True),
        name="admin_login",
    ),
    path("admin/", admin.site.urls),
]
