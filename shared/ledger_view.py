"""Read-only access to the ledger's published state, for services that must wait on it."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from shared import messages as m, streams


def read_state(client: redis.Redis) -> m.LedgerState | None:
    raw = client.get(streams.LEDGER_STATE_KEY)
    return m.STATE_DECODER.decode(raw) if raw else None


def wait_for_state(client: redis.Redis, ready: Callable[[m.LedgerState], bool], timeout_s: float,
                   should_stop: Callable[[], bool] = lambda: False,
                   wall: Callable[[], float] = time.monotonic) -> m.LedgerState | None:
    """Block until the ledger state satisfies ``ready`` (None on timeout or stop).

    Waits on new entries of the ledger's event stream (XREAD BLOCK), re-reading the state
    key after each, so there is no busy polling and no missed update.
    """
    deadline = wall() + timeout_s
    last_id = _last_id(client)
    while True:
        state = read_state(client)
        if state is not None and ready(state):
            return state
        remaining = deadline - wall()
        if remaining <= 0 or should_stop():
            return None
        reply = client.xread({streams.LEDGER_EVENTS: last_id}, count=100,
                             block=max(1, int(min(remaining, 0.5) * 1000)))
        for _stream, entries in reply or []:
            last_id = entries[-1][0]


def _last_id(client: redis.Redis) -> bytes | str:
    newest = client.xrevrange(streams.LEDGER_EVENTS, count=1)
    return newest[0][0] if newest else "0-0"
