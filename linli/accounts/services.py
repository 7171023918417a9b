"""Writes for accounts: users, role assignments, sign-in, second factor, API tokens."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts import lockout
from linli.accounts.models import ApiToken, RoleAssignment, User
from linli.accounts.scoping import forget_grants, requires_second_factor
from linli.core.audit import audit_record
from linli.places.models import Department, Grid, Place

LOCKED_MESSAGE = gettext_noop(
    "This account is locked after repeated failed sign-ins. Try again after %(time)s."
)
INVALID_MESSAGE = gettext_noop("The user name or password is wrong.")
SECOND_FACTOR_MESSAGE = gettext_noop(
    "This account needs a valid one-time code from its authenticator."
)


class SignInError(Exception):
    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


@transaction.atomic
def user_create(*, actor, username: str, password: str, display_name: str = "") -> User:
    user = User(username=username, display_name=display_name)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    audit_record(
        actor=actor, action="accounts.user.create", obj=user, changes={"username": username}
    )
    return user


@transaction.atomic
def role_assign(
    *,
    actor,
    user: User,
    role: str,
    place: Place,
    grid: Grid | None = None,
    department: Department | None = None,
) -> RoleAssignment:
    assignment = RoleAssignment(user=user, role=role, place=place, grid=grid, department=department)
    assignment.full_clean()
    assignment.save()
    forget_grants(user)
    audit_record(
        actor=actor,
        action="accounts.role.assign",
        obj=assignment,
        place=place,
        changes={
            "user": user.username,
            "role": role,
            "grid": grid and grid.code,
            "department": department and department.name,
        },
    )
    return assignment


def sign_in_check(*, request, username: str, password: str) -> User:
    """Authenticate a user name and password, under the lock-out rule.

    The lock is checked first, so a locked name costs no password hashing.
    """
    until = lockout.locked_until(username)
    if until is not None:
        raise SignInError(
            _(LOCKED_MESSAGE) % {"time": date_format(timezone.localtime(until), "H:i")},
            code="locked",
        )
    user = authenticate(request, username=username, password=password)
    if user is None:
        locked = lockout.record_failure(username)
        if locked is not None:
            known = User.objects.filter(username=username).first()
            audit_record(
                actor=None,
                action="accounts.lockout",
                obj=known,
                changes={"username": lockout.normalise(username), "until": locked.isoformat()},
            )
            raise SignInError(
                _(LOCKED_MESSAGE) % {"time": date_format(timezone.localtime(locked), "H:i")},
                code="locked",
            )
        raise SignInError(_(INVALID_MESSAGE), code="invalid")
    lockout.record_success(username)
    return user


def second_factor_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@transaction.atomic
def totp_enrol_start(*, user: User) -> TOTPDevice:
    """A fresh unconfirmed authenticator for the user (replacing any unconfirmed one)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


@transaction.atomic
def totp_enrol_confirm(*, user: User, device: TOTPDevice, token: str) -> bool:
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(actor=user, action="accounts.totp.enrol", obj=user)
    return True


@transaction.atomic
def token_issue(*, request, username: str, password: str, otp: str = "") -> tuple[ApiToken, str]:
    """Issue an API token; the plain key is returned once and only its hash is kept."""
    user = sign_in_check(request=request, username=username, password=password)
    if requires_second_factor(user):
        device = second_factor_device(user)
        if device is None or not device.verify_token(otp):
            raise SignInError(_(SECOND_FACTOR_MESSAGE), code="second_factor")
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        prefix=key[:8],
        expires_at=timezone.now() + timedelta(days=settings.LINLI_API_TOKEN_DAYS),
    )
    audit_record(actor=user, action="accounts.token.issue", obj=token)
    return token, key


def token_authenticate(key: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
