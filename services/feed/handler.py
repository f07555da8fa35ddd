"""The feed service's handler: clock events in, market data out."""

from __future__ import annotations

from services.feed.assemble import FeedAssembler
from shared import messages as m, streams
from shared.bus import Out


class FeedHandler:
    name = streams.GROUP_FEED
    streams = (streams.CLOCK,)

    def __init__(self, assembler: FeedAssembler):
        self.assembler = assembler

    def handle(self, stream: str, msg: m.Msg) -> list[Out]:
        match msg:
            case m.IntervalTick():
                return [(streams.MARKET_DATA, self.assembler.market_data(msg))]
            case m.WindowClosed():
                return [(streams.WINDOW_PRICES, self.assembler.window_prices(msg))]
        return []
