"""Noticing that Redis lost everything, from the ledger's side.

The private Redis keeps nothing on disk: after a restart the state key, the streams,
the consumer groups and the rq jobs are gone while the services keep running.  The
ledger's files are the authority, so when the ledger (idle: nothing left to read)
finds its state key missing, it publishes the state again (the clock and risk wait on
it) and schedules the venue-resolution polling of every unconfirmed fill again.
"""

from __future__ import annotations

import logging

import redis

from services.ledger.handler import LedgerHandler
from shared import streams
from shared.bus import Bus

log = logging.getLogger("polybot.ledger")


class RedisLossWatchdog:
    def __init__(self, handler: LedgerHandler, bus: Bus):
        self.handler = handler
        self.bus = bus

    def check(self) -> bool:
        """Republish if the state key is gone; True when it did."""
        try:
            if self.bus.redis.exists(streams.LEDGER_STATE_KEY):
                return False
            log.warning("the ledger state vanished from Redis (Redis restarted empty?): publishing it again")
            self.bus.commit(self.handler.publish_state(None))
            self.handler.schedule_unconfirmed()
        except redis.ConnectionError as exc:
            log.warning("redis unavailable", extra={"data": {"error": str(exc)[:200]}})
            return False
        return True
