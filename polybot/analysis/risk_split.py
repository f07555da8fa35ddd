"""The risk service's own rule plugins, split by what they depend on, so the Monte
Carlo can run the window half once per window and memoise the state half.

* window rules read only the signal (prediction, quote, bars, deadline) and constants
  (``StartingCapitalRule``: every run starts with the configured capital);
* state rules read the ledger state (capital, streak, halt) and, for sizing, only the
  chosen book's best ask, its minimum size and the fee schedule.

``evaluate(ctx, WINDOW_RULES)`` and ``evaluate(ctx, STATE_RULES)`` combined equal
``evaluate(ctx, DEFAULT_RULES)`` (tests/analysis/test_risk_split.py checks it on real
windows).  A rule added to ``DEFAULT_RULES`` that is not classified here stops the
analysis at import instead of being silently left out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from services.risk.allocator import fee_bound, fee_per_dollar, streak_stake
from services.risk.config import RiskConfig
from services.risk.context import Kind, RiskContext
from services.risk.handler import Evaluation, evaluate
from services.risk.rules import (
    DEFAULT_RULES, DataCompleteRule, DeadlineRule, FloorGuardRule, HaltedRule, MaxDrawdownRule,
    MinNotionalRule, MinSharesRule, QuoteRule, SkipSignalRule, StartingCapitalRule, StreakStakeRule,
    VolatilityRule,
)
from shared.clock import NS
from shared.messages import LedgerState, PredictionSignal

RUN_ID = "risk-analysis"
ANALYSIS_ID = uuid.uuid5(uuid.NAMESPACE_URL, "polybot:risk-analysis")
_WINDOW_TYPES = (StartingCapitalRule, SkipSignalRule, DataCompleteRule, QuoteRule, DeadlineRule, VolatilityRule)
_STATE_TYPES = (HaltedRule, MaxDrawdownRule, StreakStakeRule, FloorGuardRule, MinNotionalRule, MinSharesRule)

WINDOW_RULES = tuple(r for r in DEFAULT_RULES if isinstance(r, _WINDOW_TYPES))
STATE_RULES = tuple(r for r in DEFAULT_RULES if isinstance(r, _STATE_TYPES))
_unclassified = [type(r).__name__ for r in DEFAULT_RULES if not isinstance(r, _WINDOW_TYPES + _STATE_TYPES)]
if _unclassified:
    raise RuntimeError(f"risk rules {_unclassified} are not classified in polybot/analysis/risk_split.py")

# Short names for the skip statistics: the rule that denied, in the service's order.
RULE_LABELS = {
    HaltedRule: "halted", MaxDrawdownRule: "max drawdown halt", StartingCapitalRule: "starting capital",
    SkipSignalRule: "predictor SKIP", DataCompleteRule: "incomplete data", QuoteRule: "no quote",
    DeadlineRule: "entry deadline", VolatilityRule: "volatility breaker", FloorGuardRule: "floor guard",
    MinNotionalRule: "below $1 minimum", MinSharesRule: "below 5-share minimum",
    StreakStakeRule: "streak stake",  # explains, never denies
}


RULE_ORDER = {RULE_LABELS[type(rule)]: position for position, rule in enumerate(DEFAULT_RULES)}


@dataclass(frozen=True)
class Verdicts:
    """One half's evaluation and the labels of the rules that denied, in service order."""

    evaluation: Evaluation
    denials: tuple[str, ...]
    halts: tuple[str, ...] = ()   # the denials that were Verdict.halt

    @property
    def denied_by(self) -> str | None:
        return self.denials[0] if self.denials else None


def first_denial(*halves: Verdicts) -> str | None:
    """The label the service would list first: halts first, then denials in rule order."""
    halts = [label for h in halves for label in h.halts]
    denials = [label for h in halves for label in h.denials]
    ranked = sorted(halts or denials, key=RULE_ORDER.__getitem__)
    return ranked[0] if ranked else None


def analysis_header(window_start: int) -> dict:
    """A message header for the in-process stubs.  No rule reads the id, so it is a
    constant rather than ``header()``'s uuid5 (which cost more than some rules)."""
    return {"id": ANALYSIS_ID, "ts_event": window_start * NS, "ts_init": window_start * NS}


def ledger_state(cfg: RiskConfig, capital: Decimal, streak: int, halted: bool = False) -> LedgerState:
    """The state the ledger would publish before an interval: just the fields risk reads."""
    return LedgerState(
        **analysis_header(0),
        run_id=RUN_ID, starting_capital=cfg.starting_capital, current_capital=capital,
        peak_capital=capital, win_streak=streak, total_trades=0, is_active=not halted, halted=halted,
        halt_reason="analysis halt" if halted else "", intervals_total=18, current_interval=1,
        decided_through=0, settled_through=0, open_position=None, run_complete=False, version=1)


def decision_time_ns(signal: PredictionSignal) -> int:
    """Lockstep replay decides at the window start (the clock waits for the pipeline)."""
    return signal.window_start * NS


class _Recorded:
    """A rule that notes its label when it denies, so one ``evaluate`` pass also says which."""

    def __init__(self, rule, denials: list[str], halts: list[str]):
        self.rule, self.denials, self.halts = rule, denials, halts

    def check(self, ctx: RiskContext):
        verdict = self.rule.check(ctx)
        if verdict is not None and verdict.kind is not Kind.INFO:
            self.denials.append(RULE_LABELS[type(self.rule)])
            if verdict.kind is Kind.HALT:
                self.halts.append(RULE_LABELS[type(self.rule)])
        return verdict


def run_rules(rules, signal: PredictionSignal, state: LedgerState, cfg: RiskConfig) -> Verdicts:
    ctx = RiskContext(signal, state, decision_time_ns(signal), cfg)
    denials: list[str] = []
    halts: list[str] = []
    evaluation = evaluate(ctx, [_Recorded(rule, denials, halts) for rule in rules])
    return Verdicts(evaluation, tuple(denials), tuple(halts))


def book_key(signal: PredictionSignal) -> tuple | None:
    """Everything of the signal that the state rules read (None: no book to size against)."""
    outcome = {"UP": "Up", "DOWN": "Down"}.get(signal.signal)
    if outcome is None or signal.quote is None:
        return None
    book, fee = signal.quote.book(outcome), signal.quote.fee
    return (outcome, book.best_ask, book.min_order_size, fee.rate, fee.exponent, fee.taker_only)


class StateRules:
    """``STATE_RULES`` memoised on (sizing key, capital, streak): they read nothing else, so
    they run on one representative signal per sizing key (registered by windows.py).

    ``__call__`` gives the full evaluation, reasons included; the Monte Carlo's fold calls
    ``verdicts``, which drops the reasons (they quote the capital) and can therefore share
    one evaluation among all capitals the rules do not tell apart.
    """

    def __init__(self, cfg: RiskConfig):
        self.cfg = cfg
        self.representatives: dict[tuple | None, PredictionSignal] = {}
        self._memo: dict[tuple, Verdicts] = {}
        self._slim: dict[tuple, Verdicts] = {}
        self._capital_free: dict[tuple, Decimal] = {}
        self.misses = 0

    def verdicts(self, sizing_key: tuple | None, capital: Decimal, streak: int) -> Verdicts:
        """``self(...)`` without the reasons: approval, stake, halt and the denying labels.

        Most interval-start capitals are distinct Decimals, but from ``capital_free_from``
        up the verdicts do not depend on the capital: those capitals share one entry."""
        above = capital >= self.capital_free_from(sizing_key, streak)
        key = (sizing_key, None if above else capital, streak)
        found = self._slim.get(key)
        if found is None:
            full = self(sizing_key, capital, streak)
            slim = Evaluation(full.evaluation.approved, full.evaluation.stake, (), full.evaluation.halt)
            found = self._slim[key] = Verdicts(slim, full.denials, full.halts)
        return found

    def capital_free_from(self, sizing_key: tuple | None, streak: int) -> Decimal:
        """The capital from which no state rule's verdict depends on the capital any more.

        The rules read the capital only through the headroom (capital − floor):
        MaxDrawdownRule is quiet once it is >= min_notional (> 0, so above the floor); the
        floor guard (allocator.largest_safe_stake) leaves the streak stake uncut once that
        stake plus its worst-case fee fits in it, and the venue minimums read only that
        stake.  Both bounds come from the allocator's own functions;
        tests/analysis/test_window_classes.py checks the claim against the full rules.
        """
        key = (sizing_key, streak)
        found = self._capital_free.get(key)
        if found is None:
            cfg, need = self.cfg, self.cfg.min_notional
            per_dollar = self._per_dollar(sizing_key)
            if per_dollar is not None:
                stake = streak_stake(streak, cfg).stake
                need = max(need, stake + fee_bound(stake, per_dollar))
            found = self._capital_free[key] = cfg.floor + need
        return found

    def _per_dollar(self, sizing_key: tuple | None) -> Decimal | None:
        """The worst-case fee per dollar the allocator uses for this key (None: no sizing)."""
        if sizing_key is None:
            return None
        quote = self.representatives[sizing_key].quote
        return fee_per_dollar(quote.fee, quote.book(sizing_key[0]).best_ask)

    def __call__(self, sizing_key: tuple | None, capital: Decimal, streak: int) -> Verdicts:
        key = (sizing_key, capital, streak)
        found = self._memo.get(key)
        if found is None:
            self.misses += 1
            signal = self.representatives[sizing_key]
            found = run_rules(STATE_RULES, signal, ledger_state(self.cfg, capital, streak), self.cfg)
            self._memo[key] = found
        return found

