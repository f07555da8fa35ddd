"""The ledger service: the only writer of the bot state and its files."""

from __future__ import annotations

import logging
from pathlib import Path

from rq.exceptions import DuplicateJobError

from services.ledger.config import LedgerConfig
from services.ledger.files import StateFiles
from services.ledger.handler import LedgerHandler
from services.ledger.journal import Journal
from services.ledger.ledger import Ledger
from services.ledger.watchdog import RedisLossWatchdog
from shared.jobs import enqueue_resolution
from shared.runtime import ServiceLoop, service_main

log = logging.getLogger("polybot.ledger")


def build(cfg: LedgerConfig, bus, stop):
    handler = build_handler(cfg, bus)
    watchdog = RedisLossWatchdog(handler, bus)
    watchdog.mark()

    def run() -> int:
        def on_idle() -> None:
            watchdog.check()
            handler.schedule_ended_windows()

        ServiceLoop(handler, bus, cfg, stop=stop, on_idle=on_idle, on_reconnect=watchdog.check).run()
        return 0

    return run


def build_handler(cfg: LedgerConfig, bus) -> LedgerHandler:
    """The handler, rebuilt from the journal, its state published and the resolution
    polling of every unconfirmed fill scheduled (again: the ledger may have died between
    journalling a window's fill or prices and scheduling its poll)."""
    directory = Path(cfg.state_dir)
    ledger = Ledger(starting_capital=cfg.starting_capital, floor=cfg.floor, intervals=cfg.intervals,
                    files=StateFiles(directory, fsync=cfg.fsync),
                    journal=Journal(directory / "ledger.journal", fsync=cfg.fsync))
    enqueue = None
    if cfg.resolution_jobs:
        def enqueue(run_id: str, interval: int, slug: str, _window_end: int) -> None:
            try:
                enqueue_resolution(bus.redis, run_id, interval, slug)
            except DuplicateJobError:
                pass  # that window's polling was started already

    handler = LedgerHandler(ledger, cfg, cfg.make_clock(), enqueue)
    bus.commit(handler.publish_state(None))  # rebuilt from the files: tell everyone
    handler.schedule_unconfirmed()
    return handler


def main(argv: list[str] | None = None) -> int:
    return service_main("ledger", LedgerConfig, build, argv)
