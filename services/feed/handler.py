"""The feed service's handler: clock events in, market data out."""

from __future__ import annotations

from collections.abc import Callable

from services.feed.assemble import FeedAssembler
from shared import messages as m, streams
from shared.bus import Out


class FeedHandler:
    name = streams.GROUP_FEED
    streams = (streams.CLOCK,)

    def __init__(self, assembler: FeedAssembler, on_close: Callable[[], None] = lambda: None):
        self.assembler = assembler
        self._on_close = on_close

    def close(self) -> None:
        """After the loop stopped: the sockets, the poller and the queued candles."""
        self._on_close()

    def handle(self, stream: str, msg: m.Msg) -> list[Out]:
        match msg:
            case m.IntervalTick():
                md = self.assembler.market_data(msg)
                # The quote on its own stream too: the executor looks the market up at
                # the venue while the predictor and risk decide, not on the order path.
                quote = [(streams.MARKET_QUOTES, md.quote)] if md.quote is not None else []
                return [*quote, (streams.MARKET_DATA, md)]
            case m.WindowClosed():
                return [(streams.WINDOW_PRICES, self.assembler.window_prices(msg))]
        return []
