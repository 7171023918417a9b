import hashlib

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import ROLE_PLACE_KINDS, Role
from linli.places.choices import PlaceKind
from linli.places.models import Department, Grid, Place

ROLE_PLACE_ERROR = _("The role %(role)s is held at a %(kinds)s, not at a %(kind)s.")
GRID_REQUIRED_ERROR = _("A grid worker must be assigned to a grid of this street.")
DEPARTMENT_REQUIRED_ERROR = _(
    "A department handler must be attached to a department serving this place."
)


class User(AbstractUser):
    """An account. What it may do, and where, comes only from its role assignments."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    # Scoping is answered in accounts.scoping; these delegate so that core code can ask the
    # viewer without importing this app.
    def scope_prefixes(self, perm: str) -> list[str]:
        from linli.accounts.scoping import scope_prefixes

        return scope_prefixes(self, perm)

    def can(self, perm: str, place: Place | None = None) -> bool:
        from linli.accounts.scoping import user_can

        return user_can(self, perm, place)

    def audit_role(self, place: Place | None) -> str:
        """The roles under which this user acts at `place`, as the audit trail records them."""
        from linli.accounts.scoping import roles_at

        return ",".join(roles_at(self, place))[:40]


class RoleAssignment(models.Model):
    """A user holds a role at a place (and, for some roles, for a grid or a department)."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.PROTECT, related_name="assignments"
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    created_at = models.DateTimeField(_("assigned at"), default=timezone.now)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["user", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "place"],
                condition=models.Q(grid__isnull=True, department__isnull=True),
                name="assignment_unique_place",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "grid"],
                condition=models.Q(grid__isnull=False),
                name="assignment_unique_grid",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "department"],
                condition=models.Q(department__isnull=False),
                name="assignment_unique_department",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="assignment_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.place}"

    def clean(self) -> None:
        kinds = ROLE_PLACE_KINDS.get(self.role, frozenset())
        if self.place_id and self.place.kind not in kinds:
            raise ValidationError(
                {
                    "place": ROLE_PLACE_ERROR
                    % {
                        "role": Role(self.role).label,
                        "kinds": " / ".join(str(PlaceKind(k).label) for k in sorted(kinds)),
                        "kind": PlaceKind(self.place.kind).label,
                    }
                }
            )
        if self.role == Role.GRID_WORKER and (
            not self.grid_id or self.grid.street_id != self.place_id
        ):
            raise ValidationError({"grid": GRID_REQUIRED_ERROR})
        if self.role in (Role.DEPARTMENT_HANDLER, Role.DEPARTMENT_HEAD) and (
            not self.department_id or self.department.area_id != self.place_id
        ):
            raise ValidationError({"department": DEPARTMENT_REQUIRED_ERROR})


class LoginLock(models.Model):
    """Failed sign-ins per user name, and the temporary lock they trigger. Never permanent."""

    username = models.CharField(_("user name"), max_length=150, unique=True)
    failures = models.JSONField(_("recent failures"), default=list)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("login lock")
        verbose_name_plural = _("login locks")

    def __str__(self) -> str:
        return self.username


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; the key is shown once."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
