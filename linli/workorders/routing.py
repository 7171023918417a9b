"""明责派单 rules and the errand catalogue, kept by the street (MANAGE_ROUTING: the grid centre's
supervisor). Services, reads and views together: the domain here is small."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from linli.core.audit import audit_record
from linli.places.choices import PlaceKind
from linli.places.models import Department, Grid, Place
from linli.workorders.models import Category, RoutingRule, ServiceItem
from linli.workorders.perms import MANAGE_ROUTING

DEPARTMENT_ELSEWHERE = gettext_lazy("This department does not serve this street.")
LEAD_ALSO_CO = gettext_lazy("The lead department cannot also be a co-department.")
RULE_EXISTS = gettext_lazy(
    "The street already has a rule for this category and grid; edit that rule instead."
)
ITEM_CODE_EXISTS = gettext_lazy("The street already has a service item with this code.")
# Deadlines are counted a working day at a time: a limit of years would stall every errand.
MAX_LIMIT_DAYS = 250


def streets_managed(user):
    return Place.objects.for_viewer(user, MANAGE_ROUTING).filter(kind=PlaceKind.STREET)


def _street(user, pk) -> Place:
    street = streets_managed(user).filter(pk=pk).first()
    if street is None:
        raise Http404
    return street


def departments_serving(street: Place):
    district_path = street.path[:-10]
    return Department.objects.filter(area__path__in=[street.path, district_path]).order_by("name")


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ["category", "grid", "department", "co_departments"]
        widgets = {"co_departments": forms.CheckboxSelectMultiple}

    def __init__(self, *args, street: Place, **kwargs):
        super().__init__(*args, **kwargs)
        self.street = street
        self.fields["category"].queryset = Category.objects.filter(active=True)
        self.fields["grid"].queryset = Grid.objects.filter(street=street)
        serving = departments_serving(street)
        self.fields["department"].queryset = serving
        self.fields["co_departments"].queryset = serving
        self.instance.street = street

    def clean(self):
        data = super().clean()
        lead = data.get("department")
        if lead is not None and lead in (data.get("co_departments") or []):
            self.add_error("co_departments", LEAD_ALSO_CO)
        # The street is not a field of the form, so Django's unique checks skip it.
        category = data.get("category")
        if (
            category is not None
            and RoutingRule.objects.filter(
                street=self.street, category=category, grid=data.get("grid")
            )
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            raise forms.ValidationError(RULE_EXISTS)
        return data


class ServiceItemForm(forms.ModelForm):
    class Meta:
        model = ServiceItem
        fields = ["code", "name", "description", "limit_days", "active"]

    def __init__(self, *args, street: Place, **kwargs):
        super().__init__(*args, **kwargs)
        self.street = street
        self.instance.street = street
        self.fields["limit_days"].max_value = MAX_LIMIT_DAYS
        self.fields["limit_days"].validators.append(MaxValueValidator(MAX_LIMIT_DAYS))
        self.fields["limit_days"].widget.attrs["max"] = MAX_LIMIT_DAYS

    def clean_code(self):
        code = self.cleaned_data["code"]
        taken = ServiceItem.objects.filter(street=self.street, code=code)
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(ITEM_CODE_EXISTS)
        return code


def _edited(model, request, street):
    """The row named by ?edit= (or the form's edit field), of this street; 404 for anything
    else, a malformed id included."""
    edit = (request.GET.get("edit") or request.POST.get("edit") or "").strip()
    if not edit:
        return None
    if not (edit.isascii() and edit.isdigit() and len(edit) <= 18):
        raise Http404
    return get_object_or_404(model, pk=int(edit), street=street)


@transaction.atomic
def _save(request, form, street, action: str):
    obj = form.save()
    audit_record(
        actor=request.user,
        action=action,
        obj=obj,
        place=street,
        changes={k: str(v) for k, v in form.cleaned_data.items() if k != "co_departments"},
    )
    return obj


@login_required
def routing_streets(request):
    streets = list(streets_managed(request.user))
    if not streets:
        raise Http404
    if len(streets) == 1:
        return redirect("workorders:routing", pk=streets[0].pk)
    return render(request, "workorders/routing/streets.html", {"streets": streets})


@login_required
@require_http_methods(["GET", "POST"])
def routing(request, pk: int):
    street = _street(request.user, pk)
    instance = _edited(RoutingRule, request, street)
    form = RoutingRuleForm(request.POST or None, instance=instance, street=street)
    if request.method == "POST" and "delete" in request.POST and instance is not None:
        with transaction.atomic():
            audit_record(
                actor=request.user,
                action="workorders.routing.delete",
                obj=instance,
                place=street,
                changes={
                    "category": str(instance.category),
                    "department": str(instance.department),
                },
            )
            instance.delete()
        messages.success(request, _("The rule is deleted."))
        return redirect("workorders:routing", pk=street.pk)
    if request.method == "POST" and form.is_valid():
        try:
            _save(request, form, street, "workorders.routing.save")
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The rule is saved."))
            return redirect("workorders:routing", pk=street.pk)
    rules = (
        RoutingRule.objects.filter(street=street)
        .select_related("category", "grid", "department")
        .prefetch_related("co_departments")
        .order_by("category__service_code", "grid__code")
    )
    return render(
        request,
        "workorders/routing/rules.html",
        {"street": street, "rules": rules, "form": form, "editing": instance},
    )


@login_required
@require_http_methods(["GET", "POST"])
def service_items(request, pk: int):
    street = _street(request.user, pk)
    instance = _edited(ServiceItem, request, street)
    form = ServiceItemForm(request.POST or None, instance=instance, street=street)
    if request.method == "POST" and form.is_valid():
        try:
            _save(request, form, street, "workorders.service_item.save")
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The service item is saved."))
            return redirect("workorders:service_items", pk=street.pk)
    items = ServiceItem.objects.filter(street=street).order_by("code")
    return render(
        request,
        "workorders/routing/service_items.html",
        {"street": street, "items": items, "form": form, "editing": instance},
    )


urlpatterns = [
    path("routing/", routing_streets, name="routing_streets"),
    path("routing/<int:pk>/", routing, name="routing"),
    path("routing/<int:pk>/errands/", service_items, name="service_items"),
]
