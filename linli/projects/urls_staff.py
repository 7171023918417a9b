"""Staff pages of fund projects."""

from django.urls import path

from linli.projects import views

urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_new, name="new"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:pk>/submit/", views.project_submit, name="submit"),
    path("<int:pk>/check/", views.project_check, name="check"),
    path("<int:pk>/withdraw/", views.project_withdraw, name="withdraw"),
    path("<int:pk>/decide/", views.project_decide, name="decide"),
    path("<int:pk>/publicise/", views.project_publicise, name="publicise"),
    path("<int:pk>/approve/", views.project_approve, name="approve"),
    path("<int:pk>/pay/", views.payment_request, name="pay"),
    path("<int:pk>/disclose/", views.project_disclose, name="disclose"),
    path("<int:pk>/complete/", views.project_complete, name="complete"),
    path("<int:pk>/accept/", views.project_accept, name="accept"),
    path("<int:pk>/evaluate/", views.project_evaluate, name="evaluate"),
    path("<int:pk>/close/", views.project_close, name="close"),
    path("<int:pk>/review/<str:stage>/", views.review, name="review"),
    path("payments/<int:pk>/approve/", views.payment_approve, name="payment_approve"),
    path("payments/<int:pk>/refuse/", views.payment_refuse, name="payment_refuse"),
    path("payments/<int:pk>/invoice/", views.invoice, name="invoice"),
]
