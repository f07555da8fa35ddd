"""Everything about one 5-minute window that does not depend on a run's capital,
computed once and cached: the predictor's call, the window half of the risk rules on
the signal risk would see (the simulator's quote, the last five 1-minute bars), the
chosen book for the fill, and the settlement by the ledger's rule.

Only that summary is cached (a full signal is ~10 KB; 100,000 of them would hold a
gigabyte).  The state half of the rules reads nothing of a signal but its sizing key
(risk_split.book_key), so one full signal per key is kept to evaluate it on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

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
class WindowFacts:
    start_s: int
    call: WindowCall
    verdicts: Verdicts          # the window half of the risk rules (reasons dropped)
    sizing_key: tuple | None    # what the state half reads of the signal (risk_split.book_key)
    book: OutcomeBook | None    # the chosen outcome's book, kept when the window is tradeable
    winner: str                 # "Up" | "Down", by the ledger's settlement rule

    @property
    def tradeable(self) -> bool:
        return self.verdicts.evaluation.approved

    @property
    def volatility_denied(self) -> bool:
        """The circuit breaker fired, whatever else denied."""
        return VOLATILITY in self.verdicts.denials


@dataclass
class FileWindows:
    """The windows of one candle file, computed on first use."""

    data: CandleFile
    predictor: PredictorConfig
    risk: RiskConfig
    market: SimMarket
    series: IndicatorSeries
    representatives: dict       # sizing key -> a full signal with that key (shared by all files)
    _cache: dict[int, WindowFacts] = field(default_factory=dict)

    @classmethod
    def build(cls, data: CandleFile, predictor: PredictorConfig, risk: RiskConfig, seed: int,
              representatives: dict) -> "FileWindows":
        return cls(data, predictor, risk, SimMarket(data, seed), compute_series(data, predictor), representatives)

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
        signal = self.signal(first, call)
        state = ledger_state(self.risk, self.risk.starting_capital, 0)
        verdicts = run_rules(WINDOW_RULES, signal, state, self.risk)
        key = book_key(signal)
        self.representatives.setdefault(key, signal)
        slim = Verdicts(Evaluation(verdicts.evaluation.approved, Decimal(0), (), verdicts.evaluation.halt),
                        verdicts.denials, verdicts.halts)
        book = signal.quote.book(key[0]) if key is not None and slim.evaluation.approved else None
        return WindowFacts(signal.window_start, call, slim, key, book, self._winner(first))

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
