import datetime as dt

import pytest
from django.utils import translation

from linli.people.pii import (
    InvalidIdentifier,
    age_on,
    check_char,
    compose_id_number,
    mask_id_number,
    mask_name_public,
    mask_phone,
    normalize_phone,
    parse_id_number,
)

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _english():
    # The messages are matched by their English source text.
    with translation.override("en"):
        yield


def test_it_accepts_a_valid_number_and_derives_birth_date_and_gender():
    # 11010519491231002X is the standard's published example (a woman born 1949-12-31).
    parsed = parse_id_number("11010519491231002x", today=TODAY)
    assert parsed.value == "11010519491231002X"
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.gender == "F"
    assert parse_id_number(compose_id_number("310104", dt.date(1980, 2, 29), 131)).gender == "M"


def test_it_upgrades_a_15_digit_number():
    parsed = parse_id_number("310104800229131", today=TODAY)
    assert parsed.value == compose_id_number("310104", dt.date(1980, 2, 29), 131)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "18 characters"),
        ("3101041980022913", "18 characters"),
        ("31010419800229131A", "digits only"),
        ("X10104198002291310", "digits only"),
        ("991041198002291315", "region"),
        ("310104198102291312", "birth date"),  # 1981 is not a leap year
        ("310104202701011234", "birth date"),  # born after today
        ("310104188912311234", "birth date"),  # before 1890
    ],
)
def test_it_rejects_malformed_numbers_with_the_reason(raw, fragment):
    with pytest.raises(InvalidIdentifier) as caught:
        parse_id_number(raw, today=TODAY)
    assert fragment in str(caught.value)


def test_every_wrong_check_character_is_refused():
    first17 = "31010419800229131"
    right = check_char(first17)
    assert parse_id_number(first17 + right, today=TODAY)
    for wrong in "0123456789X".replace(right, ""):
        with pytest.raises(InvalidIdentifier, match="check character"):
            parse_id_number(first17 + wrong, today=TODAY)


def test_born_today_is_accepted():
    assert parse_id_number(compose_id_number("310104", TODAY, 2), today=TODAY).birth_date == TODAY


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("138 1234 5678", "13812345678"),
        ("+86-138-1234-5678", "13812345678"),
        ("13812345678.0", "13812345678"),
        ("021-64381234", "02164381234"),
        ("64381234", "02164381234"),
        ("", ""),
    ],
)
def test_phone_normalization(raw, normalized):
    assert normalize_phone(raw) == normalized


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "phone", "1234"])
def test_bad_phones_are_refused(raw):
    with pytest.raises(InvalidIdentifier):
        normalize_phone(raw)


def test_a_masked_value_from_an_export_is_named_as_such():
    for parse, masked in (
        (parse_id_number, "310104********131X"),
        (normalize_phone, "138****5678"),
    ):
        with pytest.raises(InvalidIdentifier, match="masked"):
            parse(masked)


def test_masks_follow_the_project_policy():
    assert mask_id_number("31010419800229131X") == "310104********131X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("02164381234") == "021****1234"
    assert mask_name_public("张明") == "张*"
    assert mask_name_public("张小明") == "张*明"
    assert mask_name_public("欧阳小明") == "欧**明"


def test_age_turns_on_the_birthday():
    born = dt.date(2008, 11, 23)
    assert age_on(born, dt.date(2026, 11, 22)) == 17
    assert age_on(born, dt.date(2026, 11, 23)) == 18
