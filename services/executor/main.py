"""Wiring: choose the clock and THE broker once, reconcile, hand the runtime a Handler.

``python -m services.executor`` (or ``main()``): config errors exit 2 before anything
connects; live trading without the key or the confirmation is a config error.
"""

from __future__ import annotations

import logging
import time

from py_clob_client_v2 import ApiCreds

from shared import streams
from shared.bus import Bus
from shared.errors import FatalError
from shared.runtime import ServiceLoop, StopFlag, service_main
from services.executor.brokers import Broker, PaperBroker
from services.executor.clob_broker import SIM_DEV_KEY, ClobBroker
from services.executor.config import ExecutorConfig
from services.executor.handler import ExecutorHandler, RetryPolicy
from services.executor.records import OrderRecords
from services.executor.venue_client import VenueClient

log = logging.getLogger("polybot.executor")

CONNECT_TRIES = 8  # ~25 s of backoff: lets a simulator started alongside us come up


def build(cfg: ExecutorConfig, bus: Bus, stop: StopFlag | None = None) -> ExecutorHandler:
    broker = make_broker(cfg, stop)
    handler = ExecutorHandler(broker, OrderRecords(bus.redis, ttl_s=cfg.record_ttl_s), cfg.make_clock(),
                              RetryPolicy(max_attempts=cfg.max_attempts, backoff_base_s=cfg.backoff_base_s,
                                          max_retry_after_s=cfg.max_retry_after_s,
                                          latency_budget_ms=cfg.latency_budget_ms))
    settled = reconcile(handler, bus)
    log.info("executor ready", extra={"data": {"broker": broker.name, "venue": cfg.venue,
                                               "trading_mode": cfg.trading_mode, "reconciled": settled}})
    return handler


def reconcile(handler: ExecutorHandler, bus: Bus) -> int:
    """Settle in-flight orders with the venue and publish what got settled."""
    events = handler.reconcile()
    if events:
        bus.commit([(streams.ORDER_EVENTS, event) for event in events])
    return len(events)


def make_broker(cfg: ExecutorConfig, stop: StopFlag | None = None, *, pool=None) -> Broker:
    """The one place that decides paper vs. CLOB (config.py has the table)."""
    if not cfg.live:
        _warn_if_keys_configured(cfg)
        if cfg.venue == "polymarket":
            return PaperBroker()
        client = VenueClient(cfg.venue_url, cfg.chain_id, SIM_DEV_KEY, timeout_s=cfg.http_timeout_s,
                             signature_type=0, pool=pool)
        creds = None
    else:
        log.warning("LIVE TRADING: orders go to Polymarket with real money",
                    extra={"data": {"clob_url": cfg.venue_url, "funder": cfg.funder}})
        client = VenueClient(cfg.venue_url, cfg.chain_id, cfg.private_key, timeout_s=cfg.http_timeout_s,
                             signature_type=cfg.signature_type, funder=cfg.funder, pool=pool)
        creds = (ApiCreds(api_key=cfg.clob_api_key, api_secret=cfg.clob_api_secret,
                          api_passphrase=cfg.clob_api_passphrase) if cfg.clob_api_key else None)
    broker = ClobBroker(client, chain_id=cfg.chain_id, delayed_poll_s=cfg.delayed_poll_s)
    _connect(broker, creds, cfg, stop)
    return broker


def _warn_if_keys_configured(cfg: ExecutorConfig) -> None:
    configured = [name for name in ("private_key", "clob_api_key", "clob_api_secret", "clob_api_passphrase")
                  if getattr(cfg, name)]
    if configured:
        log.warning("paper trading never loads keys: ignoring the configured credentials",
                    extra={"data": {"ignored": configured}})


def _connect(broker: ClobBroker, creds: ApiCreds | None, cfg: ExecutorConfig, stop: StopFlag | None) -> None:
    for attempt in range(1, CONNECT_TRIES + 1):
        try:
            broker.connect(creds)
            return
        except Exception as exc:  # noqa: BLE001 - SDK and transport errors alike
            if attempt == CONNECT_TRIES or stop:
                raise FatalError(f"cannot get API credentials from {cfg.venue_url}: {exc}") from None
            log.warning("venue not reachable yet, retrying",
                        extra={"data": {"attempt": attempt, "error": str(exc)[:200]}})
            pause = min(0.25 * 2 ** attempt, 5.0)
            stop.event.wait(pause) if stop is not None else time.sleep(pause)


def main(argv: list[str] | None = None) -> int:
    return service_main("executor", ExecutorConfig, _build_runner, argv)


def _build_runner(cfg: ExecutorConfig, bus: Bus, stop: StopFlag):
    """build(), then run the loop with an idle hook that keeps reconciling."""
    handler = build(cfg, bus, stop)
    due = time.monotonic() + cfg.reconcile_every_s

    def reconcile_when_due() -> None:
        # Orders whose fate stayed unknown (venue down) may outlive their command's
        # deliveries; keep settling them while idle.
        nonlocal due
        if time.monotonic() >= due:
            reconcile(handler, bus)
            due = time.monotonic() + cfg.reconcile_every_s

    def run() -> int:
        ServiceLoop(handler, bus, cfg, stop=stop, on_idle=reconcile_when_due).run()
        return 0

    return run
