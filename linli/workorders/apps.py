from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkOrdersConfig(AppConfig):
    name = "linli.workorders"
    label = "workorders"
    verbose_name = _("Grid management and work orders")

    def ready(self) -> None:
        from linli.workorders import checks, signals  # noqa: F401  (registers checks, receivers)
