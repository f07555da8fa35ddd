"""Lockstep time and settlements that only the venue can make.

In lockstep the clock moves simulated time to the next window only once the ledger
has settled the current one, and the ledger settles a traded window from its start
and end prices.  When those prices are incomplete (the feed could not price the
window: a stale or failing Binance), only the venue's resolution can settle it, and
the venue publishes it some simulated time after the window's end (10 s in the
simulator).  Time standing still at the end then waits for a resolution that waits
for time: the run hung.

So, while the clock waits for that settlement and the window's WindowPrices came out
incomplete for an open position (both deterministic facts, not timing), it grants the
venue time: first up to ``end + venue_resolution_s``, then, after ``settle_patience_s``
of wall time, up to ``end + resolution_grace_s``; after another patience it goes on
without the settlement (the ledger settles the window whenever the venue speaks, and
risk skips the windows meanwhile: "ledger had not settled interval k").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

from services.clock.config import ClockConfig
from services.clock.schedule import RunPlan
from shared import messages as m, streams
from shared.ledger_view import read_state

log = logging.getLogger("polybot.clock")


class VenueWait:
    def __init__(self, cfg: ClockConfig, client: redis.Redis, plan: RunPlan, interval: int,
                 reach: Callable[[int], bool], wall: Callable[[], float] = time.monotonic):
        self.cfg = cfg
        self.redis = client
        self.plan = plan
        self.interval = interval
        self.reach = reach
        self.wall = wall
        self.since: float | None = None
        self.grace_given = False

    def on_stall(self) -> bool:
        """Called while the settlement keeps not coming; True = stop waiting for it."""
        if not self._needs_venue():
            return False
        _, end = self.plan.window(self.interval)
        if self.since is None:
            self.since = self.wall()
            log.warning("window prices incomplete: moving time on for the venue's resolution",
                        extra={"data": {"interval": self.interval, "to": end + self.cfg.venue_resolution_s}})
            self.reach(end + self.cfg.venue_resolution_s)
            return False
        waited = self.wall() - self.since
        if waited > 2 * self.cfg.settle_patience_s:
            log.warning("no venue resolution: going on without the settlement",
                        extra={"data": {"interval": self.interval}})
            return True
        if waited > self.cfg.settle_patience_s and not self.grace_given:
            self.grace_given = True
            self.reach(end + self.cfg.resolution_grace_s)
        return False

    def priced(self) -> bool:
        """The feed has published this window's prices (complete or not)."""
        return self._window_prices() is not None

    def _needs_venue(self) -> bool:
        state = read_state(self.redis)
        position = state.open_position if state is not None and state.run_id == self.plan.run_id else None
        if position is None or position.interval != self.interval:
            return False
        prices = self._window_prices()
        return prices is not None and not prices.complete

    def _window_prices(self) -> m.WindowPrices | None:
        for _id, fields in self.redis.xrevrange(streams.WINDOW_PRICES, count=20):
            msg = m.decode(streams.WINDOW_PRICES, fields[b"data"])
            if msg.run_id == self.plan.run_id and msg.interval == self.interval:
                return msg
        return None
