"""Shared fixtures: the small test street and its named personas (same builder as the demo)."""

import pytest

from linli.demo.builder import TEST_SIZE, build_street, create_accounts, personas_for

PASSWORD = "Test-pass-123!"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Argon2 is the production hasher (asserted in accounts tests); tests hash fast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_calendar():
    # The working calendar is cached per process; tests that edit holidays must not leak.
    from linli.workorders.calendar import calendar_reset

    calendar_reset()
    yield
    calendar_reset()


@pytest.fixture
def world(db):
    return build_street(seed=7, size=TEST_SIZE)


@pytest.fixture
def users(world):
    personas = personas_for(world)
    return create_accounts(personas, {p.key: PASSWORD for p in personas})


@pytest.fixture
def client_as(client, users):
    """client_as("worker") → a test client signed in as that persona (second factor passed)."""

    def sign_in(key: str):
        user = users[key]
        client.force_login(user)
        session = client.session
        # django-otp marks a verified session by the device's persistent id.
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="test", defaults={"confirmed": True}
        )
        session["otp_device_id"] = device.persistent_id
        session.save()
        return client

    return sign_in
