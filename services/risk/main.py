"""Wiring only: config -> clock, ledger-state waiter, handler; the shared runtime runs it."""

from __future__ import annotations

from collections.abc import Callable

import redis

from services.risk.config import RiskConfig
from services.risk.handler import RiskHandler
from services.risk.state import LedgerStateWaiter
from shared import streams
from shared.bus import Bus
from shared.runtime import StopFlag, service_main


def heartbeat_keepalive(client: redis.Redis, cfg: RiskConfig) -> Callable[[], None]:
    """Extend the runtime's heartbeat key while the handler waits for the ledger.

    The runtime beats between messages only, and a legitimate wait (STATE_WAIT_S) can
    outlast HEARTBEAT_TTL_MS.  PEXPIRE keeps the runtime's value and only renews its TTL.
    """
    key = streams.health_key(RiskHandler.name, f"{RiskHandler.name}-{cfg.replica}")
    return lambda: client.pexpire(key, cfg.heartbeat_ttl_ms)


def build_handler(cfg: RiskConfig, bus: Bus, stop: StopFlag) -> RiskHandler:
    clock = cfg.make_clock()
    waiter = LedgerStateWaiter(bus.redis, clock, max_wait_s=cfg.state_wait_s, block_ms=cfg.state_block_ms,
                               keepalive=heartbeat_keepalive(bus.redis, cfg), stopping=lambda: bool(stop))
    return RiskHandler(cfg, waiter, clock)


def build(cfg: RiskConfig, bus: Bus, stop: StopFlag) -> RiskHandler:
    return build_handler(cfg, bus, stop)


def main(argv: list[str] | None = None) -> int:
    return service_main("risk", RiskConfig, build, argv)
