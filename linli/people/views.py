"""Register pages: search, resident, household, occupancy, organisations, community profile.

Every object is looked up in the viewer's scope before anything else (so a stranger gets 404 even
on POST-only URLs). Identifiers are shown masked; the reveal views are the only place a
plaintext identifier reaches a response, once, after an audited reason.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods

from linli.people import selectors, services
from linli.people.choices import ResidentStatus
from linli.people.forms import (
    LeaveForm,
    OrganisationFilterForm,
    ResidentForm,
    RevealForm,
    SearchForm,
    TransferForm,
)
from linli.people.perms import MANAGE_REGISTER, REVEAL_PII, VIEW_REGISTER
from linli.people.selectors import OCCUPANCY_KINDS
from linli.places.choices import PlaceKind


def _require(user, perm: str, obj) -> None:
    if not user.has_perm(perm, obj):
        raise PermissionDenied


def _register_viewer(request) -> None:
    if not request.user.has_perm(VIEW_REGISTER):
        raise Http404


def _add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form's fields (or above it)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- search -----------------------------------------------------------------------------------


# Identifiers pass through here: keep them out of error reports.
@sensitive_variables()
@sensitive_post_parameters()
@login_required
@require_http_methods(["GET", "POST"])
def search(request):
    """Search by name, phone or ID number. The search box posts, so an identifier typed into it
    never lands in a URL (server logs, browser history); an exact look-up is not echoed back."""
    _register_viewer(request)
    tags = selectors.tags_visible(viewer=request.user)
    data = request.POST if request.method == "POST" else request.GET
    form = SearchForm(data, tags=tags)
    form.is_valid()
    # The fields that are valid still count; a tag the viewer may not use goes to the
    # selector as typed, which refuses it and says so.
    filters = {**form.cleaned_data, "tag": form.cleaned_data.get("tag") or data.get("tag", "")}
    place = None
    if filters.get("place"):
        place = selectors.register_place_get(viewer=request.user, pk=filters["place"])
    q = filters.get("q", "")
    # A number in a link would sit in server logs and browser history: look it up only when
    # it arrives in a POST from the search box.
    identifier_in_url = request.method == "GET" and selectors.classify_query(q)[0] in (
        selectors.LOOKUP_ID,
        selectors.LOOKUP_PHONE,
    )
    result = selectors.resident_search(
        viewer=request.user,
        q="" if identifier_in_url else q,
        tag=filters.get("tag", ""),
        status=filters.get("status") or "active",
        place=place,
        page=data.get("page"),
    )
    if result.lookup in (selectors.LOOKUP_ID, selectors.LOOKUP_PHONE):
        form = SearchForm(
            {**{k: v for k, v in filters.items() if v is not None}, "q": ""}, tags=tags
        )
    query = filters.get("q", "") if result.lookup == selectors.LOOKUP_NAME else ""
    # Page links repeat the filters, and the query only when it is a name.
    kept = {
        "q": query,
        "tag": filters.get("tag", ""),
        "status": filters.get("status", ""),
        "place": place.pk if place else "",
    }
    base_query = urlencode({k: v for k, v in kept.items() if v})
    context = {
        "form": form,
        "result": result,
        "page": result.page,
        "place": place,
        "query": query,
        "identifier_in_url": identifier_in_url,
        "base_query": f"{base_query}&" if base_query else "",
    }
    template = "people/search.html#results" if request.htmx else "people/search.html"
    return render(request, template, context)


# --- residents --------------------------------------------------------------------------------


def _identifiers(request, obj, *, action: str, contact=None, revealed=None, forms=None):
    """What the page shows for each identifier of a record: mask, reveal form, revealed value."""
    revealed, forms = revealed or {}, forms or {}
    can_reveal = request.user.has_perm(REVEAL_PII, obj)
    fields = (
        [("phone", _("Phone"))]
        if contact is not None
        else [
            ("id", _("ID number")),
            ("phone", _("Phone")),
        ]
    )
    target = obj if contact is None else contact
    rows = []
    for field, label in fields:
        masked = getattr(target, f"{field}_masked")
        key = f"{field}-{contact.pk}" if contact is not None else field
        rows.append(
            {
                "key": key,
                "field": field,
                "label": label,
                "masked": masked,
                "value": revealed.get(key),
                "can_reveal": can_reveal and bool(masked),
                "form": forms.get(key) or RevealForm(initial={"field": field}),
                "action": action,
                "contact": contact.pk if contact is not None else "",
            }
        )
    return rows


def _resident_context(request, resident, **identifier_state):
    return {
        "resident": resident,
        "identifiers": _identifiers(
            request,
            resident,
            action=reverse("people:resident_reveal", args=[resident.pk]),
            **identifier_state,
        ),
        "history": selectors.resident_history(viewer=request.user, resident=resident),
        "can_manage": request.user.has_perm(MANAGE_REGISTER, resident),
        "active": resident.status == "active",
    }


@login_required
def resident_detail(request, pk: int):
    resident = selectors.resident_get(viewer=request.user, pk=pk)
    return render(request, "people/resident.html", _resident_context(request, resident))


def _reveal(request, obj, *, contact=None):
    """Decrypt one identifier for a permitted viewer after a reason (audited by the service).
    Returns (key, revealed value or None, bound form)."""
    _require(request.user, REVEAL_PII, obj)
    form = RevealForm(request.POST)
    value = None
    if form.is_valid():
        field = form.cleaned_data["field"]
        if contact is not None and field != "phone":
            raise Http404
        try:
            value = services.pii_reveal(
                actor=request.user,
                obj=contact if contact is not None else obj,
                field=field,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
    field = form.data.get("field") if form.data.get("field") in ("id", "phone") else "phone"
    key = f"{field}-{contact.pk}" if contact is not None else field
    return key, value, form


# Identifiers pass through here: keep them out of error reports.
@sensitive_variables()
@sensitive_post_parameters()
@login_required
def resident_reveal(request, pk: int):
    resident = selectors.resident_get(viewer=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    key, value, form = _reveal(request, resident)
    context = _resident_context(
        request, resident, revealed={key: value} if value else {}, forms={key: form}
    )
    if request.htmx:
        ident = next(i for i in context["identifiers"] if i["key"] == key)
        return render(request, "people/_identifier.html", {"ident": ident})
    return render(request, "people/resident.html", context)


def _visible_tag_codes(resident) -> list[str]:
    return [t.code for t in resident.visible_tags]


# Identifiers pass through here: keep them out of error reports.
@sensitive_variables()
@sensitive_post_parameters()
@login_required
@require_http_methods(["GET", "POST"])
def resident_edit(request, pk: int):
    resident = selectors.resident_get(viewer=request.user, pk=pk)
    _require(request.user, MANAGE_REGISTER, resident)
    tags = selectors.tags_visible(viewer=request.user)
    initial = {
        "name": resident.name,
        "ethnicity": resident.ethnicity,
        "registration": resident.registration,
        "residence": resident.residence,
        "relation": resident.relation,
        "tags": _visible_tag_codes(resident),
    }
    form = ResidentForm(request.POST or None, initial=initial, tags=tags, resident=resident)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        clear_phone = values.pop("clear_phone", False)
        # Blank identifiers keep the stored ones (None), without decrypting them.
        if not values["id_number"]:
            values["id_number"] = None
        if clear_phone:
            values["phone"] = ""
        elif not values["phone"]:
            values["phone"] = None
        # Tags this viewer may not see stay as they are.
        values["tags"] += selectors.resident_hidden_tag_codes(
            viewer=request.user, resident=resident
        )
        try:
            services.resident_update(actor=request.user, resident=resident, **values)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("The changes are saved; the history keeps the old values."))
            return redirect("people:resident", pk=resident.pk)
    return render(
        request,
        "people/resident_form.html",
        {
            "form": form,
            "resident": resident,
            "title": _("Edit %(name)s") % {"name": resident.name},
            "back": reverse("people:resident", args=[resident.pk]),
        },
    )


def _move(request, resident, form, *, service, done: str, title: str):
    """A move to a dwelling (transfer, or return to the register): the form, the service, the
    page. The household record of the dwelling is made on first use, in the same transaction."""
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                household = services.household_ensure(
                    actor=request.user, unit=form.cleaned_data["dwelling"]
                )
                service(
                    actor=request.user,
                    resident=resident,
                    household=household,
                    date=form.cleaned_data["date"],
                    note=form.cleaned_data["note"],
                )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("people:resident", pk=resident.pk)
    return render(
        request,
        "people/resident_form.html",
        {
            "form": form,
            "resident": resident,
            "title": title,
            "back": reverse("people:resident", args=[resident.pk]),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def resident_transfer(request, pk: int):
    resident = selectors.resident_get(viewer=request.user, pk=pk)
    _require(request.user, MANAGE_REGISTER, resident)
    dwellings = selectors.transfer_targets(viewer=request.user, resident=resident)
    return _move(
        request,
        resident,
        TransferForm(request.POST or None, dwellings=dwellings),
        service=services.resident_transfer,
        done=_("The move is recorded."),
        title=_("Move %(name)s to another household") % {"name": resident.name},
    )


@login_required
@require_http_methods(["GET", "POST"])
def resident_leave(request, pk: int):
    resident = selectors.resident_get(viewer=request.user, pk=pk)
    _require(request.user, MANAGE_REGISTER, resident)
    form = LeaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        service = (
            services.resident_record_death
            if form.cleaned_data["kind"] == LeaveForm.DEATH
            else services.resident_move_out
        )
        try:
            service(
                actor=request.user,
                resident=resident,
                date=form.cleaned_data["date"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("The change is recorded with its date."))
            return redirect("people:resident", pk=resident.pk)
    return render(
        request,
        "people/resident_form.html",
        {
            "form": form,
            "resident": resident,
            "title": _("Move out or record the death of %(name)s") % {"name": resident.name},
            "back": reverse("people:resident", args=[resident.pk]),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def resident_return(request, pk: int):
    resident = selectors.resident_get(viewer=request.user, pk=pk)
    _require(request.user, MANAGE_REGISTER, resident)
    if resident.status == ResidentStatus.ACTIVE:
        return redirect("people:resident", pk=resident.pk)
    dwellings = selectors.transfer_targets(viewer=request.user, resident=resident, current=True)
    form = TransferForm(
        request.POST or None,
        dwellings=dwellings,
        initial={"dwelling": resident.household.place_id},
        returning=resident.status,
    )
    return _move(
        request,
        resident,
        form,
        service=services.resident_return,
        done=_("%(name)s is back in the register.") % {"name": resident.name},
        title=_("Back in the register: %(name)s") % {"name": resident.name},
    )


# --- households -------------------------------------------------------------------------------


@login_required
def household_detail(request, pk: int):
    detail = selectors.household_detail(viewer=request.user, pk=pk)
    return render(
        request,
        "people/household.html",
        {
            "detail": detail,
            "household": detail.household,
            "can_manage": request.user.has_perm(MANAGE_REGISTER, detail.household),
        },
    )


# Identifiers pass through here: keep them out of error reports.
@sensitive_variables()
@sensitive_post_parameters()
@login_required
@require_http_methods(["GET", "POST"])
def household_add(request, pk: int):
    household = selectors.household_get(viewer=request.user, pk=pk)
    _require(request.user, MANAGE_REGISTER, household)
    tags = selectors.tags_visible(viewer=request.user)
    form = ResidentForm(request.POST or None, tags=tags)
    if request.method == "POST" and form.is_valid():
        try:
            resident = services.resident_create(
                actor=request.user, household=household, **form.cleaned_data
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": resident.name})
            return redirect("people:household", pk=household.pk)
    return render(
        request,
        "people/resident_form.html",
        {
            "form": form,
            "household": household,
            "title": _("Add a member to %(address)s")
            % {"address": selectors.household_address(household)},
            "back": reverse("people:household", args=[household.pk]),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def dwelling(request, pk: int):
    """The household of a dwelling: opens it, or lets a manager start its record (POST)."""
    unit, household = selectors.dwelling_household(viewer=request.user, pk=pk)
    if household is not None:
        return redirect("people:household", pk=household.pk)
    can_manage = request.user.has_perm(MANAGE_REGISTER, unit)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        household = services.household_ensure(actor=request.user, unit=unit)
        return redirect("people:household_add", pk=household.pk)
    return render(
        request,
        "people/dwelling.html",
        {"unit": unit, "building": unit.parent, "can_manage": can_manage},
    )


# --- places -----------------------------------------------------------------------------------


@login_required
def place_detail(request, pk: int):
    """Occupancy of a compound or a building."""
    place = selectors.register_place_get(viewer=request.user, pk=pk, kinds=OCCUPANCY_KINDS)
    occupancy = selectors.place_occupancy(viewer=request.user, place=place)
    return render(
        request,
        "people/place.html",
        {
            "place": place,
            "occupancy": occupancy,
            "is_compound": place.kind == PlaceKind.COMPOUND,
        },
    )


# --- organisations ----------------------------------------------------------------------------


@login_required
def organisations(request):
    _register_viewer(request)
    form = OrganisationFilterForm(request.GET or None)
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    place = None
    if request.GET.get("place", "").isascii() and request.GET.get("place", "").isdigit():
        place = selectors.register_place_get(viewer=request.user, pk=int(request.GET["place"]))
    page = selectors.organisation_directory(
        viewer=request.user, kind=kind, place=place, page=request.GET.get("page")
    )
    return render(
        request,
        "people/organisations.html",
        {"form": form, "page": page, "place": place, "kind": kind},
    )


def _organisation_context(request, organisation, *, revealed=None, forms=None):
    action = reverse("people:organisation_reveal", args=[organisation.pk])
    return {
        "organisation": organisation,
        "contacts": [
            (
                contact,
                _identifiers(
                    request,
                    organisation,
                    action=action,
                    contact=contact,
                    revealed=revealed,
                    forms=forms,
                )[0],
            )
            for contact in organisation.contacts.all()
        ],
    }


@login_required
def organisation_detail(request, pk: int):
    organisation = selectors.organisation_get(viewer=request.user, pk=pk)
    return render(request, "people/organisation.html", _organisation_context(request, organisation))


# Identifiers pass through here: keep them out of error reports.
@sensitive_variables()
@sensitive_post_parameters()
@login_required
def organisation_reveal(request, pk: int):
    organisation = selectors.organisation_get(viewer=request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    contact = selectors.organisation_contact_get(
        viewer=request.user, organisation=organisation, pk=request.POST.get("contact")
    )
    key, value, form = _reveal(request, organisation, contact=contact)
    context = _organisation_context(
        request, organisation, revealed={key: value} if value else {}, forms={key: form}
    )
    if request.htmx:
        ident = next(i for _c, i in context["contacts"] if i["key"] == key)
        return render(request, "people/_identifier.html", {"ident": ident})
    return render(request, "people/organisation.html", context)


# --- community profile ------------------------------------------------------------------------


@login_required
def profile_roots(request):
    _register_viewer(request)
    roots = selectors.register_roots(viewer=request.user)
    if len(roots) == 1:
        return redirect("people:profile", pk=roots[0].pk)
    return render(request, "people/profile_roots.html", {"roots": roots})


@login_required
def profile(request, pk: int):
    place = selectors.register_place_get(viewer=request.user, pk=pk)
    if place.kind == PlaceKind.HOUSEHOLD:
        raise Http404
    summary = selectors.community_profile(viewer=request.user, place=place)
    return render(request, "people/profile.html", {"place": place, "profile": summary})
