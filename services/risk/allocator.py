"""Capital allocation: the win-streak stake, the floor guard (fee included), venue minimums.

Money is exact: ``Decimal`` only, computed in our own context (a caller's thread context
must not change a stake) and every rounding is explicit:

- the stake is rounded DOWN to cents (a Polymarket market BUY's maker amount has 2 dp);
- the fee bound is rounded UP to the venue's fee precision (5 dp), so it never
  understates what a total loss could cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import (
    ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal, DivisionByZero,
    InvalidOperation, Overflow, localcontext,
)

from services.risk.config import RiskConfig
from shared.messages import FeeSchedule

CENT = Decimal("0.01")
FEE_QUANTUM = Decimal("0.00001")
ZERO = Decimal(0)
# 1.5^100 needs ~120 significant digits; beyond 100 wins the stake is the cap anyway.
MAX_EXPONENT = 100
_CTX = Context(prec=200, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])


def show(value: Decimal) -> str:
    """A Decimal for a human: no exponent, no trailing zeros (25.00 -> 25)."""
    with localcontext(_CTX):
        if value == value.to_integral_value():
            return f"{value.quantize(Decimal(1)):f}"
        return f"{value.normalize():f}"


@dataclass(frozen=True)
class StreakStake:
    """base × multiplier^streak, capped at max_stake, and how it was computed."""

    streak: int
    uncapped: Decimal
    stake: Decimal  # min(uncapped, cap), rounded down to cents

    def explain(self, cfg: RiskConfig) -> str:
        formula = f"{show(cfg.base_stake)} × {show(cfg.streak_multiplier)}^{self.streak}"
        if self.uncapped > cfg.max_stake:
            return f"stake {show(self.stake)} = cap {show(cfg.max_stake)} ({formula} = {_short(self.uncapped)})"
        if self.stake != self.uncapped:
            return f"stake {show(self.stake)} = {formula} = {show(self.uncapped)}, rounded down to cents"
        return f"stake {show(self.stake)} = {formula}"


def _short(value: Decimal) -> str:
    exact = value == value.quantize(Decimal("1e-6"), rounding=ROUND_DOWN)
    return show(value) if exact else "≈" + show(value.quantize(Decimal("1e-4"), rounding=ROUND_HALF_EVEN))


def streak_stake(streak: int, cfg: RiskConfig) -> StreakStake:
    """FR-008/FR-009: the stake after ``streak`` consecutive wins (the ledger keeps the streak)."""
    streak = max(streak, 0)
    with localcontext(_CTX):
        uncapped = cfg.base_stake * cfg.streak_multiplier ** min(streak, MAX_EXPONENT)
    stake = min(uncapped, cfg.max_stake).quantize(CENT, rounding=ROUND_DOWN)
    return StreakStake(streak=streak, uncapped=uncapped, stake=stake)


def fee_per_dollar(fee: FeeSchedule, ask: Decimal) -> Decimal | None:
    """Worst-case taker fee per dollar staked on a BUY that fills anywhere in [ask, 1).

    Fee = shares × rate × (p(1−p))^e and shares = stake / p, so per dollar it is
    rate × p^(e−1) × (1−p)^e.  For e = 1 (Polymarket crypto) that falls as p rises, so
    the best ask is the worst case; for e ≥ 2 it peaks at p* = (e−1)/(2e−1), and walking
    the book towards p* would cost more than the best ask suggests.  None: unsupported.
    """
    e = fee.exponent
    if e < 0 or not 0 < ask < 1 or fee.rate < 0:
        return None
    with localcontext(_CTX):
        peak = Decimal(e - 1) / Decimal(2 * e - 1) if e >= 1 else ZERO
        p = max(ask, peak)
        return fee.rate * p ** (e - 1) * (1 - p) ** e


def fee_bound(stake: Decimal, per_dollar: Decimal) -> Decimal:
    """The most the venue can charge on ``stake`` (rounded UP to its 5-dp fee precision)."""
    with localcontext(_CTX):
        return (stake * per_dollar).quantize(FEE_QUANTUM, rounding=ROUND_CEILING)


def largest_safe_stake(desired: Decimal, headroom: Decimal, per_dollar: Decimal) -> Decimal:
    """The largest cent amount ≤ ``desired`` whose total loss (stake + fee) fits in ``headroom``."""
    if headroom <= 0 or desired <= 0:
        return ZERO
    with localcontext(_CTX):
        stake = min(desired, headroom / (1 + per_dollar)).quantize(CENT, rounding=ROUND_DOWN)
    # The fee's upward rounding can tip the sum over by < 1 cent: step down until it fits.
    while stake > 0 and stake + fee_bound(stake, per_dollar) > headroom:
        stake -= CENT
    return max(stake, ZERO)


@dataclass(frozen=True)
class Allocation:
    """The stake for one interval and every number behind it.

    ``ask``/``per_dollar`` are None when there is no priced book for the chosen outcome
    (a SKIP, no quote, no asks, an unsupported fee): then ``stake`` is 0 and other rules
    say why.
    """

    streak: StreakStake
    floor: Decimal
    headroom: Decimal          # capital − floor: the most a total loss may cost
    ask: Decimal | None
    per_dollar: Decimal | None
    stake: Decimal             # the stake to place, cents, 0 if none fits
    fee: Decimal               # worst-case fee on ``stake``


def allocate(cfg: RiskConfig, capital: Decimal, streak: int,
             ask: Decimal | None = None, fee: FeeSchedule | None = None) -> Allocation:
    sized = streak_stake(streak, cfg)
    headroom = capital - cfg.floor
    per_dollar = fee_per_dollar(fee, ask) if ask is not None and fee is not None else None
    if per_dollar is None:
        return Allocation(sized, cfg.floor, headroom, ask, None, ZERO, ZERO)
    stake = largest_safe_stake(sized.stake, headroom, per_dollar)
    return Allocation(sized, cfg.floor, headroom, ask, per_dollar, stake, fee_bound(stake, per_dollar))


def minimum_stake(ask: Decimal, min_shares: Decimal, min_notional: Decimal) -> Decimal:
    """The smallest cent stake the venue accepts at ``ask``: ≥ $min_notional and ≥ min_shares."""
    with localcontext(_CTX):
        for_shares = (min_shares * ask).quantize(CENT, rounding=ROUND_CEILING)
    return max(min_notional, for_shares)
