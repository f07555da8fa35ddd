"""Noticing that Redis lost everything, from the ledger's side.

The private Redis keeps nothing on disk: after a restart the state key, the streams,
the consumer groups and the rq jobs are gone while the services keep running.  The
ledger's files are the authority, so when the ledger (idle, or just reconnected)
finds its epoch key missing, it publishes the state again (the clock and risk wait on
it) and schedules the venue-resolution polling of every unconfirmed fill again.

The epoch key is written only here (and at start), never by handling a message: the
state key is not a safe sign, because a message handled right after the restart
rewrites it before the ledger is ever idle, and a resolution published into the lost
Redis would then never be asked for again.
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

    def mark(self) -> None:
        """Record that this Redis has everything the ledger published (at start)."""
        self.bus.redis.set(streams.LEDGER_EPOCH_KEY, 1)

    def check(self) -> bool:
        """Republish and reschedule if Redis lost everything; True when it did."""
        try:
            if self.bus.redis.exists(streams.LEDGER_EPOCH_KEY):
                return False
            log.warning("Redis lost the ledger's epoch key (restarted empty?): publishing the state again "
                        "and rescheduling the polls of unconfirmed fills")
            self.bus.commit(self.handler.publish_state(None))
            self.handler.schedule_unconfirmed()
            self.mark()
        except redis.ConnectionError as exc:
            log.warning("redis unavailable", extra={"data": {"error": str(exc)[:200]}})
            return False
        return True
