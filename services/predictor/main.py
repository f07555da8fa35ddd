"""The predictor service: a thin shell around the pure core in core.py."""

from __future__ import annotations

from services.predictor.config import PredictorConfig
from services.predictor.handler import PredictorHandler
from shared.config import load, read_environment
from shared.runtime import RuntimeConfig, service_main


def build(cfg: RuntimeConfig, bus, stop):
    strategy = load(PredictorConfig, read_environment())  # the rule's knobs (RSI_PERIOD, ...)
    return PredictorHandler(strategy, cfg.make_clock())


def main(argv: list[str] | None = None) -> int:
    return service_main("predictor", RuntimeConfig, build, argv)
