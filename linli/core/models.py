"""The audit trail: append-only, hash-chained events."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("audit events are append-only")


class AuditEvent(models.Model):
    """One governed change or privileged action: who, in which role, where, what, when, from where.

    Rows are never updated; each carries the hash of its predecessor so that editing or deleting
    a row breaks the chain (`linli audit verify`). The database refuses UPDATE outright and DELETE
    of rows younger than the retention period (triggers in migration 0002).
    """

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=40, blank=True)
    # The place is copied, not a foreign key: the trail must outlive the rows it describes,
    # and scoping uses the materialized path without a join.
    place_id = models.BigIntegerField(_("place id"), null=True, blank=True)
    place_path = models.CharField(_("place path"), max_length=255, blank=True, db_index=True)
    place_name = models.CharField(_("place"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=80, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        indexes = [models.Index(fields=["actor_id", "at"], name="audit_actor_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("audit events are deleted only by the retention purge")


class AuditChain(models.Model):
    """Singleton holding the chain's head, locked to serialise appends.

    `anchor_hash` is the hash of the last purged event, so the chain still verifies from its
    first surviving row after a purge.
    """

    last_hash = models.CharField(max_length=64, default="")
    anchor_hash = models.CharField(max_length=64, default="")

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")

    def __str__(self) -> str:
        return self.last_hash[:12]
