"""Each risk rule on its own, then ``evaluate`` collecting every reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.risk.context import Kind
from services.risk.handler import evaluate
from services.risk.rules import (
    DataCompleteRule, DeadlineRule, FloorGuardRule, HaltedRule, MaxDrawdownRule, MinNotionalRule,
    MinSharesRule, QuoteRule, SkipSignalRule, StartingCapitalRule, StreakStakeRule, VolatilityRule,
)
from tests.risk.stubs import bars, config, context, quote, signal, state, window_start

D = Decimal
START = window_start(1)


# -- halts ---------------------------------------------------------------------------

def test_halted_rule_when_ledger_is_halted_denies_with_the_halt_reason():
    # Arrange
    ctx = context(st=state(halted=True, halt_reason="max drawdown: capital 69 <= floor 70"))
    # Act
    verdict = HaltedRule().check(ctx)
    # Assert
    assert verdict.kind is Kind.DENY
    assert "max drawdown: capital 69 <= floor 70" in verdict.reason and "reset-halt" in verdict.reason


def test_halted_rule_when_not_halted_says_nothing():
    assert HaltedRule().check(context()) is None


@pytest.mark.parametrize("capital", ["70", "69.99", "12"])
def test_max_drawdown_when_capital_is_at_or_below_70_halts(capital):
    verdict = MaxDrawdownRule().check(context(st=state(capital=capital)))
    assert verdict.kind is Kind.HALT and "floor 70" in verdict.reason


def test_max_drawdown_when_room_above_the_floor_fits_the_smallest_order_allows():
    assert MaxDrawdownRule().check(context(st=state(capital="71"))) is None


@pytest.mark.parametrize("capital", ["70.01", "70.99"])
def test_max_drawdown_when_no_order_fits_above_the_floor_halts(capital):
    # the floor guard stops capital just above 70: stuck there, the limit is reached in all but name
    verdict = MaxDrawdownRule().check(context(st=state(capital=capital)))
    assert verdict.kind is Kind.HALT and "less than the smallest order (1)" in verdict.reason


def test_max_drawdown_uses_the_configured_fraction():
    cfg = config(max_drawdown=D("0.10"))
    assert MaxDrawdownRule().check(context(st=state(capital="90"), cfg=cfg)).kind is Kind.HALT


def test_starting_capital_rule_when_ledger_disagrees_with_config_denies():
    verdict = StartingCapitalRule().check(context(st=state(starting="200", capital="200")))
    assert verdict.kind is Kind.DENY and "differs from STARTING_CAPITAL 100" in verdict.reason


# -- signal and data -----------------------------------------------------------------

def test_skip_signal_is_denied_with_the_predictors_reasoning():
    verdict = SkipSignalRule().check(context(signal(side="SKIP", reasoning="RSI 50 is neutral")))
    assert verdict.kind is Kind.DENY and verdict.reason == "predictor chose SKIP: RSI 50 is neutral"


def test_incomplete_data_is_denied_with_every_data_reason():
    sig = signal(data_complete=False, data_reasons=("no order book", "start price missing"))
    verdict = DataCompleteRule().check(context(sig))
    assert verdict.reason == "incomplete market data: no order book; start price missing"


def test_quote_rule_when_quote_is_missing_denies():
    assert QuoteRule().check(context(signal(quote_=None))).reason == "no Polymarket quote for this window"


def test_quote_rule_when_market_is_closed_and_book_empty_gives_both_reasons():
    sig = signal(quote_=quote(START, up_asks=(), accepting=False))
    reason = QuoteRule().check(context(sig)).reason
    assert "not accepting orders" in reason and "no asks in the Up book" in reason


def test_quote_rule_when_quote_is_for_another_window_denies():
    sig = signal(quote_=quote(START + 300))
    assert "quote is for window" in QuoteRule().check(context(sig)).reason


def test_quote_rule_checks_the_chosen_outcomes_book():
    sig = signal(side="DOWN", quote_=quote(START, up_asks=()))  # only the Up book is empty
    assert QuoteRule().check(context(sig)) is None


@pytest.mark.parametrize(("now", "denied"), [(START + 59.999, False), (START + 60, True), (START + 90, True)])
def test_deadline_rule_denies_from_the_entry_deadline_on(now, denied):
    verdict = DeadlineRule().check(context(now=now))
    assert (verdict is not None) is denied
    if denied:
        assert verdict.reason.startswith(f"entry deadline {START + 60} passed")


# -- volatility ----------------------------------------------------------------------

def test_volatility_of_exactly_3_percent_is_allowed():
    # Arrange: (61800 − 60000) / 60000 = 3% on the dot
    sig = signal(bars_=bars(START, first_open="60000", high="61800", low="60000"))
    # Act
    verdict = VolatilityRule().check(context(sig))
    # Assert
    assert verdict.kind is Kind.INFO and verdict.reason.startswith("volatility 3% over the last 5")


def test_volatility_just_above_3_percent_trips_the_circuit_breaker():
    sig = signal(bars_=bars(START, first_open="60000", high="61800.01", low="60000"))
    verdict = VolatilityRule().check(context(sig))
    assert verdict.kind is Kind.DENY and "exceeds 3%: circuit breaker" in verdict.reason


def test_volatility_uses_only_the_last_window_of_bars():
    # Arrange: a wild bar six minutes ago is outside the 5-bar window
    old_spike = bars(START - 300, high="90000")
    sig = signal(bars_=old_spike + bars(START))
    # Act / Assert
    assert VolatilityRule().check(context(sig)).kind is Kind.INFO


def test_volatility_window_and_threshold_are_configurable():
    cfg = config(volatility_window=3, volatility_threshold=D("0.002"))
    verdict = VolatilityRule().check(context(cfg=cfg))
    assert verdict.reason == "volatility 0.25% over the last 3 1-minute bars exceeds 0.2%: circuit breaker"


@pytest.mark.parametrize(("recent", "problem"), [
    (bars(START, count=4), "needs 5 bars, got 4"),
    ((), "needs 5 bars, got 0"),
    (bars(START, newest_open_ms=START * 1000 - 120_000), "newest bar opened at"),
    (bars(START)[:2] + bars(START)[3:] + bars(START)[-1:], "not consecutive"),
])
def test_volatility_with_missing_or_stale_bars_denies(recent, problem):
    verdict = VolatilityRule().check(context(signal(bars_=recent)))
    assert verdict.kind is Kind.DENY and "stale or incomplete bars" in verdict.reason and problem in verdict.reason


# -- sizing --------------------------------------------------------------------------

def test_streak_stake_rule_explains_the_stake():
    assert StreakStakeRule().check(context(st=state(streak=2))).reason == "stake 11.25 = 5 × 1.5^2"


def test_floor_guard_rule_when_it_cuts_the_stake_says_so():
    verdict = FloorGuardRule().check(context(st=state(capital="81.25", streak=2)))
    assert verdict.kind is Kind.INFO
    assert verdict.reason.startswith("floor guard cut the stake from 11.25: a total loss costs at most 11.24285")


def test_floor_guard_rule_when_nothing_fits_denies():
    verdict = FloorGuardRule().check(context(st=state(capital="70.005")))
    assert verdict.kind is Kind.DENY and "leaves no room" in verdict.reason


def test_min_notional_rule_when_floor_guard_leaves_under_1_dollar_denies():
    # Arrange: 0.90 above the floor; at ask 0.10 five shares cost only 0.50
    sig = signal(quote_=quote(START, up_asks=(("0.10", "100"),)))
    ctx = context(sig, state(capital="70.90"))
    # Act
    verdict = MinNotionalRule().check(ctx)
    # Assert
    assert ctx.allocation.stake == D("0.84")
    assert verdict.reason == "stake 0.84 is below the venue's $1 minimum for a marketable BUY"
    assert MinSharesRule().check(ctx) is None


def test_min_shares_rule_when_stake_buys_fewer_than_5_shares_denies():
    # Arrange: 2 above the floor → stake 1.93 ≥ $1 but only 3.78 shares at 0.51
    ctx = context(st=state(capital="72"))
    # Act
    verdict = MinSharesRule().check(ctx)
    # Assert
    assert MinNotionalRule().check(ctx) is None
    assert verdict.reason == ("stake 1.93 buys 3.78 shares at 0.51, below the venue minimum of 5 shares "
                              "(needs >= 2.55)")


def test_min_shares_rule_uses_the_books_minimum_size():
    ctx = context(signal(quote_=quote(START, min_order_size="1")), state(capital="72"))
    assert MinSharesRule().check(ctx) is None


# -- all rules together --------------------------------------------------------------

def test_evaluate_when_everything_is_wrong_collects_every_reason():
    # Arrange
    sig = signal(side="SKIP", data_complete=False, data_reasons=("feed down",), bars_=())
    st = state(capital="65", halted=True, halt_reason="operator stop")
    # Act
    ev = evaluate(context(sig, st, now=START + 61))
    # Assert
    assert not ev.approved and ev.halt and ev.stake == 0
    expected = ["max drawdown: capital 65", "trading halted: operator stop", "predictor chose SKIP",
                "incomplete market data: feed down", "entry deadline", "volatility unknown", "stake 5 ="]
    assert len(ev.reasons) == len(expected)
    assert all(r.startswith(e) for r, e in zip(ev.reasons, expected)), ev.reasons


def test_evaluate_approval_carries_its_explanations():
    ev = evaluate(context(st=state(streak=2)))
    assert ev.approved and not ev.halt and ev.stake == D("11.25")
    assert ev.reasons[0].startswith("volatility 0.25% over the last 5 1-minute bars")
    assert ev.reasons[1] == "stake 11.25 = 5 × 1.5^2"
    assert ev.reasons[2].startswith("a total loss costs at most 11.63588")


def test_evaluate_down_signal_sizes_against_the_down_book():
    # Arrange: the Down ask 0.50 → fee 0.07 × 0.5 per dollar
    ctx = context(signal(side="DOWN"))
    # Act
    ev = evaluate(ctx)
    # Assert
    assert ev.approved and ctx.allocation.ask == D("0.50") and ctx.allocation.fee == D("0.175")
