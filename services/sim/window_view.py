"""The state of one window at one sim time, shared by the Gamma and CLOB views."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.sim.formats import mils_text
from services.sim.resolution import Resolution
from services.sim.venue import Venue
from services.sim.windows import Window


@dataclass(frozen=True)
class WindowView:
    window: Window
    now_ms: int
    resolution: Resolution
    up_bid: int | None  # thousandths; the last quote while trading, frozen at the end
    up_ask: int | None
    tick_mils: int
    volume: Decimal
    liquidity: Decimal  # pUSD resting in the Up quote (both sides)

    @property
    def accepting_orders(self) -> bool:
        return self.now_ms < self.window.end_ms

    @property
    def closed(self) -> bool:
        return self.resolution.resolved

    def up_mid_mils(self) -> Decimal:
        if self.up_bid is None or self.up_ask is None:
            return Decimal(self.up_bid or self.up_ask or 500)
        return Decimal(self.up_bid + self.up_ask) / 2

    def outcome_prices(self) -> list[str]:
        """Gamma ``outcomePrices`` in outcome order: the winner "1" once resolved, else mids."""
        if self.resolution.resolved:
            return ["1" if o == self.resolution.outcome else "0" for o in self.window.outcomes]
        up = self.up_mid_mils()
        by_outcome = {"Up": up, "Down": 1000 - up}
        return [_mils(by_outcome[o]) for o in self.window.outcomes]

    def first_outcome_bid_ask(self) -> tuple[int | None, int | None]:
        """Best bid/ask of outcome[0] (Gamma's bestBid/bestAsk refer to the first token)."""
        if self.window.outcomes[0] == "Up":
            return self.up_bid, self.up_ask
        return (None if self.up_ask is None else 1000 - self.up_ask,
                None if self.up_bid is None else 1000 - self.up_bid)


def _mils(value: Decimal) -> str:
    return mils_text(int(value)) if value == int(value) else str((value / 1000).normalize())


def window_view(venue: Venue, window: Window, now_ms: int) -> WindowView:
    quote_ms = min(now_ms, window.end_ms - 1000)
    quote = venue.books.up_quote(window, quote_ms)
    state = venue.books.state(window)
    liquidity = sum((Decimal(p) / 1000 * s for p, s in quote.bids + quote.asks), Decimal(0))
    return WindowView(
        window=window, now_ms=now_ms, resolution=venue.resolver.status(window, now_ms),
        up_bid=quote.bids[0][0] if quote.bids else None,
        up_ask=quote.asks[0][0] if quote.asks else None,
        tick_mils=quote.tick_mils, volume=state.volume,
        liquidity=liquidity.quantize(Decimal("0.0001")))
