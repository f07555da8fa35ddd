"""The ledger service: the only writer of the bot state and its files."""

from __future__ import annotations

from pathlib import Path

from services.ledger.config import LedgerConfig
from services.ledger.files import StateFiles
from services.ledger.handler import LedgerHandler
from services.ledger.journal import Journal
from services.ledger.ledger import Ledger
from shared.jobs import enqueue_resolution
from shared.runtime import service_main


def build(cfg: LedgerConfig, bus, stop):
    directory = Path(cfg.state_dir)
    ledger = Ledger(starting_capital=cfg.starting_capital, floor=cfg.floor, intervals=cfg.intervals,
                    files=StateFiles(directory, fsync=cfg.fsync),
                    journal=Journal(directory / "ledger.journal", fsync=cfg.fsync))
    enqueue = None
    if cfg.resolution_jobs:
        def enqueue(run_id: str, interval: int, slug: str, _window_end: int) -> None:
            enqueue_resolution(bus.redis, run_id, interval, slug)

    handler = LedgerHandler(ledger, bus.redis, cfg, cfg.make_clock(), enqueue)
    bus.commit(handler.publish_state(None))  # rebuilt from the files: tell everyone
    return handler


def main(argv: list[str] | None = None) -> int:
    return service_main("ledger", LedgerConfig, build, argv)
