"""Work-order pages: intake and the order page here; the role boards (inboxes, console, overdue
board, district view, map, metrics) in boards_urls.py."""

from django.urls import path

from linli.workorders import boards_urls, hotline_urls, metrics_urls, routing, views

app_name = "workorders"

urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/categories/", views.report_categories, name="report_categories"),
    path("report/similar/", views.report_similar, name="report_similar"),
    path("mine/", views.mine, name="mine"),
    path("errands/new/", views.errand_new, name="errand_new"),
    path("errands/new/residents/", views.errand_residents, name="errand_residents"),
    path("<int:pk>/", views.order_detail, name="order"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("<int:pk>/act/<slug:action>/", views.act, name="act"),
    *boards_urls.urlpatterns,
    *routing.urlpatterns,
    *hotline_urls.urlpatterns,
    *metrics_urls.urlpatterns,
]
