"""The shortcuts of the cold path equal the per-window evaluation by the real code:
window classes (windows.py), the capital-free state memo (risk_split.StateRules.verdicts)
and the fill key that needs no book (montecarlo.fill_key)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from polybot.analysis.data_files import load_candle_file, run_starts
from polybot.analysis.montecarlo import World, fill_key
from polybot.analysis.risk_split import STATE_RULES, WINDOW_RULES, StateRules, book_key, ledger_state, run_rules
from polybot.analysis.venue import MIN_BEST_SIZE
from polybot.analysis.windows import volatility_breaches
from services.predictor.config import PredictorConfig
from services.risk.config import RiskConfig
from tests.analysis.conftest import HALT_FILE, SMALL_FILE, real_file

D = Decimal


def world_of(path_or_data, risk: RiskConfig = RiskConfig()) -> World:
    data = path_or_data if not isinstance(path_or_data, Path) else load_candle_file(path_or_data)
    return World.build([data], intervals=1, predictor=PredictorConfig(), risk=risk, seed=7)


def class_mismatches(windows, firsts) -> list:
    """Windows whose cached facts differ from what their own full signal gives."""
    cfg, bad = windows.risk, []
    for first in map(int, firsts):
        facts, signal = windows.facts(first), windows.signal(first)
        full = run_rules(WINDOW_RULES, signal, ledger_state(cfg, cfg.starting_capital, 0), cfg)
        got = (facts.start_s, facts.tradeable, facts.verdicts.evaluation.halt, facts.verdicts.denials,
               facts.verdicts.halts, facts.sizing_key)
        want = (signal.window_start, full.evaluation.approved, full.evaluation.halt, full.denials, full.halts,
                book_key(signal))
        if got != want:
            bad.append((first, got, want))
        elif facts.tradeable:
            book = signal.quote.book(facts.sizing_key[0])
            if (facts.tick_size, facts.book) != (book.tick_size, book) or book.asks[0].size < MIN_BEST_SIZE:
                bad.append((first, "book", book))
    return bad


def test_every_window_of_the_crash_month_and_the_halt_week_has_its_own_signals_facts(crash_world, crash_data,
                                                                                       data_dir):
    windows = crash_world.windows[0]
    assert class_mismatches(windows, run_starts(crash_data, 1, 500)) == []
    assert any(f.volatility_denied for f in windows.cached())  # the breaker's class is covered
    assert len(windows._classes) < 10                           # and the quote was built a few times only
    halt = world_of(real_file(data_dir, HALT_FILE))
    assert class_mismatches(halt.windows[0], run_starts(halt.files[0], 1, 500)) == []


def test_the_fair_value_at_every_window_start_is_one_half(crash_world, crash_data):
    """Why the quote's prices are not part of a window's class: the model's own fair_at."""
    market = crash_world.windows[0].market
    for first in run_starts(crash_data, 1, 500):
        window = market.window(int(crash_data.open_ms[first]) // 1000)
        assert market._model.fair_at(window, window.start_ms) == 0.5


def test_a_low_breaker_threshold_splits_the_windows_correctly(crash_data):
    windows = world_of(crash_data, RiskConfig(volatility_threshold=D("0.004"))).windows[0]
    assert class_mismatches(windows, run_starts(crash_data, 1, 500)[::3]) == []
    fired = [f.volatility_denied for f in windows.cached()]
    assert any(fired) and not all(fired)


def test_a_threshold_the_integers_cannot_hold_gives_every_window_its_own_class(data_dir):
    risk = RiskConfig(volatility_threshold=D("0.0031234567890123456789012345"))
    world = world_of(real_file(data_dir, SMALL_FILE), risk)
    windows = world.windows[0]
    assert windows.breaches is None
    firsts = run_starts(world.files[0], 1, 500)[:300]
    assert class_mismatches(windows, firsts) == []
    assert len(windows._classes) == len(firsts)


def synthetic_file(tmp_path: Path):
    """600 minutes around 20,000 USDT.  The bars before the window at 595 span exactly 3 % of
    their first open (no breach: the rule's ``>`` is strict); those before 590, a cent more."""
    t0, rows = 1_700_000_400_000, []
    for i in range(600):
        price = 2_000_000 + (i * 37) % 90 * 10        # cents
        o, h, l, c = price, price + 5, price - 5, price + (i % 3 - 1) * 5
        if 585 <= i < 595:
            o = h = l = c = 2_000_000
        if i in (587, 592):
            h = 2_060_001 if i == 587 else 2_060_000
        rows.append(f"{t0 + 60_000 * i},{o / 100:.2f},{h / 100:.2f},{l / 100:.2f},{c / 100:.2f},1.5\n")
    path = tmp_path / "synthetic.csv"
    path.write_text("".join(rows))
    return load_candle_file(path)


@pytest.mark.parametrize("window", [5, 3, 1, 7])  # 7: more than the signal's five bars (always denied)
def test_the_breaker_comparison_at_the_threshold_itself(tmp_path, window):
    data = synthetic_file(tmp_path)
    world = world_of(data, RiskConfig(volatility_window=window))
    breaches = volatility_breaches(data, world.risk)
    if window >= 3:
        assert (bool(breaches[590]), bool(breaches[595])) == (True, False)
    assert class_mismatches(world.windows[0], [585, 590, 595]) == []


@pytest.mark.parametrize("risk", [
    RiskConfig(), RiskConfig(streak_multiplier=D(1)),
    RiskConfig(streak_multiplier=D("2.5"), max_stake=D("40")),
    RiskConfig(base_stake=D("1.37"), min_notional=D("1.2"), max_drawdown=D("0.55")),
])
def test_state_verdicts_are_the_full_rules_at_every_capital(data_dir, risk):
    world = world_of(real_file(data_dir, SMALL_FILE), risk)
    for first in run_starts(world.files[0], 1, 500)[:40]:
        world.windows[0].facts(int(first))  # registers a signal per sizing key
    keys = world.state_rules.representatives
    assert {None, "Up", "Down"} <= {key[0] if key else None for key in keys}
    rng = np.random.default_rng(2)
    for ascending in (True, False):  # which capital fills the shared entry first must not matter
        rules = StateRules(risk)
        rules.representatives.update(keys)
        for key, signal in keys.items():
            for streak in range(12):
                for capital in sorted(capitals(rules, key, streak, rng), reverse=not ascending):
                    slim = rules.verdicts(key, capital, streak)
                    full = run_rules(STATE_RULES, signal, ledger_state(risk, capital, streak), risk)
                    assert summary(slim) == summary(full), (key, streak, capital)


def capitals(rules: StateRules, key, streak: int, rng) -> set[Decimal]:
    """Both sides of each bound the state rules have, and a spread of others."""
    cfg, free, cent = rules.cfg, rules.capital_free_from(key, streak), D("0.01")
    edges = {cfg.floor, cfg.floor + cfg.min_notional, free}
    near = {edge + k * cent for edge in edges for k in (-1, 0, 1)}
    return near | {free + D("13.37"), D(1000)} | {cfg.floor + D(int(c)) / 100 for c in rng.integers(1, 6000, 25)}


def summary(verdicts) -> tuple:
    e = verdicts.evaluation
    return e.approved, e.stake, e.halt, verdicts.denials, verdicts.halts


def test_a_fill_key_without_the_book_is_the_key_the_book_gives(crash_world, crash_data):
    windows = crash_world.windows[0]
    tradeable = [f for f in map(windows.facts, map(int, run_starts(crash_data, 1, 500)[::37])) if f.tradeable]
    assert {f.sizing_key[0] for f in tradeable} == {"Up", "Down"}
    for facts in tradeable:
        book = facts.book
        best = book.asks[0]
        for stake in map(D, ("1", "5", "25", "74.99", "75", "75.01", "76.5", "76.51", "400")):
            covered = best.size * best.price >= stake
            want = (best.price, book.tick_size, stake) if covered else (book.asks, book.tick_size, stake)
            assert fill_key(facts, stake) == want
