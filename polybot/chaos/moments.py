"""Aiming kills at the moments that matter, and telling afterwards what was hit.

A kill at a random time mostly lands while a service waits on Redis.  The dangerous
moments are short, so the harness watches for them:

* ``order-in-flight`` (executor, between send and ack): wait for a new ``SubmitOrder``
  on ``polybot:orders:cmds`` (XREAD BLOCK ``$``), then poll the venue's order log
  (``GET {control}/orders?slug=``, ~1 ms a call) until the order shows up there, and
  kill at once.  The venue has the order; the executor has usually not stored the
  answer nor acked the command yet.
* ``ledger-fill`` / ``ledger-prices`` (ledger, during settlement): wait for a new
  ``OrderFilled`` on ``polybot:orders:events`` or a new ``WindowPrices`` on
  ``polybot:md:windows`` and kill the ledger after a jitter of a few milliseconds,
  while it journals the fact, rewrites its files, schedules the venue resolution and
  publishes the state.

After the kill, :func:`classify` reads the venue's log, the consumer group's pending
entries (XPENDING) and the ledger's journal to say which phase the kill hit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import redis
import requests

from polybot.chaos.stack import Stack
from shared import messages as m, streams

ORDER_IN_FLIGHT = "order-in-flight"
LEDGER_FILL = "ledger-fill"
LEDGER_PRICES = "ledger-prices"
AIMED = {ORDER_IN_FLIGHT: "executor", LEDGER_FILL: "ledger", LEDGER_PRICES: "ledger"}

# moment -> (stream to watch, message type that triggers, ledger fact written for it)
_WATCH = {ORDER_IN_FLIGHT: (streams.ORDER_CMDS, m.SubmitOrder, None),
          LEDGER_FILL: (streams.ORDER_EVENTS, m.OrderFilled, "fill"),
          LEDGER_PRICES: (streams.WINDOW_PRICES, m.WindowPrices, "prices")}


def wait_for_trigger(stack: Stack, moment: str, timeout_s: float,
                     give_up: Callable[[], bool] = lambda: False) -> m.Msg | None:
    """The next new message that opens ``moment``'s window, or None after ``timeout_s``
    or once ``give_up()`` (called between short blocking reads) says so."""
    stream, kind, _fact = _WATCH[moment]
    deadline = time.monotonic() + timeout_s
    cursor = "$"
    while time.monotonic() < deadline and not give_up():
        try:
            reply = stack.client.xread({stream: cursor}, count=10, block=100)
        except redis.RedisError:
            reply = None
            time.sleep(0.1)
        for _stream, entries in reply or []:
            for entry_id, data in entries:
                cursor = entry_id
                msg = _decode(stream, data)
                if isinstance(msg, kind):
                    return msg
    return None


def wait_until_venue_has(stack: Stack, order: m.SubmitOrder, timeout_s: float = 0.5) -> bool:
    """Poll the venue's order log until an order for ``order``'s window appears."""
    deadline = time.monotonic() + timeout_s
    url = f"{stack.urls['control']}/orders"
    with requests.Session() as session:
        while time.monotonic() < deadline:
            if session.get(url, params={"slug": order.slug}, timeout=2).json()["count"]:
                return True
    return False


def classify(stack: Stack, moment: str, msg: m.Msg | None) -> str:
    """Which phase the kill interrupted (read after the process is dead)."""
    if msg is None:
        return "no trigger: killed at a random moment"
    stream, _kind, fact = _WATCH[moment]
    group = streams.GROUP_EXECUTOR if moment == ORDER_IN_FLIGHT else streams.GROUP_LEDGER
    pending = _pending(stack, stream, group)
    if moment == ORDER_IN_FLIGHT:
        seen = bool(stack.venue_orders(msg.slug))
        if not pending:
            return "after the ack"
        return "between send and ack" if seen else "before the send"
    if not pending:
        return "after the ack"
    return "applied, not acked" if journal_has(stack, fact, msg.interval) else "before the journal"


def journal_has(stack: Stack, fact: str, interval: int) -> bool:
    path = stack.state_dir / "ledger.journal"
    if not path.exists():
        return False
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn last line
        if record.get("type") == fact and record.get("interval") == interval:
            return True
    return False


def _pending(stack: Stack, stream: str, group: str) -> int:
    try:
        return int(stack.client.xpending(stream, group)["pending"])
    except redis.RedisError:
        return 0


def _decode(stream: str, data: dict) -> m.Msg | None:
    payload = data.get(b"data", data.get("data"))
    try:
        return m.decode(stream, payload) if payload is not None else None
    except Exception:  # noqa: BLE001 - an undecodable entry is not a trigger
        return None
