"""`polybot predict` (services.predictor.replay) on synthetic CSV files."""

import io
import json
import re

import pytest

from services.predictor.core import predict_window
from services.predictor.replay import HEADER, main, read_candles, run_predict
from tests.predictor.helpers import BASE_MS, open_times, random_walk, write_csv

FIELDS = {"window_start", "signal", "confidence", "rsi", "macd_line", "macd_signal", "rule", "reasoning"}
GOOD_ROW = f"{BASE_MS},60000,60010,59990,60005,1.5,,,,,"


@pytest.fixture
def good_csv(tmp_path):
    path = tmp_path / "candles.csv"
    write_csv(path, open_times(700), random_walk(11, 700))
    return path


def replay(path, profile="default"):
    out = io.StringIO()
    code = run_predict(str(path), profile, out=out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_line_per_window_with_enough_history(good_csv):
    code, lines = replay(good_csv)
    assert code == 0
    # 500 closed candles are first available at minute 500; the last candle closes at minute 700.
    assert len(lines) == (700 - 500) // 5 + 1
    assert lines[0]["window_start"] == "2024-08-05T08:20:00Z" and lines[-1]["window_start"] == "2024-08-05T11:40:00Z"
    for line in lines:
        assert set(line) == FIELDS
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00Z", line["window_start"])
        assert line["signal"] in ("UP", "DOWN", "SKIP") and 0 <= line["confidence"] <= 1
        assert isinstance(line["rsi"], float) and isinstance(line["reasoning"], str)


def test_replay_equals_predict_window_on_the_whole_file(good_csv):
    times, closes = read_candles(str(good_csv))
    _, lines = replay(good_csv)
    for k, line in enumerate(lines):
        window_start_s = BASE_MS // 1000 + 500 * 60 + 300 * k
        pred = predict_window(times, closes, window_start_s=window_start_s)
        assert (line["signal"], line["rule"], line["reasoning"]) == (pred.signal, pred.rule, pred.reasoning)


def test_strict_profile_only_uses_strict_rules(good_csv, capsys):
    assert main([str(good_csv), "--profile", "strict"]) == 0
    rules = {json.loads(line)["rule"] for line in capsys.readouterr().out.splitlines()}
    assert rules <= {"strict_up", "strict_down", "skip_no_signal", "skip_flat_market"}


def test_filled_optional_columns_are_accepted(tmp_path):
    path = tmp_path / "full.csv"
    row = f"{BASE_MS},60000,60010,59990,60005,1.5,{BASE_MS + 59_999},90000.1,12,0.7,42000"
    path.write_text(",".join(HEADER) + "\n" + row + "\n")
    times, closes = read_candles(str(path))
    assert times.tolist() == [BASE_MS] and closes.tolist() == [60005.0]


def test_short_file_prints_nothing_and_notes_it(tmp_path, capsys):
    path = tmp_path / "short.csv"
    write_csv(path, open_times(100), random_walk(1, 100))
    assert run_predict(str(path), "default") == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "fewer than 500" in captured.err


BAD_BODIES = {
    "wrong header": "time,open,high,low,close\n",
    "no rows": "",
    "too few columns": f"{BASE_MS},60000,60010,59990,60005,1.5\n",
    "text close": f"{BASE_MS},60000,60010,59990,abc,1.5,,,,,\n",
    "nan close": f"{BASE_MS},60000,60010,59990,nan,1.5,,,,,\n",
    "negative price": f"{BASE_MS},-1,60010,-2,-1,1.5,,,,,\n",
    "ohlc inconsistent": f"{BASE_MS},60000,59000,59990,60005,1.5,,,,,\n",
    "negative volume": f"{BASE_MS},60000,60010,59990,60005,-1,,,,,\n",
    "seconds not ms": f"{BASE_MS // 1000},60000,60010,59990,60005,1.5,,,,,\n",
    "unaligned time": f"{BASE_MS + 5},60000,60010,59990,60005,1.5,,,,,\n",
    "bad close time": f"{BASE_MS},60000,60010,59990,60005,1.5,{BASE_MS + 60_000},,,,\n",
    "duplicate time": f"{GOOD_ROW}\n{GOOD_ROW}\n",
    "decreasing time": f"{BASE_MS + 60_000},60000,60010,59990,60005,1.5,,,,,\n{GOOD_ROW}\n",
    "nul byte": f"{GOOD_ROW}\n\0\n",
}


@pytest.mark.parametrize("problem", sorted(BAD_BODIES))
def test_bad_file_exits_2_with_one_error_line(tmp_path, capsys, problem):
    path = tmp_path / "bad.csv"
    body = BAD_BODIES[problem]
    path.write_text(body if problem == "wrong header" else ",".join(HEADER) + "\n" + body)
    assert run_predict(str(path), "default") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1 and captured.err.startswith("polybot predict: error:")


@pytest.mark.parametrize("target", ["missing.csv", "."])
def test_unreadable_path_exits_2(tmp_path, capsys, target):
    assert main([str(tmp_path / target)]) == 2
    assert capsys.readouterr().err.startswith("polybot predict: error:")


def test_binary_file_exits_2(tmp_path, capsys):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert run_predict(str(path), "default") == 2


def test_unknown_profile_is_rejected(good_csv, capsys):
    assert run_predict(str(good_csv), "yolo") == 2
    with pytest.raises(SystemExit) as exit_info:
        main([str(good_csv), "--profile", "yolo"])
    assert exit_info.value.code == 2
