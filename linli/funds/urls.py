"""Fund pages, mounted at /funds/. The public accounts (居务公开) need no sign-in, like the
notice board they belong to; everything else is staff with `funds.view` at the place."""

from django.urls import path

from linli.funds import views

app_name = "funds"

urlpatterns = [
    # /funds/ sends the viewer to their own committee or street (same name, no parameter).
    path("", views.home, name="overview"),
    path("place/<int:place_id>/", views.overview, name="overview"),
    path("place/<int:place_id>/allocate/", views.allocate, name="allocate"),
    path("place/<int:place_id>/close/", views.year_close, name="year_close"),
    path("place/<int:place_id>/donate/", views.donate, name="donate"),
    path("place/<int:place_id>/foundation/", views.foundation_open, name="foundation_open"),
    path("accounts/<int:account_id>/", views.statement, name="statement"),
    path("accounts/<int:account_id>/statement.xlsx", views.statement_xlsx, name="statement_xlsx"),
    path("overview/<int:place_id>/", views.street_overview, name="street_overview"),
    path(
        "overview/<int:place_id>/overview.xlsx",
        views.street_overview_xlsx,
        name="street_overview_xlsx",
    ),
    path("public/<int:board_id>/", views.public, name="public"),
    path("public/<int:board_id>/print/", views.public_print, name="public_print"),
]
