"""The app's URLs plus one bare view used as the baseline of every figure."""

from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    """The cheapest possible Django response: same server, same middleware, no view work."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare, name="bench-bare"),
    path("", include("linli.urls")),
]
