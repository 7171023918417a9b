from django.urls import path

from linli.people import import_urls, views

app_name = "people"

urlpatterns = [
    path("", views.search, name="search"),
    path("residents/<int:pk>/", views.resident_detail, name="resident"),
    path("residents/<int:pk>/reveal/", views.resident_reveal, name="resident_reveal"),
    path("residents/<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("residents/<int:pk>/transfer/", views.resident_transfer, name="resident_transfer"),
    path("residents/<int:pk>/leave/", views.resident_leave, name="resident_leave"),
    path("residents/<int:pk>/return/", views.resident_return, name="resident_return"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("households/<int:pk>/add/", views.household_add, name="household_add"),
    path("places/<int:pk>/", views.place_detail, name="place"),
    path("places/<int:pk>/household/", views.dwelling, name="dwelling"),
    path("organisations/", views.organisations, name="organisations"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation"),
    path(
        "organisations/<int:pk>/reveal/",
        views.organisation_reveal,
        name="organisation_reveal",
    ),
    path("profile/", views.profile_roots, name="profile_roots"),
    path("profile/<int:pk>/", views.profile, name="profile"),
    *import_urls.urlpatterns,
]
