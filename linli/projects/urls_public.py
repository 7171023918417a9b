"""Residents' pages of fund projects (no staff permission needed)."""

from django.urls import path

from linli.projects import public_views

urlpatterns = [
    path("mine/", public_views.mine, name="public_mine"),
    path("community/<int:place_id>/", public_views.public_list, name="public_list"),
    path("community/<int:place_id>/print/", public_views.public_print, name="public_print"),
    path("p/<int:pk>/", public_views.public_detail, name="public_detail"),
    path("p/<int:pk>/survey/", public_views.survey, name="survey"),
]
