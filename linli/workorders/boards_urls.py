"""The role boards, mounted under /orders/ by workorders/urls.py (app_name "workorders")."""

from django.urls import path

from linli.workorders import boards

urlpatterns = [
    path("inbox/", boards.inbox, name="inbox"),
    path("tasks/", boards.tasks, name="tasks"),
    path("console/", boards.console, name="console"),
    path("console/bulk/", boards.console_bulk, name="console_bulk"),
    path("department/", boards.department_inbox, name="department_inbox"),
    path("department/sign/", boards.department_sign, name="department_sign"),
    path("overdue/", boards.overdue, name="overdue"),
    path("overdue/act/", boards.overdue_act, name="overdue_act"),
    path("district/", boards.district, name="district"),
    path("map/", boards.order_map, name="map"),
    path("map/data.json", boards.map_data, name="map_data"),
]
