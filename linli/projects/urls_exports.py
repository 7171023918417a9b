"""Spreadsheet downloads of fund projects (staff)."""

from django.urls import path

from linli.projects import views_exports

urlpatterns = [
    path("export.xlsx", views_exports.export_list, name="export_list"),
    path("<int:pk>/export.xlsx", views_exports.export_project, name="export_project"),
]
