import datetime as dt

import pytest

from linli.notices.pii_scan import ID_NUMBER, MOBILE, personal_numbers
from linli.people.pii import compose_id_number

TODAY = dt.date(2026, 3, 9)
VALID_ID = compose_id_number("310104", dt.date(1956, 7, 1), 123)


@pytest.mark.parametrize(
    "text",
    [
        f"申请人：张*明，身份证号{VALID_ID}",
        "身份证 310104195607011239 已核对",  # a wrong check character is still an ID number
        "31010419560701123x",
        "310104 19560701 1239",
        "310104-19560701-1239",
        "３１０１０４１９５６０７０１１２３９",  # full-width digits
        "310104********123X",  # the staff mask is not for the public either
    ],
)
def test_id_numbers_are_found(text):
    assert personal_numbers(text, today=TODAY) == {ID_NUMBER}


@pytest.mark.parametrize(
    "text",
    [
        "联系人 13912345678",
        "电话:139 1234 5678",
        "139-1234-5678",
        "+86 13912345678",
        "+8613912345678",
        "００８６１３９１２３４５６７８",
        "139****5678",
    ],
)
def test_mobile_numbers_are_found(text):
    assert personal_numbers(text, today=TODAY) == {MOBILE}


@pytest.mark.parametrize(
    "text",
    [
        "居委会办公电话 021-64881234",
        "64881234",
        "预算合计 1234567.89 元，共 139 户",
        "统一社会信用代码 91310104MA1FL5LX3X",
        "统一社会信用代码 913101041322327000",  # 91: no province, so no ID number
        "合同编号 2026030912345678",  # 16 digits
        "订单 123456789012345678901",  # 21 digits: no 18-character number stands alone
        "1391234567",  # 10 digits
        "239123456781",
        "会议于2026年3月9日召开，到会42户",
        "",
    ],
)
def test_other_numbers_pass(text):
    assert personal_numbers(text, today=TODAY) == set()


def test_a_birth_date_in_the_future_is_not_an_id_number():
    assert personal_numbers("310104203001011234", today=TODAY) == set()


def test_both_kinds_are_reported():
    assert personal_numbers(f"{VALID_ID} 13912345678", today=TODAY) == {ID_NUMBER, MOBILE}
