from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts import lockout
from linli.conftest import PASSWORD
from linli.core.models import AuditEvent


def _sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_production_hasher_is_argon2():
    from linli import settings as project_settings  # the module, not the test override

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("Short1!", False),
        ("alllowercase1", False),
        ("ALLUPPER!!", False),
        ("Lower-and-1", True),
        ("lower and 1", True),
        ("UPPERlower99", True),
    ],
)
def test_password_needs_eight_characters_of_three_classes(password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)


def test_good_password_lands_on_home(client, users):
    response = _sign_in(client, "worker", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_five_failures_lock_the_name_even_for_the_right_password(client, users):
    for _ in range(5):
        assert _sign_in(client, "worker", "Wrong-pass-1").status_code == 200
    with mock.patch("django.contrib.auth.hashers.MD5PasswordHasher.verify") as verify:
        response = _sign_in(client, "worker", PASSWORD)
        verify.assert_not_called()  # the lock is checked before any password hashing
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="accounts.lockout").count() == 1


def test_four_failures_do_not_lock(client, users):
    for _ in range(4):
        _sign_in(client, "worker", "Wrong-pass-1")
    assert _sign_in(client, "worker", PASSWORD).status_code == 302


def test_failures_older_than_the_window_do_not_count(client, users):
    start = timezone.now()
    with mock.patch("linli.accounts.lockout.timezone.now", return_value=start):
        for _ in range(4):
            _sign_in(client, "worker", "Wrong-pass-1")
    later = start + timedelta(minutes=16)
    with mock.patch("linli.accounts.lockout.timezone.now", return_value=later):
        assert lockout.record_failure("worker") is None


def test_lock_ends_by_itself_after_thirty_minutes(client, users):
    start = timezone.now()
    with mock.patch("linli.accounts.lockout.timezone.now", return_value=start):
        for _ in range(5):
            _sign_in(client, "worker", "Wrong-pass-1")
    with mock.patch(
        "linli.accounts.lockout.timezone.now", return_value=start + timedelta(minutes=29)
    ):
        assert lockout.locked_until("worker") is not None
    with mock.patch(
        "linli.accounts.lockout.timezone.now", return_value=start + timedelta(minutes=31)
    ):
        assert lockout.locked_until("worker") is None
        assert _sign_in(client, "worker", PASSWORD).status_code == 302


def test_session_expires_after_thirty_idle_minutes(client, users):
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    assert django_settings.SESSION_SAVE_EVERY_REQUEST
    client.force_login(users["worker"])
    from django.contrib.sessions.models import Session

    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_administrator_must_pass_totp(client, users):
    _sign_in(client, "bureau", PASSWORD)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(
        "/accounts/second-factor/"
    )
    # First use enrols a new authenticator.
    page = client.get("/accounts/second-factor/")
    assert b"<img" in page.content
    device = TOTPDevice.objects.get(user=users["bureau"])
    assert client.post("/accounts/second-factor/", {"token": "000000"}).status_code == 200
    device.refresh_from_db()
    device.throttle_reset()  # django-otp slows down guessing after a wrong code
    code = (
        f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"
    )
    assert client.post("/accounts/second-factor/", {"token": code}).status_code == 302
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_worker_needs_no_second_factor(client, users):
    _sign_in(client, "worker", PASSWORD)
    assert client.get("/").status_code == 200


def test_security_headers_and_no_store(client, users):
    client.force_login(users["worker"])
    response = client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_login_form_requires_csrf(users):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert _sign_in(strict, "worker", PASSWORD).status_code == 403


@pytest.mark.parametrize(
    ("key", "role"),
    [
        ("resident", "resident"),
        ("worker", "community_worker"),
        ("director", "committee_director"),
        ("gridworker", "grid_worker"),
        ("dispatcher", "grid_dispatcher"),
        ("selfgov", "self_governance_office"),
        ("handler", "department_handler"),
        ("bureau", "district_bureau"),
        ("admin", "administrator"),
    ],
)
def test_every_role_lands_on_its_home(client_as, key, role):
    response = client_as(key).get("/")
    assert response.status_code == 200
    assert f'data-role="{role}"'.encode() in response.content


def test_pages_are_chinese_unless_english_is_chosen(client, db):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="zh-Hans"' in page.content.decode() and "登录" in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Sign in" in client.get("/accounts/login/").content.decode()
