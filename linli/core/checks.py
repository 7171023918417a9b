"""System checks for misconfiguration (ids linli.E0xx / linli.W0xx)."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=False)
def check_field_key(app_configs=None, **kwargs):
    errors = []
    key = settings.LINLI_FIELD_KEY
    if not key:
        errors.append(
            Error(
                "LINLI_FIELD_KEY is not set: personal data cannot be encrypted at rest.",
                hint="Set LINLI_FIELD_KEY to a long random secret kept outside the database.",
                id="linli.E001",
            )
        )
    elif settings.PRODUCTION and len(key) < 32:
        errors.append(Error("LINLI_FIELD_KEY is shorter than 32 characters.", id="linli.E002"))
    return errors


@register(Tags.database, deploy=True)
def check_production_services(app_configs=None, **kwargs):
    warnings = []
    if not settings.PRODUCTION:
        return warnings
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        warnings.append(
            Warning(
                "Production runs on SQLite.",
                hint="Set DATABASE_URL to a PostgreSQL database.",
                id="linli.W003",
            )
        )
    if not settings.REDIS_URL:
        warnings.append(
            Warning(
                "REDIS_URL is not set: caches are per-process and background work runs inline.",
                id="linli.W004",
            )
        )
    elif settings.TASKS_BACKEND != "rq":
        warnings.append(
            Warning(
                "Background work (imports, reminders) runs inline in the web request.",
                hint="Set LINLI_TASKS=rq and run `linli rqworker --job-class django_tasks_rq.Job"
                " default`.",
                id="linli.W005",
            )
        )
    return warnings
