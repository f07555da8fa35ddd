"""polybot data download: paging, the CSV format, errors; end to end against the simulator."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from polybot.cli import main
from polybot.stack import StackError
from polybot.stack.klines import HEADER, MINUTE_MS, download, http_fetch, plain

T0 = 1_722_470_400_000  # 2024-08-01T00:00Z


def kline(open_ms: int) -> list:
    return [open_ms, "60000.10000000", "60010.00000000", "59990.00000000", "60005.00000000", "12.50000000",
            open_ms + 59_999, "750062.50000000", 321, "6.25000000", "375031.25000000", "0"]


class FakeBinance:
    """/api/v3/klines with Binance's paging rules over a fixed set of minutes."""

    def __init__(self, opens: list[int], now_ms: int):
        self.opens, self.now_ms, self.calls = opens, now_ms, []

    def __call__(self, path: str, params: dict):
        self.calls.append((path, dict(params)))
        if path == "/api/v3/time":
            return {"serverTime": self.now_ms}
        rows = [o for o in self.opens if params["startTime"] <= o <= params["endTime"]]
        return [kline(o) for o in rows[: min(params["limit"], 1000)]]


def test_pages_of_1000_cover_the_range_exactly(tmp_path):
    opens = [T0 + i * MINUTE_MS for i in range(2600)]
    fake = FakeBinance(opens, now_ms=T0 + 10**9)
    out = tmp_path / "k.csv"
    summary = download(fake, T0, T0 + 2500 * MINUTE_MS, str(out), progress_stream=io.StringIO())

    pages = [params for path, params in fake.calls if path == "/api/v3/klines"]
    assert [p["startTime"] for p in pages] == [T0, T0 + 1000 * MINUTE_MS, T0 + 2000 * MINUTE_MS]
    assert all(p["limit"] == 1000 and p["endTime"] == T0 + 2500 * MINUTE_MS - 1 for p in pages)
    rows = list(csv.reader(out.read_text().splitlines()))
    assert tuple(rows[0]) == HEADER and len(rows) == 2501 and summary["rows"] == 2500
    assert rows[1] == [str(T0), "60000.1", "60010", "59990", "60005", "12.5", str(T0 + 59_999), "750062.5",
                       "321", "6.25", "375031.25"]
    assert rows[-1][0] == str(T0 + 2499 * MINUTE_MS) and summary["gaps"] == []


def test_gaps_and_the_open_minute_are_reported(tmp_path):
    opens = [T0 + i * MINUTE_MS for i in range(10) if i not in (3, 4)]
    fake = FakeBinance(opens, now_ms=T0 + 8 * MINUTE_MS + 30_000)  # minute 8 is still open
    summary = download(fake, T0, T0 + 10 * MINUTE_MS, str(tmp_path / "k.csv"),
                       progress_stream=io.StringIO())
    assert summary["rows"] == 6  # minutes 0-2 and 5-7
    assert summary["gaps"] == [(T0 + 3 * MINUTE_MS, T0 + 5 * MINUTE_MS)]
    assert summary["clamped_end"] == T0 + 8 * MINUTE_MS


def test_plain_numbers_match_the_shared_files():
    assert [plain(v) for v in ("50441.00000000", "0.00000000", "0.07015000", "106856.75", "1E+2")] == \
        ["50441", "0", "0.07015", "106856.75", "100"]


def test_failures_leave_no_partial_file(tmp_path):
    def flaky(path, params):
        if path == "/api/v3/time":
            return {"serverTime": T0 + 10**9}
        if params["startTime"] > T0:
            raise StackError("boom")
        return [kline(T0 + i * MINUTE_MS) for i in range(1000)]

    out = tmp_path / "k.csv"
    with pytest.raises(StackError, match="boom"):
        download(flaky, T0, T0 + 2000 * MINUTE_MS, str(out), progress_stream=io.StringIO())
    assert list(tmp_path.iterdir()) == []


def test_http_errors_and_retries(monkeypatch):
    class Response:
        def __init__(self, status, body, headers=None):
            self.status_code, self._body, self.headers, self.text = status, body, headers or {}, json.dumps(body)

        def json(self):
            return self._body

    answers = [Response(429, {}, {"Retry-After": "0"}), Response(200, {"serverTime": 5}),
               Response(400, {"code": -1121, "msg": "Invalid symbol."})]

    class Session:
        def get(self, url, params, timeout):
            return answers.pop(0)

    fetch = http_fetch("http://x", session=Session(), sleep=lambda s: None)
    assert fetch("/api/v3/time", {}) == {"serverTime": 5}  # after one 429
    with pytest.raises(StackError, match=r"HTTP 400: Invalid symbol. \(code -1121\)"):
        fetch("/api/v3/klines", {})

    def refused(*a, **k):
        raise requests.ConnectionError("HTTPConnectionPool(...): [Errno 111] Connection refused')")

    monkeypatch.setattr(requests.Session, "get", refused)
    with pytest.raises(StackError, match=r"cannot reach http://127.0.0.1:1: \[Errno 111\] Connection refused$"):
        http_fetch("http://127.0.0.1:1", sleep=lambda s: None)("/api/v3/time", {})


def test_bad_arguments_are_one_error_line(capsys, tmp_path):
    assert main(["data", "download", "--start", "2024-08-02", "--end", "2024-08-01",
                 "--out", str(tmp_path / "x.csv")]) == 1
    assert capsys.readouterr().err == "error: --end (2024-08-01T00:00Z) must be after --start (2024-08-02T00:00Z)\n"
    assert main(["data", "download", "--start", "yesterday", "--end", "2024-08-01"]) == 1
    assert "not an ISO 8601 time" in capsys.readouterr().err


# -- end to end against the simulator --------------------------------------------------------
@pytest.fixture
def sim(data_dir):
    source = data_dir / "BTCUSDT-1m-2021-04-25_2021-04-29.csv"
    if not source.exists():
        source = sorted(data_dir.glob("*.csv"))[0]
    proc = subprocess.Popen([sys.executable, "-m", "services.sim", "--data", str(source), "--port", "0",
                             "--speed", "max"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        urls = json.loads(proc.stdout.readline())
        yield urls, source
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()


def read_rows(path: Path, count: int) -> list[list[str]]:
    with path.open() as f:
        reader = csv.reader(f)
        next(reader)
        return [row for _, row in zip(range(count), reader)]


def test_download_from_the_simulator_matches_the_source_rows(sim, tmp_path, capsys):
    urls, source = sim
    rows = read_rows(source, 2500)
    first, end = int(rows[0][0]), int(rows[-1][0]) + MINUTE_MS
    requests.post(urls["control"] + "/clock", json={"now_ms": end + 5 * MINUTE_MS}, timeout=10).raise_for_status()
    out = tmp_path / "btc.csv"
    started = time.monotonic()
    assert main(["data", "download", "--start", str(_iso(first)), "--end", str(_iso(end)),
                 "--out", str(out), "--base-url", urls["binance_rest"]]) == 0
    assert time.monotonic() - started < 30
    err = capsys.readouterr().err
    assert "100%" in err and "2500 rows written" in err  # the progress bar, on stderr

    got = list(csv.reader(out.read_text().splitlines()))
    assert tuple(got[0]) == HEADER and len(got) == 2501
    for mine, theirs in zip(got[1:], rows):
        assert mine[0] == theirs[0]
        assert [Decimal(v) for v in mine[1:6]] == [Decimal(v) for v in theirs[1:6]]
        assert mine[1:6] == [plain(v) for v in theirs[1:6]]  # the same text: no trailing zeros
        assert int(mine[6]) == int(mine[0]) + 59_999
        assert all(mine[7:11]), "every REST column is filled"


def test_download_error_from_the_simulator_is_one_line(sim, capsys, tmp_path):
    urls, _ = sim
    assert main(["data", "download", "--start", "2021-04-25T09:00", "--end", "2021-04-25T10:00", "--symbol", "ETHUSDT",
                 "--out", str(tmp_path / "e.csv"), "--base-url", urls["binance_rest"]]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "Invalid symbol" in err[0]
    assert list(tmp_path.iterdir()) == []


def _iso(ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
