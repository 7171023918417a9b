"""The versioned JSON API (/api/v1/), its auth and its error bodies.

Every error has the same body: {"error": {"code": ..., "message": ..., "details": ...}}.
Out-of-scope objects answer 404 exactly like absent ones.
"""

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from linli.accounts.api import router as accounts_router
from linli.accounts.services import token_authenticate
from linli.core.api import router as core_router
from linli.people.api import router as people_router
from linli.places.api import router as places_router


class BearerToken(HttpBearer):
    openapi_description = (
        "Token from POST /api/v1/auth/token, sent as `Authorization: Bearer <token>`."
    )

    def authenticate(self, request, token):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Linli API",
    version="1",
    description="Linli 邻里 community governance API. Every list and object is limited to the "
    "caller's places; objects outside them answer 404.",
    urls_namespace="api-v1",
    # Session auth: the second-factor middleware has already vetted the browser session.
    auth=[BearerToken(), SessionAuth()],
    openapi_url="/openapi.json",
    docs_url="/docs",
)


def _error(request, status: int, code: str, message: str, details=None):
    body = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return api.create_response(request, body, status=status)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return _error(request, 404, "not_found", "Not found.")


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    return _error(request, 422, "invalid", "The request is not valid.", exc.errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return _error(request, 401, "unauthenticated", "Authentication required.")


@api.exception_handler(HttpError)
def _http_error(request, exc):
    return _error(request, exc.status_code, getattr(exc, "code", "error"), str(exc.message))


api.add_router("/auth", accounts_router)
api.add_router("/places", places_router)
api.add_router("/audit", core_router)
api.add_router("/people/", people_router)
api.add_router("/workorders/", "linli.workorders.api.router")
api.add_router("/notices/", "linli.notices.api.router")
api.add_router("/topics/", "linli.deliberation.api.router")
api.add_router("/votes/", "linli.votes.api.router")
api.add_router("/meetings/", "linli.meetings.api.router")
api.add_router("/funds/", "linli.funds.api.router")
api.add_router("/projects/", "linli.projects.api.router")
