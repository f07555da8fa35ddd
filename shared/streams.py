"""Every Redis stream, consumer group and key name, in one place.

One ``:`` delimiter, one ``polybot`` prefix.  ``redis-cli XRANGE polybot:signals - +``
shows readable ``type`` fields beside the msgpack ``data``.
"""

from __future__ import annotations

PREFIX = "polybot"

# Streams (producer -> consumers)
CLOCK = f"{PREFIX}:clock"                    # clock -> feed: IntervalTick | WindowClosed
MARKET_DATA = f"{PREFIX}:md"                 # feed -> predictor: MarketData
MARKET_QUOTES = f"{PREFIX}:md:quotes"        # feed -> executor: MarketQuote (warms the venue's market info)
CANDLES = f"{PREFIX}:md:candles"             # feed -> (observers): Candle
WINDOW_PRICES = f"{PREFIX}:md:windows"       # feed -> ledger: WindowPrices
SIGNALS = f"{PREFIX}:signals"                # predictor -> risk: PredictionSignal
DECISIONS = f"{PREFIX}:risk:decisions"       # risk -> ledger: RiskDecision
ORDER_CMDS = f"{PREFIX}:orders:cmds"         # risk -> executor: SubmitOrder
ORDER_EVENTS = f"{PREFIX}:orders:events"     # executor -> ledger: OrderFilled | OrderRejected
RESOLUTIONS = f"{PREFIX}:venue:resolutions"  # resolver jobs -> ledger: MarketResolved
LEDGER_EVENTS = f"{PREFIX}:ledger:events"    # ledger -> (risk, clock, observers)
LEDGER_CMDS = f"{PREFIX}:ledger:cmds"        # CLI -> ledger: ResetHalt

ALL_STREAMS = (
    CLOCK, MARKET_DATA, MARKET_QUOTES, CANDLES, WINDOW_PRICES, SIGNALS, DECISIONS,
    ORDER_CMDS, ORDER_EVENTS, RESOLUTIONS, LEDGER_EVENTS, LEDGER_CMDS,
)

# Consumer groups: one per consuming service.
GROUP_FEED = "feed"
GROUP_PREDICTOR = "predictor"
GROUP_RISK = "risk"
GROUP_EXECUTOR = "executor"
GROUP_LEDGER = "ledger"

# Keys
LEDGER_STATE_KEY = f"{PREFIX}:ledger:state"   # msgpack LedgerState, rewritten by the ledger
LEDGER_EPOCH_KEY = f"{PREFIX}:ledger:epoch"   # set by the ledger: gone = Redis lost everything
RUN_KEY = f"{PREFIX}:clock:run"               # the clock's run plan (JSON), for resume
RESOLUTION_QUEUE = f"{PREFIX}-resolutions"    # rq queue name (rq adds its own prefix)


def dlq(stream: str) -> str:
    """The dead-letter stream of ``stream``."""
    return f"{stream}:dlq"


def health_key(service: str, consumer: str) -> str:
    """Heartbeat key of one service replica (SET with a TTL by the runtime)."""
    return f"{PREFIX}:health:{service}:{consumer}"


def executor_order_key(order_key: str) -> str:
    """The executor's record of one order (its idempotency guard)."""
    return f"{PREFIX}:executor:order:{order_key}"


def published_key(stream: str, message_id: str) -> str:
    """Marks a message id as published on a stream: each id enters a stream once."""
    return f"{PREFIX}:published:{stream}:{message_id}"
