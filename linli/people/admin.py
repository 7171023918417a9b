from django.contrib import admin

from linli.core.admin import AuditedAdmin
from linli.people.models import Tag


@admin.register(Tag)
class TagAdmin(AuditedAdmin):
    """Administrators keep the tag vocabulary; the register itself is edited on its pages."""

    list_display = ["name", "code", "sensitive", "active", "description"]
    list_filter = ["sensitive", "active"]
    search_fields = ["name", "code"]

    def get_readonly_fields(self, request, obj=None):
        # Resident history refers to tags by code: a code never changes once in use.
        return ["code"] if obj else []

    def has_delete_permission(self, request, obj=None):
        # Deleting would silently strip the tag from residents; retire it (in use = off).
        return False
