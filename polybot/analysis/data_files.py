"""The real BTCUSDT 1-minute files, loaded once as the simulator's numpy arrays.

The files are never copied into the repo: they are found through ``POLYBOT_DATA_DIR``
(the folder itself or a folder holding ``btcusdt-1m/``) or beside the repo at
``../shared/data/btcusdt-1m``.  Loading goes through the simulator's own CSV reader
(``services.sim.data.load_csv``: integer cents), so the books, paths and resolutions the
analysis builds are the ones ``polybot sim`` would serve for the same file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.sim.data import MINUTE_MS, CandleArrays, load_csv

REPO_ROOT = Path(__file__).resolve().parents[2]
WINDOW_MS = 300_000


class DataError(ValueError):
    """A data file or folder that cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class CandleFile:
    name: str
    arrays: CandleArrays       # the simulator's arrays (prices in integer cents)
    closes: np.ndarray         # float64 USDT, exactly float(CSV text): what the predictor sees
    segment_start: np.ndarray  # index of the first candle of each candle's gap-free stretch

    def __len__(self) -> int:
        return len(self.arrays)

    @property
    def open_ms(self) -> np.ndarray:
        return self.arrays.open_ms


def default_data_dir() -> Path | None:
    candidates = []
    if env := os.environ.get("POLYBOT_DATA_DIR"):
        candidates += [Path(env), Path(env) / "btcusdt-1m"]
    candidates.append(REPO_ROOT.parent / "shared" / "data" / "btcusdt-1m")
    for candidate in candidates:
        if candidate.is_dir() and any(candidate.glob("*.csv")):
            return candidate
    return None


def default_data_files() -> list[Path]:
    folder = default_data_dir()
    if folder is None:
        raise DataError("no --data given and no BTCUSDT 1m folder found: set POLYBOT_DATA_DIR "
                        "or put the shared data at <repo>/../shared/data/btcusdt-1m")
    return sorted(folder.glob("*.csv"))


def load_candle_file(path: str | Path) -> CandleFile:
    path = Path(path)
    try:
        arrays = load_csv(path)
    except (OSError, ValueError, IndexError) as exc:
        raise DataError(f"{path}: cannot read candles ({str(exc).splitlines()[0][:200]})") from None
    prices = np.stack((arrays.open, arrays.high, arrays.low, arrays.close))
    if np.any(prices <= 0) or np.any(arrays.low > np.minimum(arrays.open, arrays.close)) \
            or np.any(arrays.high < np.maximum(arrays.open, arrays.close)):
        raise DataError(f"{path}: prices must be > 0 with low <= open, close <= high")
    # cents / 100 is the correctly rounded float of the CSV's decimal text, i.e. the very
    # float64 that float("52717.99") gives the predictor in the live pipeline.
    closes = arrays.close / 100.0
    return CandleFile(path.name, arrays, closes, _segment_starts(arrays.open_ms))


def _segment_starts(open_ms: np.ndarray) -> np.ndarray:
    """For each candle, the index where its run of 60 s steps began (a gap restarts it)."""
    breaks = np.ones(len(open_ms), dtype=bool)
    breaks[1:] = np.diff(open_ms) != MINUTE_MS
    return np.maximum.accumulate(np.where(breaks, np.arange(len(open_ms)), 0))


def run_starts(data: CandleFile, intervals: int, history_bars: int) -> np.ndarray:
    """Indexes of the candles that open a run: a 5-minute boundary with ``history_bars``
    gap-free minutes before it and ``intervals`` whole windows after it, all in the file."""
    span = 5 * intervals
    idx = np.flatnonzero(data.open_ms % WINDOW_MS == 0)
    idx = idx[(idx >= history_bars) & (idx + span - 1 < len(data))]
    contiguous = data.segment_start[idx + span - 1] <= idx - history_bars
    return idx[contiguous]
