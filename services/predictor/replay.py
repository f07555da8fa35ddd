"""`polybot predict FILE.csv`: replay a Binance 1m CSV through the predictor core.

One JSON line per 5-minute window start that has enough closed history, made by
the same `predict_window` the live service uses, with imbalance None (neutral)
and no market prices (so the edge gate, if configured, skips for lack of a price).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from decimal import Decimal
from typing import TextIO

import msgspec
import numpy as np

from services.predictor.config import PredictorConfig
from services.predictor.core import CANDLE_MS, WINDOW_S, predict_window

HEADER = [
    "open_time_ms", "open", "high", "low", "close", "volume",
    "close_time_ms", "quote_volume", "trades", "taker_buy_base", "taker_buy_quote",
]  # fmt: skip
# Plausible epoch-ms range (2009..2100): catches seconds or microseconds by mistake.
_MIN_MS, _MAX_MS = 1_230_768_000_000, 4_102_444_800_000
EXIT_BAD_INPUT = 2


class BadCandleFile(ValueError):
    """The CSV cannot be replayed; the message names the line."""


class ReplayLine(msgspec.Struct):
    window_start: str
    signal: str
    confidence: Decimal
    rsi: Decimal | None
    macd_line: Decimal | None
    macd_signal: Decimal | None
    rule: str
    reasoning: str


def read_candles(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Open times (int64 ms) and closes (float64) of a validated candle CSV."""
    times: list[int] = []
    closes: list[float] = []
    with open(path, newline="", encoding="utf-8-sig") as handle:  # tolerate a BOM
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != HEADER:
            raise BadCandleFile(f"{path}: line 1: expected header {','.join(HEADER)}")
        for line_no, row in enumerate(reader, start=2):
            if not row:
                continue  # a blank line carries no candle
            open_ms, close = _parse_row(row, f"{path}: line {line_no}")
            if times and open_ms <= times[-1]:
                raise BadCandleFile(f"{path}: line {line_no}: open_time_ms {open_ms} is not after {times[-1]}")
            times.append(open_ms)
            closes.append(close)
    if not times:
        raise BadCandleFile(f"{path}: no candles")
    return np.array(times, dtype=np.int64), np.array(closes, dtype=np.float64)


def _parse_row(row: list[str], where: str) -> tuple[int, float]:
    if len(row) != len(HEADER):
        raise BadCandleFile(f"{where}: expected {len(HEADER)} columns, got {len(row)}")
    try:
        open_ms = int(row[0])
        open_, high, low, close, volume = (float(field) for field in row[1:6])
        extras = [float(field) for field in row[6:] if field != ""]  # columns 6-10 may be empty
    except ValueError as exc:
        raise BadCandleFile(f"{where}: {exc}") from None
    if not _MIN_MS <= open_ms <= _MAX_MS or open_ms % CANDLE_MS:
        raise BadCandleFile(f"{where}: open_time_ms {open_ms} is not a whole minute in epoch milliseconds")
    if not all(math.isfinite(v) for v in (open_, high, low, close, volume, *extras)):
        raise BadCandleFile(f"{where}: non-finite number")
    if min(open_, high, low, close) <= 0 or volume < 0:
        raise BadCandleFile(f"{where}: prices must be > 0 and volume >= 0")
    if not low <= min(open_, close) <= max(open_, close) <= high:
        raise BadCandleFile(f"{where}: inconsistent OHLC (low {low}, high {high})")
    if row[6] and int(float(row[6])) != open_ms + CANDLE_MS - 1:
        raise BadCandleFile(f"{where}: close_time_ms {row[6]} is not open_time_ms + 59999")
    return open_ms, close


def iter_window_starts(times: np.ndarray, history_bars: int):
    """(window_start_s, n_closed) for every 300 s boundary from the first with enough history to the last candle."""
    window_ms = WINDOW_S * 1000
    earliest_ms = int(times[0]) + history_bars * CANDLE_MS
    first = -(-earliest_ms // window_ms)  # ceil
    last = (int(times[-1]) + CANDLE_MS) // window_ms
    for k in range(first, last + 1):
        start_ms = k * window_ms
        n_closed = int(np.searchsorted(times, start_ms - CANDLE_MS, side="right"))
        if n_closed >= history_bars:  # a gap in the file can leave too little history
            yield k * WINDOW_S, n_closed


def run_predict(path: str, profile: str, out: TextIO = sys.stdout, *, cfg: PredictorConfig | None = None) -> int:
    """Print one JSON line per window; 0 on success, 2 (one line on stderr) on a bad file or profile."""
    try:
        # An explicit cfg (e.g. from the env loader) keeps its thresholds; the profile argument wins.
        cfg = msgspec.structs.replace(cfg, profile=profile) if cfg else PredictorConfig(profile=profile)
        times, closes = read_candles(path)
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        print(f"polybot predict: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    encoder = msgspec.json.Encoder(decimal_format="number")
    windows = 0
    for window_start_s, n_closed in iter_window_starts(times, cfg.history_bars):
        # Pass only candles up to the window start: the core also filters, this keeps it O(history).
        lo = n_closed - cfg.history_bars
        pred = predict_window(times[lo:n_closed], closes[lo:n_closed], window_start_s=window_start_s, cfg=cfg)
        line = ReplayLine(
            window_start=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(window_start_s)),
            signal=pred.signal, confidence=pred.confidence, rsi=pred.rsi,
            macd_line=pred.macd_line, macd_signal=pred.macd_signal, rule=pred.rule, reasoning=pred.reasoning,
        )  # fmt: skip
        out.write(encoder.encode(line).decode() + "\n")
        windows += 1
    if windows == 0:
        note = f"polybot predict: note: {path} has fewer than {cfg.history_bars} candles before any window"
        print(note, file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="polybot predict", description=__doc__.splitlines()[0])
    parser.add_argument("file", metavar="FILE.csv", help="Binance-format 1m kline CSV (shared/data format)")
    parser.add_argument("--profile", choices=("strict", "default"), default="default")
    args = parser.parse_args(argv)
    return run_predict(args.file, args.profile)


if __name__ == "__main__":
    sys.exit(main())
