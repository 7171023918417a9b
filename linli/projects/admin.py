"""Fund projects in the admin: read-only. A project changes only through its workflow
(services), so every step keeps its owner, date and record."""

from django.contrib import admin

from linli.funds.admin import ReadOnlyAdmin
from linli.projects.models import BudgetLine, Payment, Project, ProjectStep, Review


class BudgetLineInline(admin.TabularInline):
    model = BudgetLine
    extra = 0
    can_delete = False
    fields = ["position", "category", "item", "amount"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StepInline(BudgetLineInline):
    model = ProjectStep
    fields = ["step", "from_state", "to_state", "actor", "role", "at", "note"]
    readonly_fields = fields


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["title", "place", "year", "state", "budget", "updated_at"]
    list_filter = ["state", "year"]
    search_fields = ["title"]
    inlines = [BudgetLineInline, StepInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["project", "line", "amount", "payee", "state", "on", "disclose_by"]
    list_filter = ["state"]


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["project", "stage", "reviewer", "conflict", "total", "submitted_at"]
    list_filter = ["stage", "conflict"]
