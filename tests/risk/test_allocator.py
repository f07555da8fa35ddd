"""The capital allocator: streak stake, fee bound, floor guard, venue minimums."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from services.risk.allocator import (
    CENT, allocate, fee_bound, fee_per_dollar, largest_safe_stake, minimum_stake, streak_stake,
)
from shared.messages import FeeSchedule
from tests.risk.stubs import config

D = Decimal
CRYPTO_FEE = FeeSchedule(rate=D("0.07"), exponent=1)


def test_allocator_when_streak_is_0_stakes_the_base_5():
    # Act
    sized = streak_stake(0, config())
    # Assert
    assert sized.stake == D("5")
    assert sized.explain(config()) == "stake 5 = 5 × 1.5^0"


def test_allocator_when_streak_is_2_stakes_11_25():
    # Act
    sized = streak_stake(2, config())
    # Assert
    assert sized.stake == D("11.25")
    assert sized.explain(config()) == "stake 11.25 = 5 × 1.5^2"


def test_allocator_when_streak_is_4_caps_25_3125_at_25():
    # Act
    sized = streak_stake(4, config())
    # Assert
    assert sized.uncapped == D("25.3125")
    assert sized.stake == D("25")
    assert sized.explain(config()) == "stake 25 = cap 25 (5 × 1.5^4 = 25.3125)"


def test_allocator_when_streak_is_3_rounds_16_875_down_to_16_87():
    # Act
    sized = streak_stake(3, config())
    # Assert
    assert sized.stake == D("16.87")
    assert "16.875, rounded down to cents" in sized.explain(config())


def test_allocator_when_streak_is_huge_stays_at_the_cap():
    assert streak_stake(10_000, config()).stake == D("25")


def test_allocator_uses_configured_base_multiplier_and_cap():
    # Arrange
    cfg = config(base_stake=D("2"), streak_multiplier=D("2"), max_stake=D("10"))
    # Act / Assert
    assert [streak_stake(n, cfg).stake for n in range(5)] == [D(2), D(4), D(8), D(10), D(10)]


def test_fee_per_dollar_with_exponent_1_is_rate_times_one_minus_ask():
    # fee = shares × 0.07 × p(1−p) and shares = stake / p  →  0.07 × (1 − p) per dollar
    assert fee_per_dollar(CRYPTO_FEE, D("0.51")) == D("0.0343")


def test_fee_per_dollar_with_exponent_2_takes_the_worst_price_the_order_could_walk_to():
    # Arrange: rate·p·(1−p)² peaks at p = 1/3, above the best ask of 0.10
    fee = FeeSchedule(rate=D("0.25"), exponent=2)
    # Act
    per_dollar = fee_per_dollar(fee, D("0.10"))
    # Assert
    assert per_dollar > D("0.25") * D("0.10") * D("0.81")
    assert per_dollar.quantize(D("1e-20")) == (D(1) / D(27)).quantize(D("1e-20"))  # 0.25 · ⅓ · (⅔)²


def test_fee_bound_rounds_up_to_the_venues_5_decimals():
    assert fee_bound(D("11.25"), D("0.0343")) == D("0.38588")  # 0.385875 ↑


def test_floor_guard_with_room_to_spare_keeps_the_streak_stake():
    # Act
    a = allocate(config(), D("100"), 2, ask=D("0.51"), fee=CRYPTO_FEE)
    # Assert
    assert (a.stake, a.fee, a.headroom) == (D("11.25"), D("0.38588"), D("30"))


def test_floor_guard_counts_the_fee_so_a_total_loss_stops_at_the_floor():
    # Arrange: 81.25 leaves exactly 11.25 above the $70 floor: the stake alone would fit
    capital = D("81.25")
    # Act
    a = allocate(config(), capital, 2, ask=D("0.51"), fee=CRYPTO_FEE)
    # Assert
    assert a.stake == D("10.87")
    assert capital - a.stake - a.fee >= D("70")
    next_cent = a.stake + CENT
    assert capital - next_cent - fee_bound(next_cent, a.per_dollar) < D("70")


def test_floor_guard_at_the_floor_leaves_no_stake():
    assert allocate(config(), D("70"), 0, ask=D("0.51"), fee=CRYPTO_FEE).stake == 0


def test_allocation_without_a_priced_book_has_no_stake():
    a = allocate(config(), D("100"), 1)
    assert (a.stake, a.ask, a.streak.stake) == (0, None, D("7.50"))


@pytest.mark.parametrize(("ask", "expected"), [("0.51", "2.55"), ("0.10", "1"), ("0.999", "5.00")])
def test_minimum_stake_is_the_larger_of_1_dollar_and_5_shares_at_the_ask(ask, expected):
    assert minimum_stake(D(ask), D("5"), D("1")) == D(expected)


@settings(max_examples=300, deadline=None)
@given(headroom=st.decimals(min_value="0", max_value="60", places=5),
       desired=st.decimals(min_value="0.01", max_value="25", places=2),
       ask=st.decimals(min_value="0.01", max_value="0.99", places=2))
def test_floor_guard_never_lets_stake_plus_fee_exceed_the_headroom(headroom, desired, ask):
    # Arrange
    per_dollar = fee_per_dollar(CRYPTO_FEE, ask)
    # Act
    stake = largest_safe_stake(desired, headroom, per_dollar)
    # Assert: safe, whole cents, and the largest such amount
    assert stake + (fee_bound(stake, per_dollar) if stake else 0) <= max(headroom, D(0))
    assert stake == stake.quantize(CENT) and 0 <= stake <= desired
    if stake < desired:
        bigger = stake + CENT
        assert bigger + fee_bound(bigger, per_dollar) > headroom
