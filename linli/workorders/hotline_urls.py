"""URL patterns of the 12345 hotline import (included by workorders.urls, under /orders/)."""

from django.urls import path

from linli.workorders import hotline_views

urlpatterns = [
    path("hotline/", hotline_views.hotline_upload, name="hotline"),
    path("hotline/<str:token>/", hotline_views.hotline_report, name="hotline_report"),
    path("hotline/<str:token>/import/", hotline_views.hotline_commit, name="hotline_commit"),
    path("hotline/<str:token>/errors.csv", hotline_views.hotline_errors, name="hotline_errors"),
]
