"""The metrics dashboard, mounted under /orders/ by workorders/urls.py (app_name "workorders")."""

from django.urls import path

from linli.workorders import metrics_views

urlpatterns = [
    path("metrics/", metrics_views.metrics_page, name="metrics"),
    path("metrics/charts/", metrics_views.metrics_charts, name="metrics_charts"),
    path("metrics/export.xlsx", metrics_views.metrics_export, name="metrics_export"),
]
