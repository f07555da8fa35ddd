"""``polybot data download``: Binance 1-minute klines into the shared CSV format.

``GET /api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=..&endTime=..&limit=1000``,
paged by open time.  The range is ``[start, end)`` by kline open time, clamped to the
last *closed* minute (the exchange's clock).  Rows are written exactly as Binance
sends them (numbers without trailing zeros) to a temporary file renamed into place
at the end, so a failed download leaves no partial CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

import requests

from polybot.stack import StackError
from polybot.stack.progress import ProgressBar

HEADER = ("open_time_ms", "open", "high", "low", "close", "volume", "close_time_ms", "quote_volume",
          "trades", "taker_buy_base", "taker_buy_quote")
MINUTE_MS = 60_000
PAGE = 1000  # Binance's maximum per call
DEFAULT_BASE_URL = "https://api.binance.com"
RETRIES = 5

Fetch = Callable[[str, dict], object]  # (path, params) -> decoded JSON


def parse_time(text: str) -> int:
    """ISO 8601 (UTC when no zone is given) -> epoch ms."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise StackError(f"{text!r} is not an ISO 8601 time such as 2024-08-01 or 2024-08-01T12:00Z") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return int(value.timestamp() * 1000)


def iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def http_fetch(base_url: str, session: requests.Session | None = None, timeout_s: float = 10.0,
               sleep: Callable[[float], None] = time.sleep) -> Fetch:
    """GET base_url+path; retries 429/418/5xx and connection errors (Retry-After honoured)."""
    session = session or requests.Session()
    base = base_url.rstrip("/")

    def fetch(path: str, params: dict) -> object:
        for attempt in range(1, RETRIES + 1):
            try:
                response = session.get(base + path, params=params, timeout=timeout_s)
            except requests.RequestException as exc:
                if attempt == RETRIES:
                    raise StackError(f"cannot reach {base}: {_reason(exc)}") from None
                sleep(min(2 ** attempt * 0.25, 5))
                continue
            if response.status_code in (418, 429) or response.status_code >= 500:
                if attempt == RETRIES:
                    raise StackError(f"{base}{path} answered HTTP {response.status_code} {RETRIES} times")
                sleep(min(float(response.headers.get("Retry-After") or 2 ** attempt * 0.25), 60))
                continue
            if response.status_code != 200:
                raise StackError(f"{base}{path} answered HTTP {response.status_code}: {_binance_message(response)}")
            try:
                return response.json()
            except ValueError:
                raise StackError(f"{base}{path} did not answer JSON (is --base-url a Binance REST URL?)") from None
        raise AssertionError("unreachable")

    return fetch


def _reason(exc: Exception) -> str:
    """'[Errno 111] Connection refused' rather than urllib3's whole retry story."""
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", str(exc))
    return found.group(0) if found else f"{type(exc).__name__}: {str(exc)[:150]}"


def _binance_message(response: requests.Response) -> str:
    try:
        body = response.json()
        return f"{body.get('msg')} (code {body.get('code')})"
    except (ValueError, AttributeError):
        return response.text[:200]


def plain(text: object) -> str:
    """A Binance number string without trailing zeros or exponent: '50441.00000000' -> '50441'."""
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise StackError(f"unexpected number {text!r} in a kline") from None
    out = format(value.normalize(), "f")
    return "0" if out in ("-0", "") else out


def csv_row(kline: list) -> list[str]:
    if not isinstance(kline, list) or len(kline) < 11:
        raise StackError(f"unexpected kline {str(kline)[:120]}: expected Binance's 12-element array")
    return [str(int(kline[0])), *(plain(v) for v in kline[1:6]), str(int(kline[6])), plain(kline[7]),
            str(int(kline[8])), plain(kline[9]), plain(kline[10])]


def pages(fetch: Fetch, symbol: str, start_ms: int, end_ms: int) -> Iterator[list[list]]:
    """Pages of klines with open time in [start_ms, end_ms), 1000 per call, oldest first."""
    cursor = start_ms
    while cursor < end_ms:
        page = fetch("/api/v3/klines", {"symbol": symbol, "interval": "1m", "startTime": cursor,
                                        "endTime": end_ms - 1, "limit": PAGE})
        if not isinstance(page, list):
            raise StackError(f"unexpected klines answer: {str(page)[:120]}")
        page = [k for k in page if start_ms <= int(k[0]) < end_ms]
        if not page:
            return
        yield page
        cursor = int(page[-1][0]) + MINUTE_MS


def download(fetch: Fetch, start_ms: int, end_ms: int, out: str, symbol: str = "BTCUSDT",
             progress_stream=None) -> dict:
    """Write the CSV; return a summary (rows, gaps, clamped end)."""
    if start_ms % MINUTE_MS or end_ms % MINUTE_MS:
        start_ms, end_ms = _ceil(start_ms), _ceil(end_ms)
    if end_ms <= start_ms:
        raise StackError(f"--end ({iso(end_ms)}) must be after --start ({iso(start_ms)})")
    server_ms = int(_server_time(fetch))
    last_closed_end = server_ms // MINUTE_MS * MINUTE_MS  # the still-open minute is left out
    clamped = end_ms > last_closed_end
    end_ms = min(end_ms, last_closed_end)
    if end_ms <= start_ms:
        raise StackError(f"nothing to download: the exchange's time is {iso(server_ms)}, before --start")
    bar = ProgressBar((end_ms - start_ms) // MINUTE_MS, f"{symbol} 1m {iso(start_ms)} -> {iso(end_ms)}",
                      progress_stream)
    rows, gaps, previous = 0, [], None
    with _atomic_writer(out) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        for page in pages(fetch, symbol, start_ms, end_ms):
            for kline in page:
                open_ms = int(kline[0])
                expected = start_ms if previous is None else previous + MINUTE_MS
                if open_ms != expected:
                    gaps.append((expected, open_ms))
                writer.writerow(csv_row(kline))
                previous = open_ms
                rows += 1
            bar.update((previous - start_ms) // MINUTE_MS + 1, f"{rows} rows")
    bar.close(f"{rows} rows written to {out}")
    if previous is not None and previous + MINUTE_MS < end_ms:
        gaps.append((previous + MINUTE_MS, end_ms))
    return {"rows": rows, "gaps": gaps, "clamped_end": end_ms if clamped else None}


def _ceil(ms: int) -> int:
    return -(-ms // MINUTE_MS) * MINUTE_MS


def _server_time(fetch: Fetch) -> int:
    answer = fetch("/api/v3/time", {})
    if not isinstance(answer, dict) or "serverTime" not in answer:
        raise StackError(f"unexpected /api/v3/time answer: {str(answer)[:120]}")
    return answer["serverTime"]


class _atomic_writer:
    """A temporary file beside ``out``, renamed over it on success; ``-`` is stdout."""

    def __init__(self, out: str):
        self.out = out

    def __enter__(self):
        if self.out == "-":
            return sys.stdout
        path = Path(self.out)
        if path.parent and not path.parent.exists():
            raise StackError(f"cannot write {path}: directory {path.parent} does not exist")
        fd, self.tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or ".")
        self.file = os.fdopen(fd, "w", newline="")
        return self.file

    def __exit__(self, kind, exc, tb):
        if self.out == "-":
            sys.stdout.flush()
            return False
        self.file.close()
        if kind is None:
            os.replace(self.tmp, self.out)
        else:
            os.unlink(self.tmp)
        return False
