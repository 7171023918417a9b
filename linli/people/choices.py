from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Registration(models.TextChoices):
    """Household-registration status (户籍 / 来沪)."""

    REGISTERED = "registered", _("Registered (Shanghai hukou)")
    MIGRANT = "migrant", _("Migrant (来沪)")
    OVERSEAS = "overseas", _("Overseas or Hong Kong, Macao, Taiwan")


class Residence(models.TextChoices):
    """Where someone lives compared with where they are registered."""

    LIVING_REGISTERED = "living_registered", _("Lives here, registered here")
    LIVING_ONLY = "living_only", _("Lives here, registered elsewhere")
    REGISTERED_ONLY = "registered_only", _("Registered here, lives elsewhere")


class Relation(models.TextChoices):
    """Relation to the head of the household."""

    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Sibling")
    CHILD_IN_LAW = "child_in_law", _("Son- or daughter-in-law")
    TENANT = "tenant", _("Tenant")
    OTHER = "other", pgettext_lazy("relation", "Other")


class ResidentStatus(models.TextChoices):
    ACTIVE = "active", _("In the register")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")


class HouseholdType(models.TextChoices):
    FAMILY = "family", _("Family household")
    COLLECTIVE = "collective", _("Collective household")


class Tenure(models.TextChoices):
    OWNER_OCCUPIED = "owner_occupied", _("Owner-occupied")
    RENTED = "rented", _("Rented")
    VACANT = "vacant", _("Vacant")
    OTHER = "other", pgettext_lazy("tenure", "Other")


class EventKind(models.TextChoices):
    """What happened to a resident; every change to the register leaves one."""

    MOVE_IN = "move_in", _("Moved in")
    MOVE_OUT = "move_out", _("Moved out")
    TRANSFER = "transfer", _("Moved to another household")
    DEATH = "death", _("Died")
    RETURN = "return", _("Back in the register")
    STATUS = "status", _("Status changed")
    UPDATE = "update", _("Details corrected")


class OwnerKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")
    DEVELOPER = "developer", _("Developer (unsold units)")


class AreaSource(models.TextChoices):
    """Where a unit's floor area comes from, best first (SPC interpretation art. 8)."""

    REGISTRY = "registry", _("Property registry")
    SURVEY = "survey", _("Survey")
    CONTRACT = "contract", _("Sale contract")


AREA_SOURCE_PREFERENCE = [AreaSource.REGISTRY, AreaSource.SURVEY, AreaSource.CONTRACT]


class OrganisationKind(models.TextChoices):
    OWNERS_COMMITTEE = "owners_committee", _("Owners' committee")
    PROPERTY_MANAGER = "property_manager", _("Property manager")
    RESIDENT_UNIT = "resident_unit", _("Resident unit")
    SOCIAL_ORG = "social_org", _("Social organisation")
    ACTIVITY_TEAM = "activity_team", _("Activity team")


class SocialOrgKind(models.TextChoices):
    """The three legal kinds of social organisation."""

    SOCIAL_GROUP = "social_group", _("Social group (社会团体)")
    SOCIAL_SERVICE = "social_service", _("Social service agency (民办非企业单位)")
    FOUNDATION = "foundation", _("Foundation (基金会)")


class ImportKind(models.TextChoices):
    """What a spreadsheet import or export holds, one shape per kind."""

    HOUSEHOLDS = "households", _("Households")
    RESIDENTS = "residents", _("Residents")
    OWNERS = "owners", _("Owners and units")
    ORGANISATIONS = "organisations", _("Organisations")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATING = "validating", _("Checking")
    VALIDATED = "validated", _("Checked")
    COMMITTING = "committing", _("Importing")
    COMMITTED = "committed", _("Imported")
    FAILED = "failed", _("Failed")


ETHNICITIES = [
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
    "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族",
    "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族",
    "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族", "阿昌族",
    "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族",
    "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
]  # fmt: skip
