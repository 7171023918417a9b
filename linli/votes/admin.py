"""Administrators configure the numbers of unverified or policy vote rules (RULES.md §7: an
unverified number is an assumption, so it is configurable and shows its source status). Rules
whose numbers were read in the law's text are listed with their status and cannot be changed.
Votes themselves change only through the services; the admin does not show them."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.admin import AuditedAdmin
from linli.votes import rules, services
from linli.votes.models import RuleSetting

NOT_OVERRIDABLE = _(
    "This rule's numbers come from the law's text (%(status)s) and cannot be configured."
)


def _in_force(rule_id: str):
    try:
        return rules.rule_for(rule_id, timezone.localdate())
    except ValueError:
        return None


def _status(rule_id: str) -> str:
    rule = _in_force(rule_id)
    return rule.verified.value if rule else "—"


def _rule_choices() -> list[tuple[str, str]]:
    choices = []
    for rule_id in rules.RULE_IDS:
        rule = _in_force(rule_id)
        if rule is None:
            continue
        params = ", ".join(f"{k}={v}" for k, v in rule.params.items()) or "—"
        choices.append((rule_id, f"{rule_id} · {rule.verified.value} · {rule.basis} · {params}"))
    return choices


class RuleSettingForm(forms.ModelForm):
    rule_id = forms.ChoiceField(label=_("rule"), choices=_rule_choices)

    class Meta:
        model = RuleSetting
        fields = ["rule_id", "overrides", "note"]
        help_texts = {
            "overrides": _(
                'Parameter name to a fraction, e.g. {"turnout": "2/3"}. Votes opened afterwards '
                "use it; a vote keeps the settings it opened with."
            )
        }

    def clean(self):
        data = super().clean()
        rule = _in_force(data.get("rule_id") or self.instance.rule_id or "")
        if rule is None:
            return data
        if rule.verified not in rules.registry.OVERRIDABLE:
            raise ValidationError(NOT_OVERRIDABLE % {"status": rule.verified.value})
        try:
            rules.apply_overrides(rule, data.get("overrides") or None)
        except ValueError as exc:
            raise ValidationError({"overrides": str(exc)}) from None
        return data


@admin.register(RuleSetting)
class RuleSettingAdmin(AuditedAdmin):
    form = RuleSettingForm
    list_display = ["rule_id", "verified", "basis", "overrides", "note", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    @admin.display(description=_("source status"))
    def verified(self, obj) -> str:
        return _status(obj.rule_id)

    @admin.display(description=_("legal basis"))
    def basis(self, obj) -> str:
        rule = _in_force(obj.rule_id)
        return str(rule.basis) if rule else "—"

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "rule_id"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        saved = services.rule_setting_save(
            actor=request.user,
            rule_id=obj.rule_id,
            overrides=form.cleaned_data.get("overrides") or {},
            note=form.cleaned_data.get("note", ""),
        )
        obj.pk, obj.updated_by, obj.updated_at = saved.pk, saved.updated_by, saved.updated_at
        obj._state.adding = False
