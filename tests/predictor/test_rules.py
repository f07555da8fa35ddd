"""The decision rules on hand-made indicator values: exact threshold and crossover edges."""

from decimal import Decimal

import pytest

from services.predictor.config import PredictorConfig
from services.predictor.core import Decision, Indicators, break_even_probability, confidence, decide

DEFAULT = PredictorConfig()
STRICT = PredictorConfig(profile="strict")


def ind(rsi, macd, signal, macd_prev, signal_prev, hist_scale=1.0):
    return Indicators(rsi, macd, signal, macd_prev, signal_prev, hist_scale)


# A bullish crossover with equal values at t-1 (macd[t-1] <= signal[t-1]) and one with equal values at t.
BULL_CROSS_FROM_EQUAL = dict(macd=1.0, signal=0.5, macd_prev=0.2, signal_prev=0.2)
BEAR_CROSS_FROM_EQUAL = dict(macd=0.4, signal=0.5, macd_prev=0.7, signal_prev=0.7)


@pytest.mark.parametrize("cfg", [STRICT, DEFAULT])
def test_strict_up_fires_below_oversold_with_bullish_crossover(cfg):
    decision = decide(ind(29.99, **BULL_CROSS_FROM_EQUAL), None, cfg)
    assert (decision.signal, decision.rule) == ("UP", "strict_up")


@pytest.mark.parametrize("cfg", [STRICT, DEFAULT])
def test_strict_down_fires_above_overbought_with_bearish_crossover(cfg):
    decision = decide(ind(70.01, **BEAR_CROSS_FROM_EQUAL), None, cfg)
    assert (decision.signal, decision.rule) == ("DOWN", "strict_down")


def test_rsi_exactly_at_thresholds_does_not_fire():
    assert decide(ind(30.0, **BULL_CROSS_FROM_EQUAL), None, STRICT).rule == "skip_no_signal"
    assert decide(ind(70.0, **BEAR_CROSS_FROM_EQUAL), None, STRICT).rule == "skip_no_signal"


def test_equal_macd_and_signal_at_t_is_not_a_crossover():
    assert decide(ind(20.0, macd=0.5, signal=0.5, macd_prev=0.2, signal_prev=0.3), None, STRICT).signal == "SKIP"
    assert decide(ind(80.0, macd=0.5, signal=0.5, macd_prev=0.7, signal_prev=0.3), None, STRICT).signal == "SKIP"


def test_macd_already_above_signal_is_not_a_crossover():
    assert decide(ind(20.0, macd=1.0, signal=0.5, macd_prev=0.4, signal_prev=0.3), None, STRICT).signal == "SKIP"


def test_strict_profile_ignores_imbalance():
    against = decide(ind(25.0, **BULL_CROSS_FROM_EQUAL), -1.0, STRICT)
    assert against.rule == "strict_up"


def test_secondary_up_when_histogram_and_rsi_agree_and_imbalance_is_neutral():
    for imbalance in (None, 0.0, -0.0999, 0.5):
        decision = decide(ind(55.0, macd=2.0, signal=1.0, macd_prev=1.5, signal_prev=0.9), imbalance, DEFAULT)
        assert (decision.signal, decision.rule) == ("UP", "secondary_up"), imbalance


def test_secondary_down_mirrors_up():
    decision = decide(ind(45.0, macd=-2.0, signal=-1.0, macd_prev=-1.5, signal_prev=-0.9), None, DEFAULT)
    assert (decision.signal, decision.rule) == ("DOWN", "secondary_down")


@pytest.mark.parametrize(
    ("rsi", "macd", "imbalance"),
    [
        (45.0, 2.0, None),  # histogram up, RSI below 50
        (50.0, 2.0, None),  # RSI exactly 50 is on neither side
        (70.0, 2.0, None),  # RSI at overbought: left to the strict rule
        (55.0, 2.0, -0.1),  # imbalance exactly at the bearish threshold contradicts UP
        (55.0, 0.0, 0.5),  # histogram below zero with RSI above 50 (macd 0 < signal 1)
        (45.0, -2.0, 0.1),  # DOWN contradicted by imbalance at the bullish threshold
    ],
)
def test_secondary_skips_when_inputs_disagree(rsi, macd, imbalance):
    signal = 1.0 if macd >= 0 else -1.0
    decision = decide(ind(rsi, macd=macd, signal=signal, macd_prev=0.0, signal_prev=0.0), imbalance, DEFAULT)
    assert (decision.signal, decision.rule) == ("SKIP", "skip_disagree")


def test_zero_histogram_is_no_momentum():
    flat_macd = ind(55.0, macd=1.0, signal=1.0, macd_prev=1.0, signal_prev=1.0)
    assert decide(flat_macd, None, DEFAULT).rule == "skip_no_momentum"


def test_confidence_formula_and_bounds():
    strong = ind(65.0, macd=3.0, signal=1.0, macd_prev=0, signal_prev=0, hist_scale=1.0)  # |hist| 2 = 2*scale -> 1
    decision = Decision("UP", "secondary_up", "", rsi_score=(65 - 50) / 20)
    # mean(0.75, 1.0, 0.4) = 0.71666.. -> 0.5 + 0.25*that = 0.679166.. -> 0.6792
    assert confidence(decision, strong, 0.4) == Decimal("0.6792")
    assert confidence(decision, strong, -0.4) == Decimal("0.6458")  # imbalance against scores 0, not negative
    assert confidence(Decision("DOWN", "strict_down", "", rsi_score=5.0), strong, -3.0) == Decimal("0.75")
    assert confidence(Decision("UP", "secondary_up", "", 0.0), strong._replace(hist_scale=0.0), None) == Decimal("0.5")


def test_break_even_probability_includes_the_taker_fee():
    assert break_even_probability(Decimal("0.5"), Decimal("0.07")) == Decimal("0.5175")
    assert break_even_probability(Decimal("0.55"), Decimal("0.07")) == Decimal("0.567325")
    assert break_even_probability(Decimal("0.5"), Decimal("0")) == Decimal("0.5")
    # Exact cost 0.348991992 is rounded up at 8 dp (half-even would give ...199): never below the cost.
    assert break_even_probability(Decimal("0.333"), Decimal("0.072")) == Decimal("0.34899200")
