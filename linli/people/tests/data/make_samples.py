"""Rebuilds the sample spreadsheets in this directory: `python make_samples.py`.

They match the tests' world (linli.conftest `world`: build_street(seed=7, size=TEST_SIZE)): the
committee 梧桐居民委员会 (code 310104090001) has the compounds below, each with buildings 1号楼
and 2号楼 and rooms 101室 102室 201室 202室. The compound names come from the seeded builder;
test_import.py checks they still match. Every person and number here is fictitious
(format-valid ID numbers made with pii.compose_id_number).
"""

import csv
import datetime as dt
import sys
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from linli.people.pii import compose_id_number  # noqa: E402

COMMITTEE_CODE = "310104090001"
COMPOUNDS = ["紫荆大楼", "漕溪大楼"]


def person_id(birth: dt.date, sequence: int) -> str:
    return compose_id_number("310104", birth, sequence)


# The residents both files share once fixed. (compound, building, room, name, ID, phone, ethnicity,
# registration, residence, relation, tags, move-in date)
PEOPLE = [
    [COMPOUNDS[0], "1号楼", "101室", "王建国", person_id(dt.date(1956, 3, 14), 11),
     13812345678.0, "汉族", "户籍", "人户一致", "户主", "党员", dt.datetime(2001, 5, 1)],  # noqa: DTZ001
    [COMPOUNDS[0], "1号楼", "101室", "李秀英", person_id(dt.date(1958, 9, 2), 22),
     "13912345678", "汉", "户籍", "人户一致", "配偶", "", "2001/5/1"],
    [COMPOUNDS[0], "1号", "102", "陈志强", "310104820617013",  # an old 15-digit card
     "021-64001234", "回族", "户籍", "人户一致", "户主", "", "2010年3月8日"],
    [COMPOUNDS[0], "2号楼", "201室", "周玉兰", person_id(dt.date(1938, 1, 20), 42),
     "", "汉族", "户籍", "人户一致", "户主", "独居老人、高龄老人", "1985-10-01"],
    [COMPOUNDS[1], "1幢", "202室", "刘洋", person_id(dt.date(1990, 12, 5), 53),
     "13700001111", "汉族", "来沪", "人在户不在", "租户", "", "2023.7.15"],
    [COMPOUNDS[1], "2", "101室", "赵敏", person_id(dt.date(1985, 4, 30), 64),
     "15000002222", "满族", "户籍", "户在人不在", "户主", "志愿者", 20150601],
    [COMPOUNDS[1], "2号楼", "102室", "孙浩", person_id(dt.date(2012, 8, 8), 75),
     "", "汉族", "户籍", "人户一致", "子女", "", ""],
]  # fmt: skip

MESSY_HEADERS = [" 小 区 ", "楼号", "室号*", "姓 名 *", "公民身份号码 *", "手机",
                 "民族", "户籍", "人户状态", "与户主的关系", "标签", "迁入日期"]  # fmt: skip
FIXED_HEADERS = ["小区", "楼栋", "室号", "姓名", "身份证号", "联系电话",
                 "民族", "户籍状态", "居住状态", "与户主关系", "标签", "迁入日期"]  # fmt: skip


def _bad_check_digit(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


# The messy file: the people above with deliberate errors in between (row numbers in comments;
# the header is row 1, an empty row 10 is skipped).
BAD_ROWS = {
    # row 3: a bad check digit
    3: [COMPOUNDS[0], "1号楼", "102室", "吴芳", _bad_check_digit(person_id(dt.date(1970, 2, 2), 84)),
        "13600003333", "汉族", "户籍", "人户一致", "户主", "", ""],
    # row 6: an unknown building
    6: [COMPOUNDS[0], "9号楼", "101室", "郑伟", person_id(dt.date(1975, 6, 6), 95),
        "", "汉族", "户籍", "人户一致", "户主", "", ""],
    # row 8: the same person as row 2
    8: [COMPOUNDS[1], "1号楼", "101室", "王建国", PEOPLE[0][4],
        "", "汉族", "户籍", "人户一致", "户主", "", ""],
    # row 9: no name
    9: [COMPOUNDS[1], "1号楼", "102室", "", person_id(dt.date(1966, 11, 11), 106),
        "", "汉族", "户籍", "人户一致", "户主", "", ""],
    # row 12: an unknown tag
    12: [COMPOUNDS[1], "2号楼", "201室", "冯丽", person_id(dt.date(1999, 9, 9), 118),
         "", "汉族", "来沪", "人在户不在", "户主", "不存在的标签", ""],
}  # fmt: skip
EXPECTED_ERRORS = {
    3: "check character",
    6: "Unknown building",
    8: "already on row 2",
    9: "missing",
    12: "Unknown tag",
}


def messy_rows() -> list[list | None]:
    """Data rows of the messy file from row 2 on; None is an empty row."""
    good = iter(PEOPLE)
    rows = []
    for number in range(2, 2 + len(PEOPLE) + len(BAD_ROWS) + 1):
        if number == 10:
            rows.append(None)
        elif number in BAD_ROWS:
            rows.append(BAD_ROWS[number])
        else:
            rows.append(next(good))
    return rows


def _xlsx(path: Path, headers: list, rows: list) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row or [])
    workbook.save(path)


def _csv(path: Path, headers: list, rows: list, encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_plain(v) for v in row])


def _plain(value) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return "" if value is None else str(value)


HOUSEHOLDS = [
    # (compound, building, room, household type, tenure, address)
    [COMPOUNDS[0], "1号楼", "101室", "家庭户", "自住", "梧桐路1弄1号101室"],
    [COMPOUNDS[0], "1号楼", "102室", "家庭户", "自住", "梧桐路1弄1号102室"],
    [COMPOUNDS[0], "2号楼", "201室", "家庭户", "自住", "梧桐路1弄2号201室"],
    [COMPOUNDS[0], "2号楼", "301", "家庭户", "出租", "梧桐路1弄2号301室"],  # a new dwelling
    [COMPOUNDS[1], "1号楼", "202室", "家庭户", "出租", "梧桐路8弄1号202室"],
    [COMPOUNDS[1], "2号楼", "101室", "家庭户", "自住", "梧桐路8弄2号101室"],
    [COMPOUNDS[1], "2号楼", "102室", "集体户", "其他", "梧桐路8弄2号102室"],
]
OWNER_HEADERS = ["小区", "楼栋", "室号", "业主类型", "业主姓名", "证件号码", "联系电话",
                 "产权份额", "投票代表", "取得日期", "建筑面积", "面积来源"]  # fmt: skip
OWNERS = [
    [COMPOUNDS[0], "1号楼", "101室", "个人", "王建国", PEOPLE[0][4], "13812345678",
     "0.5", "是", "2001-04-20", 72.35, "不动产登记"],
    [COMPOUNDS[0], "1号楼", "101室", "个人", "李秀英", PEOPLE[1][4], "13912345678",
     "50%", "否", "2001-04-20", 72.35, "不动产登记"],
    [COMPOUNDS[0], "1号楼", "102室", "个人", "王建国", PEOPLE[0][4], "13812345678",
     "", "是", "2015-09-30", 65.1, "实测"],
    [COMPOUNDS[1], "1号楼", "202室", "开发商", "梧桐置业有限公司", "91310104MA1FL0000X", "",
     "", "是", "", 88, "合同"],
]  # fmt: skip
ORGANISATION_HEADERS = ["组织类型", "法人类型", "名称", "统一社会信用代码", "地址", "办公电话",
                        "职责清单", "服务小区", "联系人", "联系人职务", "联系人电话"]  # fmt: skip
ORGANISATIONS = [
    ["业委会", "", f"{COMPOUNDS[0]}业主委员会", "", "梧桐路1弄1号", "", "召开业主大会",
     COMPOUNDS[0], "钱国强", "主任", "13611112222"],
    ["业委会", "", f"{COMPOUNDS[0]}业主委员会", "", "", "", "",
     "", "孙美华", "委员", "13611113333"],
    ["物业", "", "梧桐物业服务有限公司", "91310104MA1FL1234Y", "梧桐路3号", "021-64002000", "",
     f"{COMPOUNDS[0]}、{COMPOUNDS[1]}", "周经理", "项目经理", "13811114444"],
    ["社会组织", "社会服务机构", "梧桐社区睦邻中心", "", "", "", "为老服务",
     "", "", "", ""],
    ["群众活动团队", "", "梧桐合唱团", "", "", "", "",
     COMPOUNDS[1], "", "", ""],
]  # fmt: skip


def main() -> None:
    _xlsx(HERE / "residents_messy.xlsx", MESSY_HEADERS, messy_rows())
    _xlsx(HERE / "residents_fixed.xlsx", FIXED_HEADERS, PEOPLE)
    _csv(HERE / "residents.csv", FIXED_HEADERS, PEOPLE, "utf-8-sig")
    _csv(HERE / "residents_gb18030.csv", MESSY_HEADERS, PEOPLE, "gb18030")
    _xlsx(
        HERE / "households.xlsx", ["小区", "楼栋", "室号", "户别", "房屋使用", "地址"], HOUSEHOLDS
    )
    _xlsx(HERE / "owners.xlsx", OWNER_HEADERS, OWNERS)
    _csv(HERE / "organisations.csv", ORGANISATION_HEADERS, ORGANISATIONS, "utf-8-sig")


if __name__ == "__main__":
    main()
