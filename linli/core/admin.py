from django.contrib import admin
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

from linli.core.audit import audit_record, diff
from linli.core.models import AuditEvent

admin.site.site_header = _("Linli administration")
admin.site.site_title = _("Linli")
admin.site.index_title = _("Places, accounts and roles")


def _admin_allowed(request) -> bool:
    # Only holders of the administrator role, and only after their second factor.
    user = request.user
    return user.is_active and user.has_perm("accounts.manage_accounts")


admin.site.has_permission = _admin_allowed


class AuditedAdmin(admin.ModelAdmin):
    """Admin whose permissions come from our rules and whose writes land in the audit trail."""

    manage_perm = "accounts.manage_accounts"

    def _allowed(self, request) -> bool:
        return request.user.has_perm(self.manage_perm)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)

    def audit_place(self, obj):
        return None

    def save_model(self, request, obj, form, change):
        before = model_to_dict(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else {}
        super().save_model(request, obj, form, change)
        after = model_to_dict(obj)
        audit_record(
            actor=request.user,
            action=f"{obj._meta.label_lower}.{'update' if change else 'create'}",
            obj=obj,
            place=self.audit_place(obj),
            changes=diff(_plain(before), _plain(after)),
        )

    def delete_model(self, request, obj):
        audit_record(
            actor=request.user,
            action=f"{obj._meta.label_lower}.delete",
            obj=obj,
            place=self.audit_place(obj),
        )
        super().delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        # Inline rows (a user's role assignments) are governed data too.
        saved = formset.save()
        for obj in saved:
            audit_record(
                actor=request.user,
                action=f"{obj._meta.label_lower}.save",
                obj=obj,
                place=getattr(obj, "place", None),
            )
        for obj in formset.deleted_objects:
            audit_record(
                actor=request.user,
                action=f"{obj._meta.label_lower}.delete",
                obj=obj,
                place=getattr(obj, "place", None),
            )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


def _plain(values: dict) -> dict:
    hidden = {"password"}
    return {k: ("***" if k in hidden else str(v)) for k, v in values.items()}


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_name", "role", "action", "place_name", "object_repr", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_name", "action", "object_repr", "place_name"]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("core.view_audit")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
