"""The risk rules, one small plugin each.  ``DEFAULT_RULES`` is evaluated in order and
every verdict is kept, so a decision lists all the reasons, not just the first.

Sizing rules read ``ctx.allocation`` (allocator.py) and return None when there is no
priced book to size against: the data rules already deny that case with its reason.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from services.risk.allocator import minimum_stake, show
from services.risk.context import RiskContext, Rule, Verdict
from shared.clock import NS
from shared.messages import Bar

MINUTE_MS = 60_000


def percent(fraction: Decimal) -> str:
    return show((fraction * 100).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)) + "%"


class HaltedRule:
    """A halt persisted by the ledger holds until an operator runs ``polybot reset-halt``."""

    def check(self, ctx: RiskContext) -> Verdict | None:
        if not ctx.state.halted:
            return None
        why = ctx.state.halt_reason or "no reason recorded"
        return Verdict.deny(f"trading halted: {why} (only `polybot reset-halt` clears it)")


class MaxDrawdownRule:
    """FR-010: at or below the floor, stop trading and have the ledger persist the halt."""

    def check(self, ctx: RiskContext) -> Verdict | None:
        cfg, capital = ctx.config, ctx.state.current_capital
        if capital <= cfg.floor:
            return Verdict.halt(f"max drawdown: capital {show(capital)} <= floor {show(cfg.floor)} "
                                f"({show(cfg.starting_capital)} × (1 - {show(cfg.max_drawdown)})); trading halted")
        room = capital - cfg.floor
        if room < cfg.min_notional:
            # The floor guard keeps every loss above the floor, so capital creeps towards it
            # without ever reaching it; once not even the smallest order fits, the drawdown
            # limit is reached in all but name.
            return Verdict.halt(f"max drawdown: capital {show(capital)} is only {show(room)} above the floor "
                                f"{show(cfg.floor)}, less than the smallest order ({show(cfg.min_notional)}); "
                                "trading halted")
        return None


class StartingCapitalRule:
    """The floor comes from our config; a ledger started with other capital disagrees on it."""

    def check(self, ctx: RiskContext) -> Verdict | None:
        ours, ledgers = ctx.config.starting_capital, ctx.state.starting_capital
        if ours == ledgers:
            return None
        return Verdict.deny(f"ledger starting capital {show(ledgers)} differs from STARTING_CAPITAL "
                            f"{show(ours)}: the drawdown floor is ambiguous, fix the configuration")


class SkipSignalRule:
    def check(self, ctx: RiskContext) -> Verdict | None:
        if ctx.signal.signal != "SKIP":
            return None
        return Verdict.deny(f"predictor chose SKIP: {ctx.signal.reasoning}")


class DataCompleteRule:
    def check(self, ctx: RiskContext) -> Verdict | None:
        if ctx.signal.data_complete:
            return None
        why = "; ".join(ctx.signal.data_reasons) or "no reason given"
        return Verdict.deny(f"incomplete market data: {why}")


class QuoteRule:
    """The window's market must be quoted, open for orders, and priced on our side."""

    def check(self, ctx: RiskContext) -> Verdict | None:
        quote, signal = ctx.signal.quote, ctx.signal
        if quote is None:
            return Verdict.deny("no Polymarket quote for this window")
        problems = []
        if not quote.accepting_orders:
            problems.append(f"market {quote.slug} is not accepting orders")
        if (quote.window_start, quote.window_end) != (signal.window_start, signal.window_end):
            problems.append(f"quote is for window {quote.window_start}..{quote.window_end}, "
                            f"not {signal.window_start}..{signal.window_end}")
        book = ctx.book
        if book is not None and book.best_ask is None:
            problems.append(f"no asks in the {book.outcome} book: cannot price the order")
        return Verdict.deny("; ".join(problems)) if problems else None


class DeadlineRule:
    """At the entry deadline there is no time left to place an order."""

    def check(self, ctx: RiskContext) -> Verdict | None:
        deadline_ns = ctx.signal.entry_deadline * NS
        if ctx.now_ns < deadline_ns:
            return None
        late = (ctx.now_ns - deadline_ns) / NS
        return Verdict.deny(f"entry deadline {ctx.signal.entry_deadline} passed {late:.1f}s ago")


class VolatilityRule:
    """FR-011: (highest high − lowest low) / first open over the last N one-minute bars."""

    def check(self, ctx: RiskContext) -> Verdict | None:
        cfg = ctx.config
        bars = ctx.signal.recent_bars[-cfg.volatility_window:]
        problem = bars_problem(bars, cfg.volatility_window, ctx.signal.window_start)
        if problem:
            return Verdict.deny(f"volatility unknown (stale or incomplete bars): {problem}")
        spread = max(b.high for b in bars) - min(b.low for b in bars)
        first_open = bars[0].open
        reading = f"volatility {percent(spread / first_open)} over the last {len(bars)} 1-minute bars"
        # Compare by multiplying, not dividing: exact, so 3% on the dot is not a breach.
        if spread > cfg.volatility_threshold * first_open:
            return Verdict.deny(f"{reading} exceeds {percent(cfg.volatility_threshold)}: circuit breaker")
        return Verdict.info(f"{reading} (limit {percent(cfg.volatility_threshold)})")


def bars_problem(bars: tuple[Bar, ...], wanted: int, window_start: int) -> str | None:
    """Why ``bars`` cannot measure the minutes just before ``window_start``, or None."""
    if len(bars) < wanted:
        return f"needs {wanted} bars, got {len(bars)}"
    if any(b.open_time_ms - a.open_time_ms != MINUTE_MS for a, b in zip(bars, bars[1:])):
        return "bars are not consecutive minutes"
    expected_last = window_start * 1000 - MINUTE_MS
    if bars[-1].open_time_ms != expected_last:
        return f"newest bar opened at {bars[-1].open_time_ms} ms, expected {expected_last} ms"
    if bars[0].open <= 0 or any(b.low > b.high for b in bars):
        return "bar prices are invalid (open <= 0 or low > high)"
    return None


class StreakStakeRule:
    def check(self, ctx: RiskContext) -> Verdict | None:
        return Verdict.info(ctx.allocation.streak.explain(ctx.config))


class FloorGuardRule:
    """A total loss (stake + worst-case taker fee) must not take capital below the floor."""

    def check(self, ctx: RiskContext) -> Verdict | None:
        a = ctx.allocation
        if a.ask is None:
            return None
        if a.per_dollar is None:
            return Verdict.deny(f"unsupported fee schedule {ctx.signal.quote.fee}: cannot bound the fee")
        room = f"the {show(a.headroom)} above the floor {show(a.floor)}"
        if a.stake <= 0:
            return Verdict.deny(f"floor guard: capital {show(ctx.state.current_capital)} leaves no room for "
                                f"a stake plus its fee within {room}")
        loss = (f"a total loss costs at most {show(a.stake + a.fee)} (stake {show(a.stake)} + fee "
                f"{show(a.fee)}), within {room}")
        if a.stake < a.streak.stake:
            return Verdict.info(f"floor guard cut the stake from {show(a.streak.stake)}: {loss}")
        return Verdict.info(loss)


class MinNotionalRule:
    def check(self, ctx: RiskContext) -> Verdict | None:
        stake, minimum = ctx.allocation.stake, ctx.config.min_notional
        if ctx.allocation.ask is None or stake <= 0 or stake >= minimum:
            return None
        return Verdict.deny(f"stake {show(stake)} is below the venue's ${show(minimum)} "
                            f"minimum for a marketable BUY")


class MinSharesRule:
    def check(self, ctx: RiskContext) -> Verdict | None:
        a, book = ctx.allocation, ctx.book
        if a.ask is None or book is None or a.stake <= 0 or a.stake >= book.min_order_size * a.ask:
            return None
        shares = (a.stake / a.ask).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        needed = minimum_stake(a.ask, book.min_order_size, ctx.config.min_notional)
        return Verdict.deny(f"stake {show(a.stake)} buys {show(shares)} shares at {show(a.ask)}, below the "
                            f"venue minimum of {show(book.min_order_size)} shares (needs >= {show(needed)})")


DEFAULT_RULES: tuple[Rule, ...] = (
    HaltedRule(), MaxDrawdownRule(), StartingCapitalRule(), SkipSignalRule(), DataCompleteRule(),
    QuoteRule(), DeadlineRule(), VolatilityRule(), StreakStakeRule(), FloorGuardRule(),
    MinNotionalRule(), MinSharesRule(),
)
