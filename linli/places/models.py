from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import ScopedQuerySet, path_segment
from linli.places.choices import (
    CODE_LENGTH,
    CODE_PREFIX_LENGTH,
    PARENT_KIND,
    DepartmentKind,
    PlaceKind,
)

CODE_LENGTH_ERROR = _("A %(kind)s code has exactly %(length)d digits.")
CODE_PREFIX_ERROR = _("The code must start with the code of the place above (%(prefix)s).")
PARENT_KIND_ERROR = _("A %(kind)s must sit directly under a %(parent)s.")


class Place(models.Model):
    """A node of the city's tree: city › district › street › committee › compound › building ›
    household.

    `path` is the materialized path: the parent's path followed by this row's id as a 10-digit
    segment. "Everything under X" is one indexed range query on `path`.
    """

    kind = models.CharField(_("kind"), max_length=16, choices=PlaceKind.choices)
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(
        _("official code"),
        max_length=12,
        blank=True,
        help_text=_(
            "GB/T 2260 code for districts; 12-digit statistical code for streets and committees."
        ),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=80, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False)
    # A point for compounds (WGS84): maps, and the grid suggested for a report made there.
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "code"], condition=~models.Q(code=""), name="place_unique_code"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=PlaceKind.values), name="place_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["parent", "path"], name="place_parent_path")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        expected_parent = PARENT_KIND.get(self.kind)
        parent_kind = self.parent.kind if self.parent_id else None
        if parent_kind != expected_parent:
            errors["parent"] = PARENT_KIND_ERROR % {
                "kind": PlaceKind(self.kind).label,
                "parent": PlaceKind(expected_parent).label if expected_parent else "—",
            }
        length = CODE_LENGTH.get(self.kind)
        if self.code:
            if length is None or len(self.code) != length or not self.code.isdigit():
                errors["code"] = CODE_LENGTH_ERROR % {
                    "kind": PlaceKind(self.kind).label,
                    "length": length or 0,
                }
            elif self.parent_id and self.parent.code and self.kind in CODE_PREFIX_LENGTH:
                prefix = self.parent.code[: CODE_PREFIX_LENGTH[self.kind]]
                if not self.code.startswith(prefix):
                    errors["code"] = CODE_PREFIX_ERROR % {"prefix": prefix}
        if errors:
            raise ValidationError(errors)

    def assign_path(self) -> None:
        base = self.parent.path if self.parent_id else ""
        self.path = base + path_segment(self.pk)
        self.depth = len(self.path) // 10 - 1

    def ancestor_ids(self) -> list[int]:
        return [int(self.path[i : i + 10]) for i in range(0, len(self.path) - 10, 10)]


class Grid(models.Model):
    """An overlay on a street used by its grid management centre; covers several compounds."""

    street = models.ForeignKey(
        Place,
        verbose_name=_("street"),
        on_delete=models.PROTECT,
        related_name="street_grids",
        limit_choices_to={"kind": PlaceKind.STREET},
    )
    code = models.CharField(_("grid code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    compounds = models.ManyToManyField(
        Place,
        verbose_name=_("compounds"),
        related_name="grids",
        limit_choices_to={"kind": PlaceKind.COMPOUND},
    )

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["street", "code"]
        constraints = [models.UniqueConstraint(fields=["street", "code"], name="grid_unique_code")]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A functional government body (housing office, city management …) serving an area."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=32, choices=DepartmentKind.choices)
    area = models.ForeignKey(
        Place,
        verbose_name=_("area served"),
        on_delete=models.PROTECT,
        related_name="departments",
        help_text=_("The street or district whose cases this department handles."),
    )
    phone = models.CharField(_("office phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["area", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="department_unique_name")
        ]

    def __str__(self) -> str:
        return self.name
