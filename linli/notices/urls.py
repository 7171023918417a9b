"""Notice-board pages, mounted at /board/. The board, its archive, a notice and its print page
are public; the rest needs sign-in (staff pages: notices.publish at the place)."""

from django.urls import path

from linli.notices import views

app_name = "notices"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("<int:board_id>/", views.board, name="board"),
    path("<int:board_id>/archive/", views.archive, name="archive"),
    path("notice/<int:notice_id>/", views.notice_detail, name="notice"),
    path("notice/<int:notice_id>/print/", views.notice_print, name="print"),
    path("notice/<int:notice_id>/object/", views.notice_object, name="object"),
    path("manage/", views.manage, name="manage"),
    path("manage/<int:place_id>/publish/", views.publish, name="publish"),
    path("manage/notice/<int:notice_id>/", views.manage_notice, name="manage_notice"),
    path("manage/notice/<int:notice_id>/withdraw/", views.withdraw, name="withdraw"),
    path("manage/objections/", views.objections, name="objections"),
    path("manage/objections/<int:objection_id>/answer/", views.answer, name="answer"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:notification_id>/read/", views.notification_read, name="read"),
    path("inbox/read-all/", views.notifications_read_all, name="read_all"),
]
