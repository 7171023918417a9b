from django.contrib import admin

from linli.core.admin import AuditedAdmin
from linli.places.models import Department, Grid, Place
from linli.places.perms import MANAGE_PLACES
from linli.places.services import place_create, place_update


@admin.register(Place)
class PlaceAdmin(AuditedAdmin):
    manage_perm = MANAGE_PLACES
    list_display = ["name", "kind", "code", "parent", "depth"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]
    raw_id_fields = ["parent"]

    def get_fields(self, request, obj=None):
        # Moving a subtree is not offered: the parent is fixed once created.
        return ["name", "code"] if obj else ["kind", "name", "code", "parent"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            place_update(actor=request.user, place=obj, name=data["name"], code=data["code"])
        else:
            created = place_create(
                actor=request.user,
                kind=data["kind"],
                name=data["name"],
                code=data["code"],
                parent=data["parent"],
            )
            obj.pk, obj.path, obj.depth = created.pk, created.path, created.depth
            obj._state.adding = False

    def audit_place(self, obj):
        return obj


@admin.register(Grid)
class GridAdmin(AuditedAdmin):
    manage_perm = MANAGE_PLACES
    list_display = ["code", "name", "street"]
    search_fields = ["code", "name"]
    raw_id_fields = ["street"]
    filter_horizontal = ["compounds"]

    def audit_place(self, obj):
        return obj.street


@admin.register(Department)
class DepartmentAdmin(AuditedAdmin):
    manage_perm = MANAGE_PLACES
    list_display = ["name", "kind", "area", "phone"]
    list_filter = ["kind"]
    raw_id_fields = ["area"]

    def audit_place(self, obj):
        return obj.area
