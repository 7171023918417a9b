from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from linli.accounts.models import RoleAssignment, User
from linli.accounts.roles import MANAGE_ACCOUNTS
from linli.core.admin import AuditedAdmin


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    raw_id_fields = ["place", "grid", "department"]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(MANAGE_ACCOUNTS)

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    manage_perm = MANAGE_ACCOUNTS
    list_display = ["username", "display_name", "is_active", "last_login"]
    search_fields = ["username", "display_name"]
    inlines = [RoleAssignmentInline]
    fieldsets = [
        (None, {"fields": ["username", "password", "display_name", "is_active"]}),
    ]
    add_fieldsets = [(None, {"fields": ["username", "password1", "password2", "display_name"]})]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AuditedAdmin):
    manage_perm = MANAGE_ACCOUNTS
    list_display = ["user", "role", "place", "grid", "department"]
    list_filter = ["role"]
    raw_id_fields = ["user", "place", "grid", "department"]

    def audit_place(self, obj):
        return obj.place
