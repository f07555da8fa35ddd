"""Where an interval's time goes, read off the streams after a run.

Every bus entry carries its publisher's wall clock (``wall_ns``), so the time between
one service's output and the next one's is that hop: the consumer's wake-up, its
handler and its commit.  The ledger's state entries say when an interval became
decided and settled.  In lockstep the next window opens when this one closes; its
settlement runs beside the next window's feed and predictor.
"""

from __future__ import annotations

from collections.abc import Callable

import redis

from polybot.bench.stats import summary, text

# (name, from point, to point); a point is a column of the table _points builds
SEGMENTS = (
    ("clock tick -> MarketData (feed)", "tick", "md"),
    ("MarketData -> signal (predictor)", "md", "signal"),
    ("signal -> decision + order (risk)", "signal", "decision"),
    ("order -> fill/reject (executor + venue)", "decision", "order_event"),
    ("-> ledger has it decided (ledger)", "order_event|decision", "decided"),
    ("decided -> WindowClosed (clock advances)", "decided", "closed"),
    ("WindowClosed -> next tick (clock)", "closed", "next_tick"),
    # the settlement runs beside the next window (the next decision waits for it)
    ("WindowClosed -> WindowPrices (feed)", "closed", "prices"),
    ("WindowPrices -> settled (ledger)", "prices", "settled"),
    ("settled -> next window's decision (risk)", "settled", "next_decision"),
    ("whole interval (tick -> next tick)", "tick", "next_tick"),
)


def scan(client: redis.Redis, stream: str, visit: Callable[[int, str, bytes], None]) -> None:
    """Call ``visit(wall_ns, type, data)`` for every entry of ``stream``, oldest first."""
    last = "-"
    while True:
        batch = client.xrange(stream, min=last, max="+", count=2000)
        if last != "-":
            batch = batch[1:]
        if not batch:
            return
        for entry_id, fields in batch:
            visit(wall_ns(entry_id, fields), text(fields.get(b"type", b"")), fields.get(b"data", b""))
        last = text(batch[-1][0])


def wall_ns(entry_id, fields: dict) -> int:
    """The publisher's wall clock; entries from before the bus stamped it fall back on
    the entry id (Redis's clock, ms)."""
    raw = fields.get(b"wall_ns")
    return int(raw) if raw is not None else int(text(entry_id).split("-")[0]) * 1_000_000


def first_walls(client: redis.Redis, stream: str, kind: str, key: Callable = lambda msg: msg.interval,
                decode: bool = True) -> dict:
    """key(message) -> wall_ns of the first entry of type ``kind`` on ``stream``."""
    from shared import messages as m

    out: dict = {}

    def visit(wall: int, type_name: str, data: bytes) -> None:
        if type_name == kind:
            out.setdefault(key(m.decode(stream, data)), wall)

    scan(client, stream, visit)
    return out


def ledger_marks(client: redis.Redis) -> tuple[dict[int, int], dict[int, int]]:
    """interval -> wall_ns of the first LedgerState with it decided, and settled."""
    from shared import messages as m, streams

    decided: dict[int, int] = {}
    settled: dict[int, int] = {}

    def visit(wall: int, type_name: str, data: bytes) -> None:
        if type_name != "LedgerState":
            return
        state = m.decode(streams.LEDGER_EVENTS, data)
        for k in range(len(decided) + 1, state.decided_through + 1):
            decided[k] = wall
        for k in range(len(settled) + 1, state.settled_through + 1):
            settled[k] = wall

    scan(client, streams.LEDGER_EVENTS, visit)
    return decided, settled


def timeline(client: redis.Redis, ticks: dict[int, int], warmup: int) -> dict:
    """Per-segment summary (ms) over every interval after ``warmup``."""
    points = _points(client, ticks)
    out = {}
    for name, start, end in SEGMENTS:
        values = []
        for k, row in points.items():
            if k <= warmup:
                continue
            a = next((row[p] for p in start.split("|") if p in row), None)
            if a is not None and end in row:
                values.append((row[end] - a) / 1e6)
        out[name] = summary(values)
    return out


def _points(client: redis.Redis, ticks: dict[int, int]) -> dict[int, dict[str, int]]:
    from shared import streams

    columns = {
        "md": first_walls(client, streams.MARKET_DATA, "MarketData"),
        "signal": first_walls(client, streams.SIGNALS, "PredictionSignal"),
        "decision": first_walls(client, streams.DECISIONS, "RiskDecision"),
        "order_event": {**first_walls(client, streams.ORDER_EVENTS, "OrderRejected"),
                        **first_walls(client, streams.ORDER_EVENTS, "OrderFilled")},
        "closed": first_walls(client, streams.CLOCK, "WindowClosed"),
        "prices": first_walls(client, streams.WINDOW_PRICES, "WindowPrices"),
    }
    columns["decided"], columns["settled"] = ledger_marks(client)
    rows: dict[int, dict[str, int]] = {}
    for k, tick in ticks.items():
        row = {"tick": tick, **{name: col[k] for name, col in columns.items() if k in col}}
        if k + 1 in ticks:
            row["next_tick"] = ticks[k + 1]
        if k + 1 in columns["decision"]:
            row["next_decision"] = columns["decision"][k + 1]
        rows[k] = row
    return rows
