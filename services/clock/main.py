"""The interval clock service (a producer: it consumes nothing)."""

from __future__ import annotations

from services.clock.config import ClockConfig
from services.clock.ticker import Ticker
from shared.clock import LiveClock, SimClock
from shared.runtime import service_main


def build(cfg: ClockConfig, bus, stop):
    clock = SimClock(cfg.sim_control_url) if cfg.clock == "sim" else LiveClock()
    return Ticker(cfg, bus, clock, should_stop=lambda: bool(stop)).run


def main(argv: list[str] | None = None) -> int:
    return service_main("clock", ClockConfig, build, argv)
