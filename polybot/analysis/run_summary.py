"""The numbers of one run's report, computed from the ledger's records (exact Decimal)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from polybot.analysis.state_files import LedgerFiles
from services.ledger.book import TradeRecord

SETTLED = ("WIN", "LOSS", "VOID")
# Risk reasons are sentences for humans; these fragments name the rule that wrote them.
SKIP_KINDS = (
    ("trading halted", "halted"), ("max drawdown", "max drawdown halt"),
    ("circuit breaker", "volatility breaker"), ("volatility unknown", "volatility unknown"),
    ("floor guard", "floor guard"), ("venue minimum", "below 5-share minimum"),
    ("minimum for a marketable BUY", "below $1 minimum"), ("entry deadline", "entry deadline"),
    ("incomplete market data", "incomplete data"), ("no Polymarket quote", "no quote"),
    ("not accepting orders", "no quote"), ("no asks", "no quote"),
    ("ledger had not settled", "stale ledger state"), ("already decided", "duplicate signal"),
    ("starting capital", "starting capital mismatch"),
)


@dataclass(frozen=True)
class Row:
    """One interval of the per-interval table."""

    interval: int
    timestamp: str
    prediction: str
    rule: str
    stake: Decimal
    fill: str            # "Down @ 0.5" or ""
    outcome: str
    pnl: Decimal
    capital: Decimal
    drawdown_pct: Decimal
    note: str            # the skip reason, or the winning side


@dataclass(frozen=True)
class RunSummary:
    intervals: int
    trades: int
    wins: int
    losses: int
    voids: int
    skips: Counter
    starting_capital: Decimal
    final_capital: Decimal
    fees: Decimal
    staked: Decimal
    peak_capital: Decimal
    lowest_capital: Decimal
    max_drawdown: Decimal       # dollars from a running peak (the start counts as a peak)
    max_drawdown_pct: Decimal   # the same fall as a percentage of that peak
    halted: bool
    halt_reason: str
    floor: Decimal | None
    rows: list[Row]

    @property
    def pnl(self) -> Decimal:
        return self.final_capital - self.starting_capital

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.trades if self.trades else None


def summarize(files: LedgerFiles) -> RunSummary:
    start, records = files.starting_capital, files.records
    capital = [start] + [r.capital_after for r in records]
    drawdown, drawdown_pct, point_pcts = _drawdowns(capital)
    settled = [r for r in records if r.outcome in SETTLED]
    rows = [_row(r, pct) for r, pct in zip(records, point_pcts[1:])]
    return RunSummary(
        intervals=len(records), trades=len(settled), wins=_count(settled, "WIN"),
        losses=_count(settled, "LOSS"), voids=_count(settled, "VOID"),
        skips=Counter(skip_kind(r) for r in records if r.outcome == "SKIP"),
        starting_capital=start, final_capital=Decimal(str(files.state["current_capital"])),
        fees=sum((r.fee or Decimal(0) for r in settled), Decimal(0)),
        staked=sum((r.position_size for r in settled), Decimal(0)),
        peak_capital=max(capital), lowest_capital=min(capital), max_drawdown=drawdown,
        max_drawdown_pct=drawdown_pct, halted=bool(files.state.get("halted")),
        halt_reason=str(files.state.get("halt_reason") or ""), floor=files.floor, rows=rows)


def _drawdowns(capital: list[Decimal]) -> tuple[Decimal, Decimal, list[Decimal]]:
    """(largest $ fall from a running peak, largest % fall, % drawdown at each point)."""
    peak, worst, worst_pct, each = capital[0], Decimal(0), Decimal(0), []
    for value in capital:
        peak = max(peak, value)
        pct = (peak - value) / peak * 100 if peak > 0 else Decimal(0)
        worst, worst_pct = max(worst, peak - value), max(worst_pct, pct)
        each.append(pct)
    return worst, worst_pct, each


def _count(records: list[TradeRecord], outcome: str) -> int:
    return sum(1 for r in records if r.outcome == outcome)


def skip_kind(record: TradeRecord) -> str:
    """A short name for why an interval was skipped."""
    if record.prediction == "SKIP":
        return f"predictor {record.rule}"
    reason = record.skip_reason or ""
    if reason.startswith("order rejected"):
        return "order rejected"
    first = record.risk_reasons[0] if record.risk_reasons else reason
    for fragment, kind in SKIP_KINDS:
        if fragment in first:
            return kind
    return first[:60] or "unknown"


def _row(r: TradeRecord, drawdown_pct: Decimal) -> Row:
    fill = f"{r.side} @ {r.avg_price.normalize():f}" if r.side and r.avg_price is not None else ""
    return Row(r.interval_number, r.timestamp, r.prediction, r.rule, r.position_size, fill, r.outcome,
               r.pnl, r.capital_after, drawdown_pct, _note(r))


def _note(r: TradeRecord) -> str:
    """For a skip, the first reason (the service sorts halts and denials first)."""
    if r.outcome != "SKIP":
        return f"{r.winning_outcome} won" if r.winning_outcome else ""
    if (r.skip_reason or "").startswith("order rejected") or not r.risk_reasons:
        return r.skip_reason or ""
    also = any("circuit breaker" in reason for reason in r.risk_reasons[1:])
    return r.risk_reasons[0] + (" (the volatility breaker fired too)" if also else "")
