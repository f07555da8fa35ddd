"""The vectorised predictor path (TA-Lib once per file) decides exactly as predict_window."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from polybot.analysis import signals
from polybot.analysis.data_files import load_candle_file, run_starts
from polybot.analysis.signals import compute_series, core_call, window_call
from services.predictor.config import PredictorConfig
from tests.analysis.conftest import HALT_FILE, SMALL_FILE, real_file


def decisions_agree(data, cfg, firsts) -> list:
    series = compute_series(data, cfg)
    mismatches = []
    for first in firsts:
        fast, core = window_call(data, series, first, cfg), core_call(data, first, cfg)
        if (fast.signal, fast.rule) != (core.signal, core.rule):
            mismatches.append((int(first), fast, core))
    return mismatches


@pytest.mark.parametrize("profile", ["default", "strict"])
def test_every_window_of_a_file_matches_predict_window(data_dir, profile):
    data = load_candle_file(real_file(data_dir, SMALL_FILE))
    cfg = PredictorConfig(profile=profile)
    assert decisions_agree(data, cfg, run_starts(data, 1, cfg.history_bars)) == []


def test_flat_halt_rows_and_a_sample_of_the_crash_month(data_dir, crash_data):
    cfg = PredictorConfig()
    halt = load_candle_file(real_file(data_dir, HALT_FILE))
    assert decisions_agree(halt, cfg, run_starts(halt, 1, cfg.history_bars)[-150:]) == []  # flat tail
    firsts = run_starts(crash_data, 1, cfg.history_bars)
    sample = np.random.default_rng(5).choice(firsts, size=400, replace=False)
    assert decisions_agree(crash_data, cfg, sample) == []


def test_full_history_values_equal_the_500_bar_values(crash_data):
    """The warm-up claim itself: far below the margins that send a window to the core."""
    cfg = PredictorConfig()
    series = compute_series(crash_data, cfg)
    for first in run_starts(crash_data, 1, cfg.history_bars)[::97]:
        window = crash_data.closes[first - cfg.history_bars:first]
        rsi = talib.RSI(window, cfg.rsi_period)[-1]
        macd, signal, _ = talib.MACD(window, cfg.macd_fast, cfg.macd_slow, cfg.macd_signal)
        assert abs(rsi - series.rsi[first - 1]) < signals.RSI_MARGIN / 100
        assert abs(macd[-1] - series.macd[first - 1]) < signals.MACD_MARGIN / 100
        assert abs(signal[-1] - series.signal[first - 1]) < signals.MACD_MARGIN / 100


def test_near_threshold_windows_fall_back_to_the_core(crash_data, monkeypatch):
    monkeypatch.setattr(signals, "RSI_MARGIN", 100.0)  # every window is "near" a threshold now
    cfg = PredictorConfig()
    firsts = run_starts(crash_data, 1, cfg.history_bars)[:50]
    series = compute_series(crash_data, cfg)
    calls = [window_call(crash_data, series, first, cfg) for first in firsts]
    assert all(call.via_core for call in calls)
    assert decisions_agree(crash_data, cfg, firsts) == []
