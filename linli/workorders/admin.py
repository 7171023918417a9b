"""Administrators keep the classification, time limits, routing, errand catalogue, calendar and
Open311 clients here. Orders and their log are shown read-only: they change only through the
services (every transition is a logged step)."""

from django.contrib import admin

from linli.core.admin import AuditedAdmin
from linli.workorders.models import (
    CalendarDay,
    CalendarYear,
    Category,
    Open311Client,
    RoutingRule,
    ServiceItem,
    TimeLimit,
)
from linli.workorders.perms import MANAGE_CALENDAR


class TimeLimitInline(admin.TabularInline):
    model = TimeLimit
    extra = 0

    def _allowed(self, request) -> bool:
        return request.user.has_perm("accounts.manage_accounts")

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request, obj=None):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = ["service_code", "name", "major_name", "kind", "self_governable", "public"]
    list_filter = ["kind", "self_governable", "public", "active"]
    search_fields = ["service_code", "name", "major_name"]
    inlines = [TimeLimitInline]

    def get_readonly_fields(self, request, obj=None):
        # Orders, imports and Open311 clients refer to the code: it never changes once made.
        return ["service_code"] if obj else []

    def has_delete_permission(self, request, obj=None):
        # Orders keep their category; retire it (active = off) instead.
        return False


@admin.register(RoutingRule)
class RoutingRuleAdmin(AuditedAdmin):
    list_display = ["category", "street", "grid", "department"]
    list_filter = ["street"]
    search_fields = ["category__name", "category__service_code", "department__name"]
    raw_id_fields = ["street", "grid", "category", "department"]
    filter_horizontal = ["co_departments"]

    def audit_place(self, obj):
        return obj.street


@admin.register(ServiceItem)
class ServiceItemAdmin(AuditedAdmin):
    list_display = ["code", "name", "street", "limit_days", "active"]
    list_filter = ["active", "street"]
    search_fields = ["code", "name"]
    raw_id_fields = ["street"]

    def audit_place(self, obj):
        return obj.street


@admin.register(CalendarYear)
class CalendarYearAdmin(AuditedAdmin):
    manage_perm = MANAGE_CALENDAR
    list_display = ["year", "source", "updated_at"]


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedAdmin):
    manage_perm = MANAGE_CALENDAR
    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]
    date_hierarchy = "date"


@admin.register(Open311Client)
class Open311ClientAdmin(AuditedAdmin):
    """Keys are issued by the command line (the plain key is shown once there); here a client
    can be renamed or switched off. Only the key's first characters are ever shown."""

    list_display = ["name", "street", "key_prefix", "active", "created_at"]
    list_filter = ["active"]
    fields = ["name", "street", "key_prefix", "active", "created_at"]
    readonly_fields = ["street", "key_prefix", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def audit_place(self, obj):
        return obj.street


# Orders and their log are not in the admin: it is not scoped by place and would show reporters
# city-wide. They are read through the scoped pages and API.
