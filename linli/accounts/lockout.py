"""Sign-in lock-out: LINLI_LOCKOUT_FAILURES failures within LINLI_LOCKOUT_WINDOW lock the user
name for LINLI_LOCKOUT_DURATION.

Written here rather than with django-axes because axes counts failures over the same period as
its lock (cool-off), and our rule has a 15-minute window with a 30-minute lock. The lock is checked
before any password is hashed, it always expires by itself (nobody can lock an account for good
by typing its name), and attempts made while locked neither count nor extend it.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from linli.accounts.models import LoginLock


def normalise(username: str) -> str:
    return username.strip().lower()[:150]


def locked_until(username: str) -> datetime | None:
    until = (
        LoginLock.objects.filter(username=normalise(username))
        .values_list("locked_until", flat=True)
        .first()
    )
    return until if until and until > timezone.now() else None


@transaction.atomic
def record_failure(username: str) -> datetime | None:
    """Count one failure; return the lock's end when this failure triggers a lock."""
    now = timezone.now()
    lock, _ = LoginLock.objects.select_for_update().get_or_create(username=normalise(username))
    window_start = now - settings.LINLI_LOCKOUT_WINDOW
    recent = [t for t in lock.failures if datetime.fromisoformat(t) > window_start]
    recent.append(now.isoformat())
    if len(recent) >= settings.LINLI_LOCKOUT_FAILURES:
        lock.locked_until = now + settings.LINLI_LOCKOUT_DURATION
        lock.failures = []
        lock.save(update_fields=["failures", "locked_until"])
        return lock.locked_until
    lock.failures = recent
    lock.save(update_fields=["failures"])
    return None


def record_success(username: str) -> None:
    LoginLock.objects.filter(username=normalise(username)).delete()
