"""Vote pages (/votes/): the resident's view and ballot, results, and the staff pages."""

from django.urls import path

from linli.votes import views

app_name = "votes"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("manage/", views.staff_list, name="manage"),
    path("new/", views.vote_create, name="create"),
    path("<int:pk>/", views.vote_detail, name="vote"),
    path("<int:pk>/result/", views.vote_result_page, name="result"),
    path("<int:pk>/result.xlsx", views.export, name="export"),
    path("<int:pk>/edit/", views.vote_edit, name="edit"),
    path("<int:pk>/open/", views.vote_open, name="open"),
    path("<int:pk>/close/", views.vote_close, name="close"),
    path("<int:pk>/cancel/", views.vote_cancel, name="cancel"),
    path("<int:pk>/ballots/", views.record, name="record"),
    path("<int:pk>/ballots/pending/", views.pending, name="pending"),
    path("<int:pk>/ballots/<int:participation_id>/confirm/", views.confirm, name="confirm"),
    path("<int:pk>/ballots/<int:participation_id>/reject/", views.reject, name="reject"),
]
