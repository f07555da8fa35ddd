"""The interval clock service (a producer: it consumes nothing)."""

from __future__ import annotations

from services.clock.config import ClockConfig
from services.clock.ticker import Ticker
from shared.runtime import service_main


def build(cfg: ClockConfig, bus, stop):
    return Ticker(cfg, bus, cfg.make_clock(), should_stop=lambda: bool(stop)).run


def main(argv: list[str] | None = None) -> int:
    return service_main("clock", ClockConfig, build, argv)
