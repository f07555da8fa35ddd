"""polybot reset-halt publishes ResetHalt on the ledger's command stream."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from polybot.cli import main
from shared import messages as m, streams
from shared.bus import Bus

pytestmark = pytest.mark.integration


def state(halted: bool, version: int = 10, cause=None) -> m.LedgerState:
    return m.LedgerState(**m.header(key=("ledger_state", "run-1", version), ts_event=1, ts_init=1, cause=cause),
                         run_id="run-1", starting_capital=Decimal(100), current_capital=Decimal("69.50"),
                         peak_capital=Decimal(100), win_streak=0, total_trades=6, is_active=not halted,
                         halted=halted, halt_reason="drawdown: capital 69.50 <= floor 70.00" if halted else "",
                         intervals_total=18, current_interval=7, decided_through=7, settled_through=7,
                         open_position=None, run_complete=False, version=version)


@pytest.fixture
def client(real_redis, redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    return real_redis


def commands(client) -> list[m.ResetHalt]:
    return [m.decode(streams.LEDGER_CMDS, fields[b"data"]) for _, fields in client.xrange(streams.LEDGER_CMDS)]


def test_publishes_reset_halt_and_shows_the_state_it_was(client, capsys, tmp_path):
    client.set(streams.LEDGER_STATE_KEY, m.encode(state(halted=True)))
    assert main(["reset-halt", "--reason", "checked the feed", "--wait", "0", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "state before: HALTED (drawdown: capital 69.50 <= floor 70.00)" in out
    (command,) = commands(client)
    assert isinstance(command, m.ResetHalt) and command.reason == "checked the feed"
    assert client.xrange(streams.LEDGER_CMDS)[0][1][b"type"] == b"ResetHalt"
    assert str(command.id) in out


def test_not_halted_publishes_nothing_unless_forced(client, capsys, tmp_path):
    client.set(streams.LEDGER_STATE_KEY, m.encode(state(halted=False)))
    assert main(["reset-halt", "--wait", "0", "--state-dir", str(tmp_path)]) == 0
    assert "not halted" in capsys.readouterr().out and commands(client) == []
    assert main(["reset-halt", "--force", "--wait", "0", "--state-dir", str(tmp_path)]) == 0
    assert len(commands(client)) == 1


def test_waits_for_the_ledger_to_record_it(client, capsys, tmp_path):
    client.set(streams.LEDGER_STATE_KEY, m.encode(state(halted=True)))

    def ledger():  # what the ledger does: read the command, publish the new state caused by it
        reply = client.xread({streams.LEDGER_CMDS: "0-0"}, block=5000)
        command = m.decode(streams.LEDGER_CMDS, reply[0][1][0][1][b"data"])
        new = state(halted=False, version=11, cause=command)
        client.set(streams.LEDGER_STATE_KEY, m.encode(new))
        Bus(client).publish(streams.LEDGER_EVENTS, new)

    thread = threading.Thread(target=ledger)
    thread.start()
    assert main(["reset-halt", "--wait", "5", "--state-dir", str(tmp_path)]) == 0
    thread.join(5)
    out = capsys.readouterr().out
    assert "state before: HALTED" in out and "state after: not halted" in out


def test_ledger_not_answering_is_one_error_line(client, capsys, tmp_path):
    client.set(streams.LEDGER_STATE_KEY, m.encode(state(halted=True)))
    assert main(["reset-halt", "--wait", "0.3", "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the ledger did not record the reset") and err.count("\n") == 1
    assert len(commands(client)) == 1  # still queued for the ledger
