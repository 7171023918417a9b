from django.urls import path

from linli.places import views

app_name = "places"
urlpatterns = [
    path("", views.browse, name="browse"),
    path("<int:pk>/", views.detail, name="detail"),
]
