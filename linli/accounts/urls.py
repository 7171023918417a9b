from django.urls import path

from linli.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.sign_in, name="login"),
    path("accounts/logout/", views.sign_out, name="logout"),
    path("accounts/second-factor/", views.second_factor, name="second_factor"),
]
