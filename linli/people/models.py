"""The community register: households, residents, owners, organisations.

Every row carries `path`, the materialized path of the place it belongs to, so one indexed range
query scopes it (core.scoping). Personal identifiers are stored three ways, never in plaintext:
ciphertext (`*_cipher`), a keyed hash for exact look-up (`*_hash`) and the staff mask
(`*_masked`) that pages show without decrypting anything.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import ScopedQuerySet
from linli.people.choices import (
    AreaSource,
    EventKind,
    Gender,
    HouseholdType,
    ImportKind,
    ImportStatus,
    OrganisationKind,
    OwnerKind,
    Registration,
    Relation,
    Residence,
    ResidentStatus,
    SocialOrgKind,
    Tenure,
)
from linli.people.pii import mask_name_public
from linli.places.models import Place


def _cipher_field(label):
    return models.TextField(label, blank=True, default="", editable=False)


def _hash_field(label):
    return models.CharField(label, max_length=32, blank=True, default="", editable=False)


def _masked_field(label):
    return models.CharField(label, max_length=24, blank=True, default="", editable=False)


class Tag(models.Model):
    """A managed label for residents (elderly living alone, disabled …), not free text.

    Sensitive tags (disability, health, low income) are shown only to roles holding
    people.view_sensitive_tags.
    """

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=32, unique=True)
    sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_("Only roles that need it (the committee's own staff) see this tag."),
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["sensitive", "code"]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    """The people side of a dwelling (户): one per household place."""

    place = models.OneToOneField(
        Place,
        verbose_name=_("dwelling"),
        on_delete=models.PROTECT,
        related_name="household_record",
        limit_choices_to={"kind": "household"},
    )
    path = models.CharField(_("path"), max_length=80, unique=True, editable=False)
    household_type = models.CharField(
        _("household type"),
        max_length=16,
        choices=HouseholdType.choices,
        default=HouseholdType.FAMILY,
    )
    tenure = models.CharField(
        _("tenure"), max_length=16, choices=Tenure.choices, default=Tenure.OWNER_OCCUPIED
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.address or self.place.name

    @property
    def scope_place(self) -> str:
        return self.path


class Resident(models.Model):
    """A person living or registered in a household of the register."""

    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="members",
    )
    # Copy of the household's path (kept in step by the services) so search scopes without a join.
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    # The resident's own sign-in, when they have one: who they are when they vote in person.
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resident",
    )
    name = models.CharField(_("name"), max_length=64)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    id_cipher = _cipher_field(_("ID number (encrypted)"))
    id_hash = _hash_field(_("ID number (lookup hash)"))
    id_masked = _masked_field(_("ID number"))
    phone_cipher = _cipher_field(_("phone (encrypted)"))
    phone_hash = _hash_field(_("phone (lookup hash)"))
    phone_masked = _masked_field(_("phone"))
    ethnicity = models.CharField(_("ethnicity"), max_length=16, blank=True)
    registration = models.CharField(
        _("registration status"), max_length=16, choices=Registration.choices
    )
    residence = models.CharField(_("residence status"), max_length=20, choices=Residence.choices)
    relation = models.CharField(
        _("relation to household head"), max_length=16, choices=Relation.choices
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ResidentStatus.choices,
        default=ResidentStatus.ACTIVE,
        db_index=True,
    )
    status_date = models.DateField(
        _("status date"), null=True, blank=True, help_text=_("When the person moved out or died.")
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="residents")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["path", "id"]
        constraints = [
            # One person, one record, city-wide: the keyed hash of the ID number is unique.
            models.UniqueConstraint(
                fields=["id_hash"], condition=~Q(id_hash=""), name="resident_unique_id"
            ),
        ]
        indexes = [
            models.Index(fields=["phone_hash"], name="resident_phone_hash"),
            models.Index(fields=["path", "name"], name="resident_path_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"#{self.pk} {mask_name_public(self.name)}"

    @property
    def scope_place(self) -> str:
        return self.path


class ResidentEvent(models.Model):
    """Dated history of a resident: moves, death, status changes and corrections.

    `changes` maps a field to [old, new]; for ID numbers and phones only the masks are kept.
    """

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="events"
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="events",
        help_text=_("The household the event happened in."),
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices)
    date = models.DateField(_("date"))
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("resident event")
        verbose_name_plural = _("resident events")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["household", "-date"], name="event_household_date")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


class Owner(models.Model):
    """A holder of units in one committee's area: a person, an organisation or the developer.

    One owner with several units counts as one head, so owners are de-duplicated per committee
    by the keyed hash of their ID or credit code.
    """

    committee = models.ForeignKey(
        Place,
        verbose_name=_("committee"),
        on_delete=models.PROTECT,
        related_name="owners",
        limit_choices_to={"kind": "committee"},
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    kind = models.CharField(
        _("owner kind"), max_length=16, choices=OwnerKind.choices, default=OwnerKind.PERSON
    )
    name = models.CharField(_("name"), max_length=100)
    id_cipher = _cipher_field(_("ID or credit code (encrypted)"))
    id_hash = _hash_field(_("ID or credit code (lookup hash)"))
    id_masked = _masked_field(_("ID or credit code"))
    phone_cipher = _cipher_field(_("phone (encrypted)"))
    phone_hash = _hash_field(_("phone (lookup hash)"))
    phone_masked = _masked_field(_("phone"))
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident record"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ownerships_as_owner",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("owner")
        verbose_name_plural = _("owners")
        ordering = ["path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "id_hash"],
                condition=~Q(id_hash=""),
                name="owner_unique_id_per_committee",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        # Companies and the developer are named; a person is masked.
        return mask_name_public(self.name) if self.kind == OwnerKind.PERSON else self.name

    @property
    def scope_place(self) -> str:
        return self.path


class Ownership(models.Model):
    """An owner's hold on a unit (a household place); joint owners each have one.

    Ending an ownership sets `until` instead of deleting it, so the unit's history stays.
    """

    unit = models.ForeignKey(
        Place,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="ownerships",
        limit_choices_to={"kind": "household"},
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    owner = models.ForeignKey(
        Owner, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="ownerships"
    )
    share = models.DecimalField(
        _("share"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Fraction held by this owner, e.g. 0.5; blank for common ownership."),
    )
    votes_for_unit = models.BooleanField(
        _("votes for the unit"),
        default=True,
        help_text=_("Joint owners choose one person to vote; only that person counts as a head."),
    )
    since = models.DateField(_("since"), null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("ownership")
        verbose_name_plural = _("ownerships")
        ordering = ["path", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "owner"],
                condition=Q(until__isnull=True),
                name="ownership_unique_current",
            ),
            models.CheckConstraint(
                condition=Q(share__isnull=True) | (Q(share__gt=0) & Q(share__lte=1)),
                name="ownership_share_fraction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner} · {self.unit}"

    def audit_label(self) -> str:
        return f"{self.owner.audit_label()} · {self.unit}"


class UnitArea(models.Model):
    """A unit's floor area as one source states it; the best source present is the one used."""

    unit = models.ForeignKey(
        Place,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="areas",
        limit_choices_to={"kind": "household"},
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    source = models.CharField(_("source"), max_length=16, choices=AreaSource.choices)
    area = models.DecimalField(_("floor area (m²)"), max_digits=10, decimal_places=2)
    recorded_at = models.DateTimeField(_("recorded"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("unit area")
        verbose_name_plural = _("unit areas")
        ordering = ["path", "source"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "source"], name="unitarea_unique_source"),
            models.CheckConstraint(condition=Q(area__gt=0), name="unitarea_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.area} m²"


class Organisation(models.Model):
    """A body in the committee's area: owners' committee, property manager, resident unit,
    social organisation (of one of the three legal kinds) or activity team."""

    committee = models.ForeignKey(
        Place,
        verbose_name=_("committee"),
        on_delete=models.PROTECT,
        related_name="organisations",
        limit_choices_to={"kind": "committee"},
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    social_org_kind = models.CharField(
        _("legal kind"), max_length=16, choices=SocialOrgKind.choices, blank=True
    )
    name = models.CharField(_("name"), max_length=120)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    office_phone = models.CharField(_("office phone"), max_length=32, blank=True)
    areas = models.ManyToManyField(
        Place,
        verbose_name=_("area served"),
        blank=True,
        related_name="serving_organisations",
        help_text=_("The compounds this organisation serves; blank for the whole committee."),
    )
    responsibilities = models.TextField(_("responsibilities (职责清单)"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["path", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["committee", "name"], name="organisation_unique_name"),
            models.CheckConstraint(
                condition=(Q(kind="social_org") & ~Q(social_org_kind=""))
                | (~Q(kind="social_org") & Q(social_org_kind="")),
                name="organisation_social_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_place(self) -> str:
        return self.path


class OrganisationContact(models.Model):
    """A person to call at an organisation; their phone is personal data."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="contacts",
    )
    name = models.CharField(_("name"), max_length=64)
    title = models.CharField(_("title"), max_length=64, blank=True)
    phone_cipher = _cipher_field(_("phone (encrypted)"))
    phone_hash = _hash_field(_("phone (lookup hash)"))
    phone_masked = _masked_field(_("phone"))

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["organisation", "id"]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return mask_name_public(self.name)


class ImportJob(models.Model):
    """A spreadsheet uploaded for import into one committee's register, with its column mapping
    and the report of its last dry run or commit.

    The file holds plaintext identifiers, so it is stored encrypted and wiped once committed.
    """

    committee = models.ForeignKey(
        Place,
        verbose_name=_("committee"),
        on_delete=models.PROTECT,
        related_name="import_jobs",
        limit_choices_to={"kind": "committee"},
    )
    path = models.CharField(_("path"), max_length=80, db_index=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    file_name = models.CharField(_("file name"), max_length=200)
    content_cipher = models.TextField(_("file (encrypted)"), blank=True, editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    mapping = models.JSONField(
        _("column mapping"),
        default=list,
        blank=True,
        help_text=_("Pairs of [column header, field]; an empty field ignores the column."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_path = "path"

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def scope_place(self) -> str:
        return self.path
