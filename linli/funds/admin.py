"""Administrators set each street's fund profile per year; every field says its default and that
default's source status (RULES.md §7: an unverified number is an assumption, shown as such).
The ledger itself is read-only here: funds, accounts, transactions, commitments and year closes
change only through the services, and nothing can be deleted."""

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from linli.core.admin import AuditedAdmin
from linli.funds import constants
from linli.funds.choices import NegativeItem, normal_sign
from linli.funds.models import (
    Account,
    Commitment,
    Entry,
    Fund,
    FundProfile,
    Transaction,
    YearClose,
)
from linli.funds.money import from_fen, yuan
from linli.funds.selectors import fen_sum


class FundProfileForm(forms.ModelForm):
    negative_list = forms.MultipleChoiceField(
        label=_("negative list"),
        choices=NegativeItem.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = FundProfile
        fields = [
            "street",
            "year",
            "min_self_governance_share",
            "self_governance_share",
            "office_share",
            "office_cap",
            "per_project_cap",
            "publicity_days",
            "year_end",
            "return_open_commitments",
            "negative_list",
            "require_deliberation",
            "min_participation_rate",
            "require_invoice",
            "payment_approvals",
            "disclosure_days",
            "min_reviewers",
            "pass_score",
            "note",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name in constants.DEFAULTS:
                own = f"{field.help_text} " if field.help_text else ""
                field.help_text = f"{own}{constants.source_text(name)}"


@admin.register(FundProfile)
class FundProfileAdmin(AuditedAdmin):
    form = FundProfileForm
    list_display = [
        "street",
        "year",
        "min_self_governance_share",
        "self_governance_share",
        "office_share",
        "per_project_cap",
        "publicity_days",
        "year_end",
    ]
    list_filter = ["year", "year_end"]
    readonly_fields = ["source_statuses", "updated_at"]

    def audit_place(self, obj):
        return obj.street

    @admin.display(description=_("defaults and their source status"))
    def source_statuses(self, obj) -> str:
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><code>{}</code>: {}</li>",
                ((name, constants.source_text(name)) for name in constants.DEFAULTS),
            ),
        )


class ReadOnlyAdmin(AuditedAdmin):
    """The ledger is written by the services only; the admin shows it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Fund)
class FundAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "place", "opened_at"]
    list_filter = ["kind"]
    search_fields = ["name", "place__name"]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "balance"]
    list_filter = ["kind", "fund__kind"]
    search_fields = ["fund__place__name", "fund__name"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("fund__place")
            .annotate(balance_fen=fen_sum("entries__amount"))
        )

    @admin.display(description=_("balance"))
    def balance(self, obj) -> str:
        return yuan(from_fen(int(obj.balance_fen) * normal_sign(obj.kind)))


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ["account", "commitment", "amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["pk", "date", "kind", "place", "amount", "memo", "reverses", "posted_by"]
    list_filter = ["kind"]
    search_fields = ["memo", "counterparty", "place__name"]
    list_select_related = ["place", "reverses", "posted_by"]
    inlines = [EntryInline]


@admin.register(Commitment)
class CommitmentAdmin(ReadOnlyAdmin):
    list_display = ["title", "fund", "amount", "state", "created_at"]
    list_filter = ["state"]
    search_fields = ["title"]
    list_select_related = ["fund__place"]


@admin.register(YearClose)
class YearCloseAdmin(ReadOnlyAdmin):
    list_display = ["fund", "year", "rule", "available", "lapsed", "returned", "carried"]
    list_filter = ["year", "rule"]
    list_select_related = ["fund__place"]
