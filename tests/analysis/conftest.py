"""Real-data fixtures: skipped (with the reason) when the shared BTCUSDT files are absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from polybot.analysis.data_files import CandleFile, load_candle_file
from polybot.analysis.montecarlo import World
from services.predictor.config import PredictorConfig
from services.risk.config import RiskConfig

CRASH_FILE = "BTCUSDT-1m-2024-07-27_2024-08-24.csv"   # the 5 Aug 2024 crash: halts happen here
SMALL_FILE = "BTCUSDT-1m-2021-04-25_2021-04-29.csv"   # 1,235 windows: cheap to check exhaustively
HALT_FILE = "BTCUSDT-1m-2023-03-17_2023-03-24.csv"    # ends with the 24 Mar 2023 flat trading halt


def real_file(data_dir: Path, name: str) -> Path:
    path = data_dir / name
    if not path.exists():
        pytest.skip(f"{name} is not in {data_dir}")
    return path


@pytest.fixture(scope="session")
def crash_file(data_dir) -> Path:
    return real_file(data_dir, CRASH_FILE)


@pytest.fixture(scope="session")
def crash_data(crash_file) -> CandleFile:
    return load_candle_file(crash_file)


@pytest.fixture(scope="session")
def crash_world(crash_data) -> World:
    return World.build([crash_data], intervals=18, predictor=PredictorConfig(), risk=RiskConfig(), seed=7)
