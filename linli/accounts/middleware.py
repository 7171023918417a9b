from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from linli.accounts.scoping import requires_second_factor

_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/i18n/")


class SecondFactorMiddleware:
    """Holders of administrator or district roles must pass TOTP before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(_EXEMPT_PREFIXES)
            and not user.is_verified()
            and requires_second_factor(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"error": {"code": "second_factor", "message": "second factor required"}},
                    status=401,
                )
            return redirect(reverse("accounts:second_factor") + f"?next={request.path}")
        return self.get_response(request)
