"""The pure money arithmetic: parsing yuan and the three-way split (no database)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from linli.funds.money import (
    at_least_share,
    from_fen,
    parse_money,
    split_allocation,
    yuan,
)

D = Decimal


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("12000", "12000.00"),
        (" 12000.5 ", "12000.50"),
        (D("0.10"), "0.10"),
        (7, "7.00"),
        ("1E+2", "100.00"),
    ],
)
def test_yuan_parse_to_two_places(raw, value):
    parsed = parse_money(raw)
    assert parsed == D(value) and parsed.as_tuple().exponent == -2


@pytest.mark.parametrize("raw", ["", "abc", "0", "-1", "0.001", "1.005", "Infinity", "NaN", "1e13"])
def test_bad_amounts_are_refused(raw):
    with pytest.raises(ValidationError):
        parse_money(raw)


@pytest.mark.parametrize("raw", [0.1, 1.0, True])
def test_floats_and_bools_are_programming_errors(raw):
    with pytest.raises(TypeError):
        parse_money(raw)


def test_zero_only_where_allowed():
    assert parse_money("0", allow_zero=True) == D("0.00")


def test_yuan_and_fen():
    assert yuan(D("1234567.8")) == "¥1,234,567.80"
    assert from_fen(30) == D("0.30") and from_fen(None) == D("0.00") and from_fen(-5) == D("-0.05")


def test_shares_are_compared_inclusively_and_exactly():
    assert at_least_share(D("30.00"), D("100.00"), D("0.30"))
    assert not at_least_share(D("29.99"), D("100.00"), D("0.30"))
    assert not at_least_share(D("30.00"), D("100.01"), D("0.30"))  # 30.003 needed


def test_shares_out_of_range_are_refused():
    with pytest.raises(ValidationError):
        split_allocation(D("100"), office_share=D("0.8"), self_governance_share=D("0.3"))
    with pytest.raises(ValidationError):
        split_allocation(D("100"), office_share=D("-0.1"), self_governance_share=D("0.3"))


shares = st.integers(min_value=0, max_value=10_000).map(lambda n: D(n) / 10_000)
totals = st.integers(min_value=1, max_value=99_999_999_999_999).map(lambda fen: from_fen(fen))


@given(total=totals, office=shares, self_governance=shares)
def test_the_split_never_loses_a_fen_and_favours_self_governance(total, office, self_governance):
    if office + self_governance > 1:
        office = 1 - self_governance
    split = split_allocation(total, office_share=office, self_governance_share=self_governance)
    assert split.total == total
    for part in (split.office, split.community_service, split.self_governance):
        assert part >= 0 and part == part.quantize(D("0.01"))
    # Rounded down, each of the other two parts is within a fen below its exact share …
    assert 0 <= total * office - split.office < D("0.01")
    service = 1 - office - self_governance
    assert 0 <= total * service - split.community_service < D("0.01")
    # … so self-governance gets at least its share, and at most two fen more.
    assert at_least_share(split.self_governance, total, self_governance)
    assert split.self_governance - total * self_governance < D("0.02")
