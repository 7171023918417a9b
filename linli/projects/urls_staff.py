"""Staff pages of fund projects."""

from django.urls import path

from linli.projects import views

urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_new, name="new"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    *(
        path(f"<int:pk>/{name}/", views.project_step, {"name": name}, name=name)
        for name in views.STEPS
    ),
    path("<int:pk>/pay/", views.payment_request, name="pay"),
    path("<int:pk>/review/<str:stage>/", views.review, name="review"),
    path("payments/<int:pk>/approve/", views.payment_approve, name="payment_approve"),
    path("payments/<int:pk>/refuse/", views.payment_refuse, name="payment_refuse"),
    path("payments/<int:pk>/invoice/", views.invoice, name="invoice"),
]
