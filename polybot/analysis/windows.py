"""Everything about one 5-minute window that does not depend on a run's capital,
computed once and cached: the predictor's call, the window half of the risk rules on
the signal risk would see (the simulator's quote, the last five 1-minute bars), what the
fill needs of the chosen book, and the settlement by the ledger's rule.

Only that summary is cached (a full signal is ~10 KB; 100,000 of them would hold a
gigabyte).  The state half of the rules reads nothing of a signal but its sizing key
(risk_split.book_key), so one full signal per key is kept to evaluate it on.

Building that signal (quote, bars, message) and running the rules on it costs ~90 µs,
several times everything else a window needs, so it is done once per *window class*
rather than once per window.  Of what the window rules and the sizing key read, only two
things can differ between windows (``_class_key``):

* the predictor's signal (UP / DOWN / SKIP);
* whether the volatility breaker fires on the recent bars, which ``volatility_breaches``
  decides for the whole file at once with the rule's own comparison, exactly.

The rest is the same for every window: the deadline is a minute after the decision, the
data is complete, the quote is open and for this very window, and its prices and tick
are the model's at fair value 0.5.  The decision is at the window start, where
``MinuteOpenFeed`` gives S_t = the first minute's open = S_0, so the fair value
F(ln(S_t/S_0) / (σ√τ)) is F(0) = 0.5 in every window; only the seeded sizes differ, and
only the fill reads them (montecarlo.fill_key).  The real rules run on the real signal
of the first window of each class; tests/analysis/test_window_classes.py checks every
window of two files against its own signal (and all 13 files were checked once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, getcontext

import numpy as np

from polybot.analysis.data_files import CandleFile
from polybot.analysis.risk_split import (
    RULE_LABELS, RUN_ID, WINDOW_RULES, Verdicts, analysis_header, book_key, ledger_state, run_rules,
)
from polybot.analysis.signals import IndicatorSeries, WindowCall, compute_series, window_call
from polybot.analysis.venue import SimMarket
from services.ledger.book import Facts, winning_outcome
from services.ledger.facts import Prices
from services.predictor.config import PredictorConfig
from services.predictor.handler import RECENT_BARS
from services.risk.config import RiskConfig
from services.risk.handler import Evaluation
from services.risk.rules import VolatilityRule
from shared.messages import Bar, OutcomeBook, PredictionSignal

VOLATILITY = RULE_LABELS[VolatilityRule]
ENTRY_DEADLINE_S = 60  # the clock's default entry deadline after the window start
PRICE_SOURCE = "binance_1m"


@dataclass(frozen=True, slots=True)
class WindowClass:
    """What every window of one class shares (see the module docstring)."""

    verdicts: Verdicts          # the window half of the risk rules (reasons dropped)
    sizing_key: tuple | None    # what the state half reads of the signal (risk_split.book_key)
    tick_size: Decimal | None   # the chosen book's tick, when the class is tradeable


@dataclass(frozen=True, slots=True)
class WindowFacts:
    start_s: int
    call: WindowCall
    verdicts: Verdicts          # the window half of the risk rules (reasons dropped)
    sizing_key: tuple | None    # what the state half reads of the signal (risk_split.book_key)
    tick_size: Decimal | None   # the chosen book's tick, when the window is tradeable
    winner: str                 # "Up" | "Down", by the ledger's settlement rule
    first: int                  # the candle index of the window's first minute
    source: "FileWindows" = field(repr=False, compare=False)

    @property
    def tradeable(self) -> bool:
        return self.verdicts.evaluation.approved

    @property
    def volatility_denied(self) -> bool:
        """The circuit breaker fired, whatever else denied."""
        return VOLATILITY in self.verdicts.denials

    @property
    def book(self) -> OutcomeBook | None:
        """The chosen outcome's book at the decision time, when the window is tradeable.

        Built on demand, not cached: only its sizes differ from its class's, and the fill
        reads them only for a stake the smallest possible best level might not cover
        (montecarlo.fill_key).
        """
        if not self.tradeable:
            return None
        return self.source.book(self.first, self.sizing_key[0])


@dataclass
class FileWindows:
    """The windows of one candle file, computed on first use."""

    data: CandleFile
    predictor: PredictorConfig
    risk: RiskConfig
    market: SimMarket
    series: IndicatorSeries
    representatives: dict       # sizing key -> a full signal with that key (shared by all files)
    breaches: np.ndarray | None  # volatility_breaches(data, risk)
    _cache: dict[int, WindowFacts] = field(default_factory=dict)
    _classes: dict[tuple, WindowClass] = field(default_factory=dict)

    @classmethod
    def build(cls, data: CandleFile, predictor: PredictorConfig, risk: RiskConfig, seed: int,
              representatives: dict) -> "FileWindows":
        return cls(data, predictor, risk, SimMarket(data, seed), compute_series(data, predictor), representatives,
                   volatility_breaches(data, risk))

    def __len__(self) -> int:
        return len(self._cache)

    def cached(self):
        return self._cache.values()

    def facts(self, first: int) -> WindowFacts:
        """The window whose first minute is candle ``first``."""
        found = self._cache.get(first)
        if found is None:
            found = self._cache[first] = self._compute(first)
        return found

    def _compute(self, first: int) -> WindowFacts:
        call = window_call(self.data, self.series, first, self.predictor)
        key = self._class_key(first, call)
        kind = self._classes.get(key)
        if kind is None:
            kind = self._classes[key] = self._classify(first, call)
        return WindowFacts(int(self.data.open_ms[first]) // 1000, call, kind.verdicts, kind.sizing_key,
                           kind.tick_size, self._winner(first), first, self)

    def _class_key(self, first: int, call: WindowCall) -> tuple:
        """What the window rules and the sizing key read of this window's signal that can
        differ from another window's (module docstring)."""
        breach = self._breach(first)
        if breach is None:
            return ("own class", first)
        return (call.signal, breach)

    def _breach(self, first: int) -> bool | None:
        """``volatility_breaches`` for this window; None where the rule's other checks could
        fail (fewer than RECENT_BARS gap-free minutes before it) or nothing was computed."""
        if self.breaches is None or first < RECENT_BARS or self.data.segment_start[first] > first - RECENT_BARS:
            return None
        return bool(self.breaches[first])

    def _classify(self, first: int, call: WindowCall) -> WindowClass:
        """The window half and sizing key of this window's full signal, by the real rules."""
        signal = self.signal(first, call)
        state = ledger_state(self.risk, self.risk.starting_capital, 0)
        verdicts = run_rules(WINDOW_RULES, signal, state, self.risk)
        key = book_key(signal)
        self.representatives.setdefault(key, signal)
        slim = Verdicts(Evaluation(verdicts.evaluation.approved, Decimal(0), (), verdicts.evaluation.halt),
                        verdicts.denials, verdicts.halts)
        tick = signal.quote.book(key[0]).tick_size if key is not None and slim.evaluation.approved else None
        return WindowClass(slim, key, tick)

    def book(self, first: int, outcome: str) -> OutcomeBook:
        """``outcome``'s book as the simulator quotes it at this window's decision time."""
        return self.market.quote(self.market.window(int(self.data.open_ms[first]) // 1000)).book(outcome)

    def signal(self, first: int, call: WindowCall | None = None) -> PredictionSignal:
        """The PredictionSignal the risk service would receive for this window."""
        call = call or window_call(self.data, self.series, first, self.predictor)
        window = self.market.window(int(self.data.open_ms[first]) // 1000)
        start = window.start_s
        return PredictionSignal(
            **analysis_header(start),
            run_id=RUN_ID, interval=1, window_start=start, window_end=window.end_s,
            entry_deadline=start + ENTRY_DEADLINE_S, signal=call.signal, confidence=Decimal(0),
            rsi=None, macd_line=None, macd_signal=None, order_book_imbalance=None, btc_price=None,
            timestamp=datetime.fromtimestamp(start, timezone.utc), reasoning=call.reasoning, rule=call.rule,
            quote=self.market.quote(window), recent_bars=self._bars(first - RECENT_BARS, first))

    def _bars(self, lo: int, hi: int) -> tuple[Bar, ...]:
        a = self.data.arrays
        return tuple(Bar(int(a.open_ms[i]), _cents(a.open[i]), _cents(a.high[i]), _cents(a.low[i]),
                         _cents(a.close[i]), Decimal(int(a.volume[i])).scaleb(-8)) for i in range(lo, hi))

    def _winner(self, first: int) -> str:
        """Start = open of the first minute, end = close of the fifth (the feed's prices)."""
        a = self.data.arrays
        facts = Facts()
        facts.add(Prices(interval=1, start_price=_cents(a.open[first]), end_price=_cents(a.close[first + 4]),
                         source=PRICE_SOURCE))
        return winning_outcome(facts, 1)[0]


def _cents(value) -> Decimal:
    return Decimal(int(value)).scaleb(-2)


def volatility_breaches(data: CandleFile, cfg: RiskConfig) -> np.ndarray | None:
    """breach[first]: VolatilityRule's comparison on the bars a signal for the window
    starting at candle ``first`` carries, for every candle of the file at once.

    The rule reads the last ``volatility_window`` of the RECENT_BARS bars and denies when
    (highest high − lowest low) > threshold × first open, in Decimal.  Prices are whole
    cents and threshold = p/q exactly, so that is spread·q > p·open in integers: the same
    comparison, not an approximation.  None (no classes: every window evaluated on its own)
    when the Decimal product could round in the thread's context (the one the rule uses) or
    the integers could overflow int64.
    """
    a = data.arrays
    n = len(range(RECENT_BARS)[-cfg.volatility_window:])  # what recent_bars[-window:] keeps
    if len(a) <= n:
        return None
    p, q = cfg.volatility_threshold.as_integer_ratio()
    highs, lows = _rolling_extremes(a.high, a.low, n)  # [j]: over candles j .. j+n-1
    opens = a.open[:len(highs)]
    product_digits = len(cfg.volatility_threshold.as_tuple().digits) + len(str(int(opens.max())))
    if product_digits > getcontext().prec or max(q * int((highs - lows).max()), p * int(opens.max())) >= 2**62:
        return None
    breach = np.zeros(len(a), dtype=bool)
    breach[n:] = ((highs - lows) * q > p * opens)[:len(a) - n]  # window `first` reads j = first - n
    return breach


def _rolling_extremes(high: np.ndarray, low: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Highest high and lowest low over each run of ``n`` consecutive candles (n is small:
    n - 1 element-wise passes beat a sliding-window reduction several times over)."""
    m = len(high) - n + 1
    highs, lows = high[:m].copy(), low[:m].copy()
    for k in range(1, n):
        np.maximum(highs, high[k:k + m], out=highs)
        np.minimum(lows, low[k:k + m], out=lows)
    return highs, lows
