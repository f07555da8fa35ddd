"""Walking a book for one taker order, and the taker fee. Decimal throughout.

* Market BUY (FOK/FAK): spend makerAmount pUSD, best ask first, at prices within the
  limit; shares per level = floor(remaining / price) to 1e-6, cost rounded to 1e-6.
* Limit BUY (GTC/GTD): buy takerAmount shares at prices within the limit.
* SELL (any type): sell makerAmount shares into the bids within the limit.
Fee per fill level (taker only): C · 0.07 · p · (1 − p), rounded to 5 dp, at least
0.00001 when not zero. A BUY pays it on top; a SELL has it taken from the proceeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from services.sim.book import Level
from services.sim.orders import ParsedOrder

MICRO = Decimal("0.000001")
FEE_QUANTUM = Decimal("0.00001")
FEE_RATE = Decimal("0.07")
THOUSAND = Decimal(1000)


@dataclass(frozen=True)
class Fill:
    price_mils: int
    shares: Decimal
    notional: Decimal  # pUSD exchanged for the shares, before fees
    fee: Decimal

    @property
    def price(self) -> Decimal:
        return Decimal(self.price_mils) / THOUSAND


@dataclass(frozen=True)
class MatchResult:
    fills: tuple[Fill, ...]
    complete: bool  # the whole order could be filled

    @property
    def shares(self) -> Decimal:
        return sum((f.shares for f in self.fills), Decimal(0))

    @property
    def notional(self) -> Decimal:
        return sum((f.notional for f in self.fills), Decimal(0))

    @property
    def fees(self) -> Decimal:
        return sum((f.fee for f in self.fills), Decimal(0))


def taker_fee(shares: Decimal, price_mils: int) -> Decimal:
    price = Decimal(price_mils) / THOUSAND
    fee = (shares * FEE_RATE * price * (1 - price)).quantize(FEE_QUANTUM, ROUND_HALF_UP)
    if fee == 0 and shares > 0 and 0 < price_mils < 1000:
        return FEE_QUANTUM
    return fee


def _fill(price_mils: int, shares: Decimal) -> Fill:
    notional = (shares * price_mils / THOUSAND).quantize(MICRO, ROUND_HALF_EVEN)
    return Fill(price_mils, shares, notional, taker_fee(shares, price_mils))


def match(order: ParsedOrder, levels: tuple[Level, ...]) -> MatchResult:
    """Walk ``levels`` (the opposite side of the token's book, best first)."""
    if order.side == "BUY" and order.is_market:
        return _spend_collateral(order, levels)
    return _trade_shares(order, levels, order.shares)


def _spend_collateral(order: ParsedOrder, levels: tuple[Level, ...]) -> MatchResult:
    remaining = order.collateral
    fills = []
    for price_mils, size in levels:
        if not order.accepts_price(price_mils):
            break
        wanted = (remaining * THOUSAND / price_mils).quantize(MICRO, ROUND_DOWN)
        if wanted <= 0:
            return MatchResult(tuple(fills), True)
        fill = _fill(price_mils, min(wanted, size))
        fills.append(fill)
        remaining -= fill.notional
        if wanted <= size:
            return MatchResult(tuple(fills), True)
    return MatchResult(tuple(fills), False)


def _trade_shares(order: ParsedOrder, levels: tuple[Level, ...], shares: Decimal) -> MatchResult:
    remaining = shares
    fills = []
    for price_mils, size in levels:
        if remaining <= 0 or not order.accepts_price(price_mils):
            break
        fill = _fill(price_mils, min(remaining, size))
        fills.append(fill)
        remaining -= fill.shares
    return MatchResult(tuple(fills), remaining <= 0)
