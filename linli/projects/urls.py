"""/projects/: staff pages (urls_staff) and residents' public pages (urls_public)."""

from linli.projects.urls_exports import urlpatterns as exports
from linli.projects.urls_public import urlpatterns as public
from linli.projects.urls_staff import urlpatterns as staff

app_name = "projects"
urlpatterns = [*staff, *public, *exports]
