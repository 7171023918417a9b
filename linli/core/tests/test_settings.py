import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from linli.core import checks
from linli.core.env import env_bool, env_int

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("raw", ["maybe", "2", "yes please"])
def test_env_bool_refuses_garbage(monkeypatch, raw):
    monkeypatch.setenv("LINLI_X", raw)
    with pytest.raises(ImproperlyConfigured):
        env_bool("LINLI_X")


def test_env_int_refuses_garbage(monkeypatch):
    monkeypatch.setenv("LINLI_X", "ten")
    with pytest.raises(ImproperlyConfigured):
        env_int("LINLI_X", 1)


def test_missing_field_key_is_an_error(settings):
    settings.LINLI_FIELD_KEY = ""
    assert [e.id for e in checks.check_field_key()] == ["linli.E001"]


def _production_env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "LINLI_", "DJANGO_"))
    }
    env.update(
        LINLI_ENV="production",
        SECRET_KEY="x" * 20 + "production-secret-key-with-enough-entropy-0123456789",
        LINLI_FIELD_KEY="f" * 40,
        ALLOWED_HOSTS="linli.example.org",
        DATABASE_URL="postgres://linli@db.example.org:5432/linli",
        REDIS_URL="redis://127.0.0.1:6379/0",
        DJANGO_SETTINGS_MODULE="linli.settings",
        **extra,
    )
    return env


def test_production_profile_passes_check_deploy():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_secret_key():
    env = _production_env()
    del env["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_queues_background_work_in_redis_and_warns_when_inline():
    script = "from django.conf import settings; print(settings.TASKS['default']['BACKEND'])"
    queued = subprocess.run(  # noqa: S603 (fixed command)
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert queued.stdout.strip() == "django_tasks_rq.RQBackend"
    inline = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(LINLI_TASKS="immediate"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert inline.returncode != 0 and "linli.W005" in inline.stdout + inline.stderr
