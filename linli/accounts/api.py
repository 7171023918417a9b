from ninja import Router, Schema, Status
from ninja.errors import HttpError

from linli.accounts import services
from linli.accounts.roles import Role
from linli.accounts.scoping import grants

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str
    otp: str = ""


class TokenOut(Schema):
    token: str
    expires_at: str


class GrantOut(Schema):
    role: str
    role_label: str
    place_id: int
    place_name: str
    place_kind: str


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[GrantOut]


class SignInHttpError(HttpError):
    def __init__(self, status: int, message: str, code: str):
        super().__init__(status, message)
        self.code = code


@router.post(
    "/token",
    auth=None,
    response={201: TokenOut},
    summary="Exchange a password (and one-time code) for a token",
)
def token_create(request, payload: TokenIn):
    try:
        token, key = services.token_issue(
            request=request, username=payload.username, password=payload.password, otp=payload.otp
        )
    except services.SignInError as error:
        raise SignInHttpError(
            401 if error.code != "locked" else 429, error.message, error.code
        ) from None
    return Status(201, {"token": key, "expires_at": token.expires_at.isoformat()})


@router.get("/me", response=MeOut, summary="The caller and their roles")
def me(request):
    user = request.user
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "roles": [
            {
                "role": g.role,
                "role_label": str(Role(g.role).label),
                "place_id": g.place_id,
                "place_name": g.place_name,
                "place_kind": g.place_kind,
            }
            for g in grants(user)
        ],
    }
