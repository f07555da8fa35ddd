"""The Monte Carlo: many runs of ``intervals`` consecutive windows drawn (seeded) from
real candle files, each folded exactly as the pipeline would: predictor → risk rules
(window half cached per window, state half memoised on capital/streak) → the
simulator's FOK fill → the ledger's settlement, capital in exact Decimal.

Everything that does not depend on a run's capital is computed once per window
(windows.py); the per-run loop is dictionary look-ups and Decimal additions.
"""

from __future__ import annotations

import gc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, NamedTuple

import numpy as np

from polybot.analysis.data_files import CandleFile, run_starts
from polybot.analysis.risk_split import StateRules, first_denial
from polybot.analysis.settlement import Settler
from polybot.analysis.venue import MIN_BEST_SIZE, SimMarket
from polybot.analysis.windows import VOLATILITY, FileWindows, WindowFacts
from services.executor.brokers import Fill
from services.predictor.config import PredictorConfig
from services.risk.config import RiskConfig

# Denials that mean "too close to the floor to trade" (the halt included).
FLOOR_LABELS = frozenset({"max drawdown halt", "floor guard", "below $1 minimum", "below 5-share minimum"})
HALTED = "halted"
FOK_KILLED = "FOK killed"


class Step(NamedTuple):
    """One interval of a traced run (tests and the golden comparison read these)."""

    interval: int
    window_start: int
    signal: str
    capital_before: Decimal
    streak_before: int
    stake: Decimal          # 0 when skipped
    pnl: Decimal
    outcome: str            # WIN | LOSS | VOID | SKIP
    skip: str | None        # the first denying rule's label, for a skip


@dataclass
class RunResult:
    file: int
    first: int                       # candle index of the run's first window
    final_capital: Decimal
    trades: int = 0
    wins: int = 0
    losses: int = 0
    fees: Decimal = Decimal(0)
    staked: Decimal = Decimal(0)
    longest_losing_streak: int = 0
    halted: bool = False
    floor_bound: bool = False        # a wanted trade was cut off by the floor guard / venue minimums
    min_capital: Decimal = Decimal(0)
    max_drawdown: Decimal = Decimal(0)  # largest fall from a running peak, as a fraction of it
    skips: Counter = field(default_factory=Counter)
    volatility_fired: int = 0        # windows where the breaker denied (whatever else did)
    volatility_blocked: int = 0      # ... and it was the only window rule against an UP/DOWN signal
    steps: list[Step] | None = None


@dataclass
class World:
    files: list[CandleFile]
    windows: list[FileWindows]
    starts: list[np.ndarray]         # eligible first-window candle indexes per file
    intervals: int
    risk: RiskConfig
    state_rules: StateRules
    settler: Settler = field(default_factory=Settler)
    fills: dict = field(default_factory=dict)

    @classmethod
    def build(cls, files: list[CandleFile], *, intervals: int, predictor: PredictorConfig,
              risk: RiskConfig, seed: int) -> "World":
        state_rules = StateRules(risk)
        windows = [FileWindows.build(f, predictor, risk, seed, state_rules.representatives) for f in files]
        starts = [run_starts(f, intervals, predictor.history_bars) for f in files]
        return cls(files, windows, starts, intervals, risk, state_rules)

    @property
    def eligible(self) -> int:
        return sum(len(s) for s in self.starts)

    def plan(self, runs: int, seed: int) -> list[tuple[int, int]]:
        """``runs`` (file, first candle) pairs drawn uniformly from all eligible starts."""
        if self.eligible == 0:
            raise ValueError(f"no run of {self.intervals} windows with enough history fits in the data")
        picks = np.random.default_rng(seed).integers(0, self.eligible, size=runs)
        bounds = np.cumsum([len(s) for s in self.starts])
        files = np.searchsorted(bounds, picks, side="right")
        offsets = picks - np.concatenate(([0], bounds[:-1]))[files]
        return [(int(f), int(self.starts[f][o])) for f, o in zip(files, offsets)]

    def fill(self, facts: WindowFacts, stake: Decimal) -> Fill | None:
        key = fill_key(facts, stake)
        if key not in self.fills:
            self.fills[key] = SimMarket.fill(facts.book, stake)
        return self.fills[key]


def fill_key(facts: WindowFacts, stake: Decimal) -> tuple:
    """What a FOK BUY's fill depends on.  When the best level alone covers the stake, the
    limit price is that level's (executor.limit_price) and the match stops there
    (sim.matching), so only its price counts; otherwise the whole ask side does.

    The best level of a window-start book holds at least MIN_BEST_SIZE shares (venue.py),
    so for the usual stakes the window's own book is not even built."""
    best_ask = facts.sizing_key[1]
    if MIN_BEST_SIZE * best_ask >= stake:
        return (best_ask, facts.tick_size, stake)
    book = facts.book
    best = book.asks[0] if book.asks else None
    if best is not None and best.size * best.price >= stake:
        return (best.price, book.tick_size, stake)
    return (book.asks, book.tick_size, stake)


def simulate_run(world: World, file: int, first: int, trace: bool = False) -> RunResult:
    cfg, windows = world.risk, world.windows[file]
    capital, peak, streak, losing = cfg.starting_capital, cfg.starting_capital, 0, 0
    run = RunResult(file, first, capital, min_capital=capital, steps=[] if trace else None)
    for k in range(world.intervals):
        facts = windows.facts(first + 5 * k)
        capital_before, streak_before = capital, streak
        run.volatility_fired += facts.volatility_denied
        run.volatility_blocked += facts.verdicts.denials == (VOLATILITY,)
        stake, pnl, outcome, skip = _interval(world, facts, run, capital, streak)
        if outcome == "SKIP":
            run.skips[skip] += 1
        else:
            capital += pnl
            streak = streak + 1 if outcome == "WIN" else 0 if outcome == "LOSS" else streak
            losing = losing + 1 if outcome == "LOSS" else 0 if outcome == "WIN" else losing
            _count_trade(run, outcome, losing)
            peak = max(peak, capital)
            run.min_capital = min(run.min_capital, capital)
            run.max_drawdown = max(run.max_drawdown, (peak - capital) / peak)
            run.halted = run.halted or capital <= cfg.floor  # the ledger halts after this settlement
        if run.steps is not None:
            run.steps.append(Step(k + 1, facts.start_s, facts.call.signal,
                                  capital_before, streak_before, stake, pnl, outcome, skip))
    run.final_capital = capital
    return run


def _interval(world: World, facts: WindowFacts, run: RunResult, capital: Decimal, streak: int):
    """(stake, pnl, outcome, skip label) of one interval.

    The state half of the rules runs on every window, as in the service: the drawdown
    halt can fire on a window the predictor skips.
    """
    zero = Decimal(0)
    if run.halted:  # the ledger persisted the halt: HaltedRule denies everything after it
        return zero, zero, "SKIP", HALTED
    state = world.state_rules.verdicts(facts.sizing_key, capital, streak)
    run.halted = state.evaluation.halt or facts.verdicts.evaluation.halt
    if not facts.tradeable or not state.evaluation.approved:
        if facts.tradeable:
            run.floor_bound = run.floor_bound or bool(FLOOR_LABELS.intersection(state.denials))
        return zero, zero, "SKIP", first_denial(facts.verdicts, state)
    stake = state.evaluation.stake
    fill = world.fill(facts, stake)
    if fill is None:
        return zero, zero, "SKIP", FOK_KILLED
    run.fees += fill.fee
    run.staked += fill.stake
    settled = world.settler(fill, facts.sizing_key[0], facts.winner)
    return stake, settled.pnl, settled.outcome, None


def _count_trade(run: RunResult, outcome: str, losing: int) -> None:
    run.trades += 1
    run.wins += outcome == "WIN"
    run.losses += outcome == "LOSS"
    run.longest_losing_streak = max(run.longest_losing_streak, losing)


def run_all(world: World, plan: list[tuple[int, int]],
            progress: Callable[[int], None] = lambda done: None) -> list[RunResult]:
    results = []
    with _collector_paused():
        for done, (file, first) in enumerate(plan, 1):
            results.append(simulate_run(world, file, first))
            progress(done)
    return results


@contextmanager
def _collector_paused():
    """The caches only grow and hold no cycles; the cyclic collector's repeated passes
    over ~100,000 cached windows cost ~10 % of the run time for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
