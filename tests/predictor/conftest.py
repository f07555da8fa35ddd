"""Shared fixtures for the predictor tests: where the real BTCUSDT 1m data lives.

The data is never copied into the repo. Lookup order: env POLYBOT_DATA_DIR
(the btcusdt-1m folder itself, or a folder containing btcusdt-1m/), then
<repo>/../shared/data/btcusdt-1m. Tests that need it skip when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def find_data_dir() -> Path | None:
    candidates = []
    if env := os.environ.get("POLYBOT_DATA_DIR"):
        candidates += [Path(env), Path(env) / "btcusdt-1m"]
    candidates.append(REPO_ROOT.parent / "shared" / "data" / "btcusdt-1m")
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("BTCUSDT-1m-*.csv")):
            return candidate
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    found = find_data_dir()
    if found is None:
        pytest.skip("shared BTCUSDT 1m data not found: set POLYBOT_DATA_DIR or use <repo>/../shared/data/btcusdt-1m")
    return found


@pytest.fixture(scope="session")
def data_file(data_dir: Path):
    """Path of one named file in the data folder, skipping when that file is missing."""

    def _get(name: str) -> Path:
        path = data_dir / name
        if not path.is_file():
            pytest.skip(f"{name} not in {data_dir}")
        return path

    return _get
