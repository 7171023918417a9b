"""Meeting pages (/meetings/): the resident's invitations and meeting pages, the worker's
console, petitions to convene and 四议两公开."""

from django.urls import path

from linli.meetings import views

app_name = "meetings"

urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("mine/", views.mine, name="mine"),
    path("new/", views.meeting_create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("<int:pk>/members/", views.members, name="members"),
    path("<int:pk>/agenda/", views.agenda_add, name="agenda_add"),
    path("<int:pk>/announce/", views.announce, name="announce"),
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/register/", views.register, name="register"),
    path("<int:pk>/console/", views.console, name="console"),
    path("<int:pk>/quorum/", views.quorum, name="quorum"),
    path("<int:pk>/checkin/", views.checkin, name="checkin"),
    path("<int:pk>/minutes/", views.minutes, name="minutes"),
    path("checkin/<str:token>/", views.checkin_token, name="checkin_token"),
    path("agenda/<int:pk>/motions/", views.motion_add, name="motion_add"),
    path("agenda/from-topic/<int:topic_id>/", views.agenda_from_topic, name="agenda_from_topic"),
    path("motions/<int:pk>/", views.motion_detail, name="motion"),
    path("motions/<int:pk>/open/", views.motion_open, name="motion_open"),
    path("motions/<int:pk>/close/", views.motion_close, name="motion_close"),
    path("motions/<int:pk>/hands/", views.motion_hands, name="motion_hands"),
    path("motions/<int:pk>/tally/", views.motion_tally, name="motion_tally"),
    path("motions/<int:pk>/cast/", views.motion_cast, name="motion_cast"),
    path("resolutions/<int:pk>/publish/", views.resolution_publish, name="resolution_publish"),
    path("petitions/", views.petitions, name="petitions"),
    path("petitions/<int:pk>/", views.petition, name="petition"),
    path("procedures/", views.procedures, name="procedures"),
    path("procedures/templates/", views.procedure_templates, name="procedure_templates"),
    path("procedures/<int:pk>/", views.procedure, name="procedure"),
]
