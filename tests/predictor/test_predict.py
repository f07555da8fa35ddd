"""predict / predict_window / usable_closes on synthetic candles: invalid input, windows, edge gate."""

import math
from decimal import Decimal

import msgspec
import numpy as np
import pytest
import talib

from services.predictor.config import PredictorConfig
from services.predictor.core import Prediction, predict, predict_window, usable_closes
from tests.predictor.helpers import BASE_MS, DOWN_SEED, UP_SEED, open_times, random_walk

CFG = PredictorConfig()


def up_closes():
    return random_walk(UP_SEED, 500)


def test_known_seeds_give_secondary_trades():
    up, down = predict(up_closes()), predict(random_walk(DOWN_SEED, 500))
    assert (up.signal, up.rule, down.signal, down.rule) == ("UP", "secondary_up", "DOWN", "secondary_down")
    assert Decimal("0.5") <= up.confidence <= Decimal("0.75") and up.confidence.as_tuple().exponent == -4
    assert up.btc_price == Decimal(repr(float(up_closes()[-1])))
    assert up.implied_probability is None and up.break_even_probability is None


def test_prediction_round_trips_through_msgspec_json():
    pred = predict(up_closes(), imbalance=0.25, up_ask=Decimal("0.51"), down_ask=Decimal("0.5"))
    assert msgspec.json.decode(msgspec.json.encode(pred), type=Prediction) == pred


def test_reported_indicators_are_talib_values_quantised_to_8dp():
    closes = up_closes()
    pred = predict(closes)
    rsi = talib.RSI(closes, timeperiod=14)[-1]
    macd, signal, _ = talib.MACD(closes, fastperiod=12, slowperiod=26, signalperiod=9)
    assert pred.rsi == Decimal(rsi).quantize(Decimal("1e-8"))
    assert pred.macd_line == Decimal(macd[-1]).quantize(Decimal("1e-8"))
    assert pred.macd_signal == Decimal(signal[-1]).quantize(Decimal("1e-8"))


def test_only_the_last_history_bars_closes_matter():
    closes = up_closes()
    padded = np.concatenate([np.full(300, np.nan), [-5.0, 1e9], closes])
    assert predict(padded) == predict(closes)


@pytest.mark.parametrize(
    ("closes", "rule"),
    [
        (random_walk(1, 499), "skip_insufficient_history"),
        (np.array([]), "skip_insufficient_history"),
        (np.where(np.arange(500) == 250, np.nan, up_closes()), "skip_invalid_input"),
        (np.where(np.arange(500) == 499, np.inf, up_closes()), "skip_invalid_input"),
        (np.where(np.arange(500) == 10, 0.0, up_closes()), "skip_invalid_input"),
        (np.where(np.arange(500) == 10, -1.0, up_closes()), "skip_invalid_input"),
        (np.ones((500, 2)), "skip_invalid_input"),
        (["abc"] * 500, "skip_invalid_input"),
        ([10**400] * 500, "skip_invalid_input"),
    ],
)
def test_bad_closes_skip_with_reason(closes, rule):
    pred = predict(closes)
    assert (pred.signal, pred.rule, pred.confidence) == ("SKIP", rule, Decimal(0))
    assert pred.reasoning.startswith(f"SKIP ({rule}):")


@pytest.mark.parametrize(
    "market",
    [
        {"imbalance": 1.0001},
        {"imbalance": -1.5},
        {"imbalance": math.nan},
        {"imbalance": math.inf},
        {"imbalance": True},
        {"imbalance": "0.2"},
        {"imbalance": Decimal("NaN")},
        {"imbalance": Decimal("sNaN")},
        {"imbalance": 10**400},
        {"imbalance": Decimal("1.01")},
        {"up_ask": Decimal("1")},
        {"up_ask": Decimal("0")},
        {"down_ask": Decimal("NaN")},
        {"down_ask": Decimal("sNaN")},
        {"down_ask": 0.5},
        {"btc_price": Decimal("-1")},
        {"btc_price": Decimal("Infinity")},
        {"btc_price": 60000.0},
    ],
)
def test_invalid_market_inputs_skip(market):
    pred = predict(up_closes(), **market)
    assert (pred.signal, pred.rule) == ("SKIP", "skip_invalid_input")


def test_imbalance_bounds_are_inclusive():
    for imbalance in (-1.0, 1.0, 0, np.float64(0.3), Decimal("-1"), Decimal("0.25")):
        assert predict(up_closes(), imbalance=imbalance).rule != "skip_invalid_input"


def test_decimal_imbalance_decides_like_the_float():
    as_decimal, as_float = predict(up_closes(), imbalance=Decimal("0.25")), predict(up_closes(), imbalance=0.25)
    assert as_decimal == as_float and as_decimal.order_book_imbalance == Decimal("0.25")


def test_flat_series_is_skipped_even_though_talib_rsi_is_zero():
    flat = np.full(500, 28080.0)  # like the zero-volume halt rows of 2023-03-24
    assert talib.RSI(flat, timeperiod=14)[-1] == 0.0  # TA-Lib: avgGain+avgLoss ~ 0 -> RSI 0, not 50
    pred = predict(flat)
    assert (pred.signal, pred.rule) == ("SKIP", "skip_flat_market")
    assert pred.rsi == 0 and pred.macd_line == 0 and pred.macd_signal == 0


def test_edge_gate_off_by_default_and_records_prices():
    pred = predict(up_closes(), up_ask=Decimal("0.55"), down_ask=Decimal("0.47"))
    assert pred.signal == "UP"
    assert (pred.implied_probability, pred.break_even_probability) == (Decimal("0.55"), Decimal("0.567325"))


def test_edge_gate_passes_when_edge_reaches_min_edge():
    base = predict(up_closes())
    ask = Decimal("0.5")  # break-even 0.5175
    exact_edge = base.confidence - Decimal("0.5175")
    passed = predict(up_closes(), up_ask=ask, cfg=PredictorConfig(min_edge=exact_edge))
    assert (passed.signal, passed.rule) == ("UP", "secondary_up")


def test_edge_gate_skips_below_min_edge():
    base = predict(up_closes())
    cfg = PredictorConfig(min_edge=base.confidence - Decimal("0.5175") + Decimal("0.0001"))
    gated = predict(up_closes(), up_ask=Decimal("0.5"), cfg=cfg)
    assert (gated.signal, gated.rule, gated.confidence) == ("SKIP", "skip_edge", Decimal(0))
    assert gated.break_even_probability == Decimal("0.5175") and "secondary_up" in gated.reasoning


def test_edge_gate_uses_the_chosen_sides_ask():
    cfg = PredictorConfig(min_edge=Decimal("0"))
    assert predict(up_closes(), up_ask=Decimal("0.9"), down_ask=Decimal("0.1"), cfg=cfg).rule == "skip_edge"
    assert predict(up_closes(), up_ask=Decimal("0.1"), down_ask=Decimal("0.9"), cfg=cfg).signal == "UP"


def test_edge_gate_without_a_price_skips():
    pred = predict(up_closes(), down_ask=Decimal("0.4"), cfg=PredictorConfig(min_edge=Decimal("0")))
    assert (pred.signal, pred.rule) == ("SKIP", "skip_no_price")


# --------------------------------------------------------------------------- windows


def test_usable_closes_stops_at_the_candle_closing_at_the_window_start():
    times, closes = open_times(700), random_walk(7, 700)
    window_start_s = BASE_MS // 1000 + 600 * 60  # candle 599 closes exactly at the start
    window = usable_closes(times, closes, window_start_s, 500)
    assert window.size == 500 and window[-1] == closes[599] and window[0] == closes[100]


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (lambda t, c: (t[::-1].copy(), c), "skip_invalid_input"),
        (lambda t, c: (np.where(np.arange(t.size) == 300, t[299], t), c), "skip_invalid_input"),
        (lambda t, c: (np.concatenate([t[:400], t[401:]]), np.concatenate([c[:400], c[401:]])), "skip_gap"),
        (lambda t, c: (t[:598], c[:598]), "skip_stale_data"),
        (lambda t, c: (t[200:], c[200:]), "skip_insufficient_history"),
        (lambda t, c: (t.astype(np.float64), c), "skip_invalid_input"),
        (lambda t, c: (t, c[:-1]), "skip_invalid_input"),
    ],
)
def test_predict_window_skips_unusable_candles(mutate, rule):
    times, closes = mutate(open_times(700), random_walk(7, 700))
    pred = predict_window(times, closes, window_start_s=BASE_MS // 1000 + 600 * 60)
    assert (pred.signal, pred.rule) == ("SKIP", rule)


@pytest.mark.parametrize("window_start_s", [BASE_MS // 1000 + 60, -300, 10**12, 1.5e9, True])
def test_predict_window_rejects_bad_window_starts(window_start_s):
    pred = predict_window(open_times(700), random_walk(7, 700), window_start_s=window_start_s)
    assert (pred.signal, pred.rule) == ("SKIP", "skip_invalid_input")


def test_predict_window_accepts_numpy_integer_window_start():
    times, closes = open_times(700), random_walk(UP_SEED, 700)
    window_start_s = BASE_MS // 1000 + 650 * 60
    assert predict_window(times, closes, window_start_s=np.int64(window_start_s)) == predict_window(
        times, closes, window_start_s=window_start_s
    )


def test_predict_window_equals_predict_on_the_slice():
    times, closes = open_times(700), random_walk(UP_SEED, 700)
    window_start_s = BASE_MS // 1000 + 650 * 60
    expected = predict(closes[150:650], imbalance=0.2, up_ask=Decimal("0.5"))
    got = predict_window(times, closes, window_start_s=window_start_s, imbalance=0.2, up_ask=Decimal("0.5"))
    assert got == expected
