"""Writing and verifying the audit trail.

Services call `audit_record` inside their own transaction, so a change and its event commit or
roll back together.
"""

import contextvars
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from linli.core.models import AuditChain, AuditEvent

# Set per request by AuditContextMiddleware; services need not thread the request through.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("linli_ip", default=None)

_HASHED_FIELDS = (
    "at",
    "actor_id",
    "actor_name",
    "role",
    "place_id",
    "place_path",
    "place_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "reason",
    "ip",
)


def event_digest(event: AuditEvent, prev_hash: str) -> str:
    payload: dict[str, Any] = {name: getattr(event, name) for name in _HASHED_FIELDS}
    payload["at"] = event.at.astimezone(UTC).isoformat(timespec="microseconds")
    payload["prev"] = prev_hash
    blob = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _chain_head() -> AuditChain:
    AuditChain.objects.get_or_create(pk=1)
    return AuditChain.objects.select_for_update().get(pk=1)


def _label(obj) -> str:
    # A model naming a person defines audit_label (masked), since audit viewers may not hold
    # the register's permissions.
    label = getattr(obj, "audit_label", None)
    return label() if callable(label) else str(obj)


@transaction.atomic
def audit_record(
    *,
    actor: Any,
    action: str,
    obj: Any = None,
    place: Any = None,
    changes: dict | None = None,
    reason: str = "",
    role: str = "",
) -> AuditEvent:
    """Append one event. `place` is anything with pk, path and name (a Place)."""
    head = _chain_head()
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    event = AuditEvent(
        at=timezone.now(),
        actor_id=actor.pk if authenticated else None,
        actor_name=actor.get_username() if authenticated else "",
        role=role or (actor.audit_role(place) if authenticated else ""),
        place_id=place.pk if place is not None else None,
        place_path=place.path if place is not None else "",
        place_name=str(place)[:200] if place is not None else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=_label(obj)[:200] if obj is not None else "",
        changes=_jsonable(changes or {}),
        reason=reason,
        ip=current_ip.get(),
        prev_hash=head.last_hash,
    )
    event.hash = event_digest(event, head.last_hash)
    event.save(force_insert=True)
    head.last_hash = event.hash
    head.save(update_fields=["last_hash"])
    return event


def _jsonable(value: Any) -> Any:
    # Round-trip through JSON so the stored value hashes the same when read back.
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Before/after summary of the fields that changed."""
    keys = sorted(set(before) | set(after))
    return {
        k: {"old": before.get(k), "new": after.get(k)}
        for k in keys
        if before.get(k) != after.get(k)
    }


@dataclass
class VerifyResult:
    checked: int
    broken_at: int | None
    message: str

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def audit_verify() -> VerifyResult:
    """Recompute the chain from the anchor; report the first event that does not match."""
    head = AuditChain.objects.filter(pk=1).first()
    expected_prev = head.anchor_hash if head else ""
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != expected_prev:
            return VerifyResult(checked, event.pk, f"event {event.pk}: link to predecessor broken")
        if event_digest(event, event.prev_hash) != event.hash:
            return VerifyResult(checked, event.pk, f"event {event.pk}: content does not match hash")
        expected_prev = event.hash
        checked += 1
    if head is not None and head.last_hash != expected_prev:
        return VerifyResult(
            checked, -1, "chain head does not match the last event (events removed)"
        )
    return VerifyResult(checked, None, f"{checked} events verified")


def audit_purge(*, days: int | None = None) -> int:
    """Delete events older than the retention period (never fewer than 180 days)."""
    keep_days = days if days is not None else settings.LINLI_AUDIT_RETENTION_DAYS
    if keep_days < 180:
        raise ValueError("audit events must be kept at least 180 days")
    cutoff = timezone.now() - timedelta(days=keep_days)
    with transaction.atomic():
        head = _chain_head()
        old = AuditEvent.objects.filter(at__lt=cutoff).order_by("-id")
        last = old.values_list("hash", flat=True).first()
        if last is None:
            return 0
        count = old.count()
        # QuerySet.delete bypasses the model guard; the database trigger still checks the age.
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {AuditEvent._meta.db_table} WHERE at < %s",  # noqa: S608
                [cutoff],
            )
        head.anchor_hash = last
        head.save(update_fields=["anchor_hash"])
    return count
