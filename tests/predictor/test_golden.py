"""Golden test on real Binance data: the replay's decisions equal an independent recomputation.

The expected side is rebuilt here from the written rule (docs/strategy.md) with
TA-Lib directly; nothing from services.predictor.core is used for it.
"""

import csv
import io
import json
from decimal import Decimal

import numpy as np
import pytest
import talib

from services.predictor.replay import run_predict

HISTORY, RSI_N, FAST, SLOW, SIGNAL = 500, 14, 12, 26, 9
OVERSOLD, OVERBOUGHT = 30.0, 70.0
GOLDEN_FILES = [
    "BTCUSDT-1m-2021-04-25_2021-04-29.csv",  # has a strict_up window
    "BTCUSDT-1m-2023-03-17_2023-03-24.csv",  # ends with the flat zero-volume halt rows
]


def load_closes(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    times = np.array([int(row[0]) for row in rows], dtype=np.int64)
    assert np.all(np.diff(times) == 60_000), "golden files are contiguous"
    return times, np.array([float(row[4]) for row in rows])


def expected_rule(w, profile):
    """(rule, confidence) for one window of 500 closes, straight from the written rule."""
    rsi = talib.RSI(w, timeperiod=RSI_N)[-1]
    macd, sig, hist = talib.MACD(w, fastperiod=FAST, slowperiod=SLOW, signalperiod=SIGNAL)
    m, s, m_prev, s_prev = macd[-1], sig[-1], macd[-2], sig[-2]
    if w[-RSI_N - 1 :].min() == w[-RSI_N - 1 :].max():
        return "skip_flat_market", None
    if rsi < OVERSOLD and m_prev <= s_prev and m > s:
        return "strict_up", (OVERSOLD - rsi) / OVERSOLD
    if rsi > OVERBOUGHT and m_prev >= s_prev and m < s:
        return "strict_down", (rsi - OVERBOUGHT) / (100 - OVERBOUGHT)
    if profile == "strict":
        return "skip_no_signal", None
    h = m - s
    if h > 0 and 50 < rsi < OVERBOUGHT:
        return "secondary_up", (rsi - 50) / (OVERBOUGHT - 50)
    if h < 0 and OVERSOLD < rsi < 50:
        return "secondary_down", (50 - rsi) / (50 - OVERSOLD)
    return ("skip_no_momentum" if h == 0 else "skip_disagree"), None


def expected_confidence(w, score):
    """0.5 + 0.25 * mean(rsi_score, macd_score, obi_score=0 in replay), 4 dp; 0 for SKIP."""
    if score is None:
        return Decimal(0)
    _, _, hist = talib.MACD(w, fastperiod=FAST, slowperiod=SLOW, signalperiod=SIGNAL)
    scale = np.mean(np.abs(hist[SLOW + SIGNAL - 2 :]))
    macd_score = min(1.0, abs(hist[-1]) / (2.0 * scale))
    strength = (min(1.0, max(0.0, score)) + macd_score + 0.0) / 3.0
    return Decimal(0.5 + 0.25 * strength).quantize(Decimal("1e-4"))


def expected_lines(times, closes, profile):
    for i in range(HISTORY - 1, times.size):
        close_ms = int(times[i]) + 60_000
        if close_ms % 300_000:
            continue
        w = closes[i + 1 - HISTORY : i + 1]
        rule, score = expected_rule(w, profile)
        signal = "UP" if rule.endswith("_up") else "DOWN" if rule.endswith("_down") else "SKIP"
        rsi = Decimal(talib.RSI(w, timeperiod=RSI_N)[-1]).quantize(Decimal("1e-8"))
        conf = expected_confidence(w, score) if signal != "SKIP" else Decimal(0)
        yield close_ms // 1000, signal, rule, rsi, conf


@pytest.mark.parametrize("name", GOLDEN_FILES)
@pytest.mark.parametrize("profile", ["default", "strict"])
def test_replay_matches_independent_talib_recomputation(data_file, name, profile):
    path = data_file(name)
    times, closes = load_closes(path)
    out = io.StringIO()
    assert run_predict(str(path), profile, out=out) == 0
    got = [json.loads(line, parse_float=Decimal) for line in out.getvalue().splitlines()]
    expected = list(expected_lines(times, closes, profile))

    assert len(got) == len(expected) > 1000
    for line, (start_s, signal, rule, rsi, conf) in zip(got, expected):
        assert np.datetime64(line["window_start"].rstrip("Z"), "s").astype(np.int64) == start_s
        assert (line["signal"], line["rule"], line["rsi"], line["confidence"]) == (signal, rule, rsi, conf), line
    rules = {line["rule"] for line in got}
    if name.startswith("BTCUSDT-1m-2021-04-25"):
        assert "strict_up" in rules  # the strict path is exercised on real data
    if name.startswith("BTCUSDT-1m-2023-03-17"):
        assert "skip_flat_market" in rules
