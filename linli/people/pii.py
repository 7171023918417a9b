"""Personal identifiers: validation, normalization and masking. Pure functions, no ORM.

ID numbers follow GB 11643-1999: 6-digit region code, 8-digit birth date, 3-digit sequence (odd
for men, even for women) and an ISO 7064 MOD 11-2 check character. Masking follows the project
policy in RULES.md §6.2: staff see `310104********123X` and `138****5678`; public notices see no
ID or phone at all and names as `张*` / `张*明`.
"""

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# First two digits of GB/T 2260 province-level codes (71 Taiwan, 81 Hong Kong, 82 Macao).
PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
SHANGHAI = ZoneInfo("Asia/Shanghai")
EARLIEST_BIRTH = dt.date(1890, 1, 1)

ID_LENGTH_ERROR = _("An ID number has 18 characters (or 15 digits for an old card).")
ID_CHARS_ERROR = _("An ID number is digits only, with X allowed as the last character.")
MASKED_ERROR = _(
    "This number is masked (as in an export without revealing); importing needs the full number."
)
ID_REGION_ERROR = _("The ID number does not start with a valid region code.")
ID_DATE_ERROR = _("The birth date inside the ID number is not a valid date.")
ID_CHECK_ERROR = _("The ID number's check character is wrong; please check for a mistyped digit.")
PHONE_ERROR = _(
    "Enter a mobile number of 11 digits starting with 1, or a landline with its area code."
)


class InvalidIdentifier(ValueError):
    """Carries a translatable message saying what is wrong with the value."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class IdNumber:
    value: str  # normalized 18-character form
    birth_date: dt.date
    gender: str  # "M" or "F"


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate and normalize an ID number; 15-digit first-generation numbers are upgraded."""
    value = re.sub(r"[\s\u3000-]", "", str(raw or "")).upper()
    if "*" in value:
        raise InvalidIdentifier(MASKED_ERROR)
    if len(value) == 15:
        if not value.isdigit():
            raise InvalidIdentifier(ID_CHARS_ERROR)
        first17 = value[:6] + "19" + value[6:]
        value = first17 + check_char(first17)
    if len(value) != 18:
        raise InvalidIdentifier(ID_LENGTH_ERROR)
    if not (value[:17].isdigit() and (value[17].isdigit() or value[17] == "X")):
        raise InvalidIdentifier(ID_CHARS_ERROR)
    if value[:2] not in PROVINCES:
        raise InvalidIdentifier(ID_REGION_ERROR)
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdentifier(ID_DATE_ERROR) from None
    if not EARLIEST_BIRTH <= birth <= (today or dt.datetime.now(SHANGHAI).date()):
        raise InvalidIdentifier(ID_DATE_ERROR)
    if check_char(value[:17]) != value[17]:
        raise InvalidIdentifier(ID_CHECK_ERROR)
    return IdNumber(value=value, birth_date=birth, gender="M" if int(value[16]) % 2 else "F")


def normalize_phone(raw: str) -> str:
    """Digits of a mainland mobile (11) or landline (area code + number); '' for blank."""
    value = re.sub(r"[\s\u3000()（）-]", "", str(raw or ""))
    if value.endswith(".0"):  # a number typed into a spreadsheet cell comes back as a float
        value = value[:-2]
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not value:
        return ""
    if "*" in value:
        raise InvalidIdentifier(MASKED_ERROR)
    if not value.isdigit():
        raise InvalidIdentifier(PHONE_ERROR)
    if len(value) == 11 and re.fullmatch(r"1[3-9]\d{9}", value):
        return value
    if value.startswith("0") and 10 <= len(value) <= 12:
        return value
    if len(value) == 8 and value[0] != "0":  # local Shanghai landline without 021
        return "021" + value
    raise InvalidIdentifier(PHONE_ERROR)


def mask_id_number(value: str) -> str:
    if not value:
        return ""
    if len(value) == 18:
        return f"{value[:6]}{'*' * 8}{value[-4:]}"
    return "*" * len(value)


def mask_phone(value: str) -> str:
    if not value:
        return ""
    if len(value) == 11 and value.startswith("1"):
        return f"{value[:3]}****{value[-4:]}"
    return f"{value[:-8] if len(value) > 8 else ''}****{value[-4:]}"


def mask_name_public(name: str) -> str:
    """Public notices: 张* for two characters, 张*明 for three or more."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


_DIGIT_RUN = re.compile(r"\d{6,}[0-9Xx]?")


def cell_echo(value, limit: int = 40) -> str:
    """A cell value safe to repeat in an error report: digit runs that could be an ID number or
    a phone (a column put in the wrong place) are masked, long text is cut."""
    text = _DIGIT_RUN.sub(lambda m: m.group()[:3] + "*" * (len(m.group()) - 3), str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def age_on(birth_date: dt.date, day: dt.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def compose_id_number(region: str, birth_date: dt.date, sequence: int) -> str:
    """A format-valid ID number (for fictitious demo and test people)."""
    first17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
