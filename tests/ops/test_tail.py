"""polybot tail: decoded, typed lines; garbage entries are printed, never fatal."""

from __future__ import annotations

import json
import threading
import time

import pytest

from polybot.cli import main
from polybot.stack import StackError
from polybot.stack.tailing import follow, human, resolve_streams
from shared import streams
from shared.bus import Bus
from tests import stubs


def test_short_names_resolve_to_streams():
    assert resolve_streams(["signals", "orders:events"]) == [streams.SIGNALS, streams.ORDER_EVENTS]
    assert resolve_streams(["polybot:clock", "signals:dlq"]) == [streams.CLOCK, streams.dlq(streams.SIGNALS)]
    assert resolve_streams([]) == list(streams.ALL_STREAMS)
    with pytest.raises(StackError, match="unknown stream 'signal'"):
        resolve_streams(["signal"])


def test_unknown_stream_is_one_error_line(capsys, tmp_path):
    assert main(["tail", "nope", "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unknown stream 'nope'") and err.count("\n") == 1


def test_a_garbage_entry_is_shown_as_such():
    line = human(streams.CLOCK, "1722470400000-0", {b"type": b"IntervalTick", b"data": b"\xc1\xff"})
    assert "UNDECODABLE" in line and "IntervalTick" in line and "2024-08-01 00:00:00.000" in line


@pytest.fixture
def bus(real_redis, redis_url, monkeypatch) -> Bus:
    monkeypatch.setenv("REDIS_URL", redis_url)
    return Bus(real_redis)


@pytest.mark.integration
def test_tail_prints_typed_messages_and_survives_garbage(bus, capsys, tmp_path):
    bus.publish(streams.CLOCK, stubs.tick(1))
    bus.redis.xadd(streams.CLOCK, {"type": "IntervalTick", "data": b"\x93not msgpack at all"})
    bus.redis.xadd(streams.CLOCK, {"type": "Mystery"})  # no data field
    bus.publish(streams.CLOCK, stubs.window_closed(1))

    assert main(["tail", "clock", "--from", "0", "--count", "4", "--state-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert "clock" in lines[0] and "IntervalTick" in lines[0] and "interval=1" in lines[0]
    assert "run_id=run-test" in lines[0]
    assert "UNDECODABLE" in lines[1] and "UNDECODABLE" in lines[2] and "no 'data' field" in lines[2]
    assert "WindowClosed" in lines[3] and "window_end=" in lines[3]


@pytest.mark.integration
def test_tail_json_carries_stream_id_and_message(bus, capsys, tmp_path):
    entry = bus.publish(streams.CLOCK, stubs.tick(3))
    bus.redis.xadd(streams.CLOCK, {"type": "IntervalTick", "data": b"garbage"})
    assert main(["tail", "clock", "--from", "0", "--count", "2", "--json", "--state-dir", str(tmp_path)]) == 0
    good, bad = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert good["stream"] == streams.CLOCK and good["id"] == entry and good["type"] == "IntervalTick"
    assert good["message"]["interval"] == 3 and good["message"]["type"] == "IntervalTick"
    assert good["message"]["id"] == str(stubs.tick(3).id)
    assert bad["type"] == "IntervalTick" and "error" in bad and bad["fields"]["data"] == "garbage"


@pytest.mark.integration
def test_tail_follows_new_entries_on_several_streams(bus):
    bus.publish(streams.CLOCK, stubs.tick(1))  # before the tail: not shown with the default $
    got: list = []
    thread = threading.Thread(target=lambda: got.extend(
        follow(bus.redis, [streams.CLOCK, streams.LEDGER_CMDS], "$", block_ms=100, count=2)))
    thread.start()
    time.sleep(0.3)
    bus.publish(streams.LEDGER_CMDS, _reset())
    bus.publish(streams.CLOCK, stubs.tick(2))
    thread.join(5)
    assert [stream for stream, _, _ in got] == [streams.LEDGER_CMDS, streams.CLOCK]
    assert "ResetHalt" in human(*got[0]) and "interval=2" in human(*got[1])


@pytest.mark.integration
def test_tail_without_redis_is_one_error_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["tail", "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach Redis at redis://127.0.0.1:1/0") and err.count("\n") == 1


def _reset():
    from shared import messages as m

    return m.ResetHalt(**m.header(key=("reset", 1), ts_event=1, ts_init=1))
