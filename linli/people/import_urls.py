"""URL patterns of spreadsheet import and export (merged into people.urls)."""

from django.urls import path

from linli.people import import_views

urlpatterns = [
    path("import/", import_views.import_start, name="import"),
    path("import/<int:pk>/", import_views.import_job, name="import_job"),
    path("import/<int:pk>/mapping/", import_views.import_job_mapping, name="import_mapping"),
    path("import/<int:pk>/dry-run/", import_views.import_job_dry_run, name="import_dry_run"),
    path("import/<int:pk>/commit/", import_views.import_job_commit, name="import_commit"),
    path("import/<int:pk>/progress/", import_views.import_job_progress, name="import_progress"),
    path("import/<int:pk>/errors.csv", import_views.import_job_errors, name="import_errors"),
    path("export/", import_views.export, name="export"),
]
