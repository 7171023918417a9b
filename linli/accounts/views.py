import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts import selectors, services
from linli.accounts.forms import OneTimeCodeForm, SignInForm
from linli.accounts.scoping import requires_second_factor
from linli.core.audit import audit_record
from linli.workorders.calendar import calendar_warnings
from linli.workorders.perms import MANAGE_CALENDAR


def _next_url(request, default: str = "accounts:home"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return default


@sensitive_post_parameters("password")
def sign_in(request):
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_in_check(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except services.SignInError as error:
            form.add_error(None, error.message)
        else:
            login(request, user)
            audit_record(actor=user, action="accounts.sign_in")
            return redirect(_next_url(request))
    return render(request, "accounts/sign_in.html", {"form": form, "next": _next_url(request, "")})


@require_POST
def sign_out(request):
    if request.user.is_authenticated:
        audit_record(actor=request.user, action="accounts.sign_out")
    logout(request)
    return redirect("accounts:login")


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@login_required
def second_factor(request):
    """Verify the TOTP code, or enrol an authenticator on first use."""
    user = request.user
    if user.is_verified() or not requires_second_factor(user):
        return redirect(_next_url(request))
    device = services.second_factor_device(user)
    enrolling = device is None
    if enrolling:
        device_id = request.session.get("linli_enrol_device")
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
        if device is None:
            device = services.totp_enrol_start(user=user)
            request.session["linli_enrol_device"] = device.pk
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        ok = (
            services.totp_enrol_confirm(user=user, device=device, token=token)
            if enrolling
            else device.verify_token(token)
        )
        if ok:
            otp_login(request, device)
            request.session.pop("linli_enrol_device", None)
            return redirect(_next_url(request))
        form.add_error("token", _("That code is not valid. Wait for the next one and try again."))
    context = {"form": form, "enrolling": enrolling, "next": _next_url(request, "")}
    if enrolling:
        context["qr"] = _qr_svg(device.config_url)
        context["secret"] = base64.b32encode(device.bin_key).decode()
    return render(request, "accounts/second_factor.html", context)


@login_required
def home(request):
    cards = selectors.home_cards(viewer=request.user)
    if request.user.has_perm(MANAGE_CALENDAR):
        # The next year's holidays are published late in the year: remind who keeps them.
        for warning in calendar_warnings():
            messages.warning(request, warning)
    if not cards:
        messages.info(
            request, _("Your account has no role yet. Ask your administrator to assign one.")
        )
    return render(request, "accounts/home.html", {"cards": cards})
