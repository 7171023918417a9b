"""Work-order pages: intake and the order page here; the role boards (inboxes, console, overdue
board, district view, map, metrics) in boards_urls.py."""

from linli.workorders import boards_urls

app_name = "workorders"

urlpatterns = [
    *boards_urls.urlpatterns,
]
