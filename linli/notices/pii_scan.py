"""Finds personal numbers in text meant for the public board (RULES.md §6.2: a public notice
carries no ID number and no phone, not even masked). Pure functions, no ORM.

Text is NFKC-normalized first, so full-width digits (１３８…) and separators typed on a Chinese
keyboard are caught too. Candidates for an ID number must have a real region prefix and a
plausible birth date (the check character is not required: a mistyped ID number is still one);
that keeps the 18-character credit codes of companies (统一社会信用代码) out of it.
"""

import datetime as dt
import re
import unicodedata

from linli.people.pii import EARLIEST_BIRTH, PROVINCES, SHANGHAI

ID_NUMBER = "id_number"
MOBILE = "mobile"

_SEP = r"[ \t\-]?"
# 6 region digits, 8 birth-date digits, 3 sequence digits and the check character, optionally
# grouped 6-8-4 with spaces or dashes as people write them.
_ID = re.compile(rf"(?<![0-9A-Za-z])(\d{{6}}){_SEP}(\d{{8}}){_SEP}(\d{{3}}[0-9Xx])(?![0-9A-Za-z])")
# The staff mask (310104********123X) or any other run of stars where the birth date sits.
_ID_MASKED = re.compile(r"(?<![0-9A-Za-z])\d{6}\*{4,8}[\d*]{0,4}\d{3}[0-9Xx*](?![0-9A-Za-z])")
# Mainland mobiles: 1[3-9] and 9 more digits, optionally +86 in front and grouped 3-4-4.
_MOBILE = re.compile(rf"(?<!\d)(?:(?:\+|00)?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)")
# The staff mask 138****5678 (any number of stars from 2 to 4).
_MOBILE_MASKED = re.compile(r"(?<!\d)1[3-9]\d\*{2,4}\d{4}(?!\d)")


def _plausible_id(region: str, birth: str, today: dt.date) -> bool:
    if region[:2] not in PROVINCES:
        return False
    try:
        born = dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))
    except ValueError:
        return False
    return EARLIEST_BIRTH <= born <= today


def personal_numbers(text: str, *, today: dt.date | None = None) -> set[str]:
    """The kinds of personal number found in `text`: ID_NUMBER, MOBILE (empty if none)."""
    if not text:
        return set()
    text = unicodedata.normalize("NFKC", str(text))
    today = today or dt.datetime.now(SHANGHAI).date()
    found = set()
    if _ID_MASKED.search(text) or any(
        _plausible_id(m.group(1), m.group(2), today) for m in _ID.finditer(text)
    ):
        found.add(ID_NUMBER)
    if _MOBILE.search(text) or _MOBILE_MASKED.search(text):
        found.add(MOBILE)
    return found
