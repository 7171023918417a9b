"""Topic pages (mounted at /topics/)."""

from django.urls import path

from linli.deliberation import views

app_name = "deliberation"

urlpatterns = [
    path("", views.topic_list, name="list"),
    path("new/", views.topic_new, name="new"),
    path("inbox/", views.inbox, name="inbox"),
    path("committee/<int:committee_id>/inbox/", views.committee_inbox, name="committee_inbox"),
    path("committee/<int:committee_id>/settings/", views.committee_settings, name="settings"),
    path("appeals/<int:appeal_id>/", views.appeal_decide, name="appeal_decide"),
    path("<int:pk>/", views.topic_detail, name="topic"),
    path("<int:pk>/photos/<int:photo_id>/", views.photo, name="photo"),
    path("<int:pk>/back/", views.back, name="back"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/answer/", views.answer, name="answer"),
    path("<int:pk>/merge/", views.merge, name="merge"),
    path("<int:pk>/refer/", views.refer, name="refer"),
    path("<int:pk>/done/", views.done, name="done"),
    path("<int:pk>/comments/", views.comment_post, name="comment_post"),
    path("<int:pk>/comments/<int:comment_id>/report/", views.comment_report, name="comment_report"),
    path("<int:pk>/comments/<int:comment_id>/hide/", views.comment_hide, name="comment_hide"),
    path(
        "<int:pk>/comments/<int:comment_id>/restore/",
        views.comment_restore,
        name="comment_restore",
    ),
    path("<int:pk>/comments/<int:comment_id>/appeal/", views.appeal, name="appeal"),
]
