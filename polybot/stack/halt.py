"""``polybot reset-halt``: publish ``ResetHalt`` on the ledger's command stream."""

from __future__ import annotations

import sys
import time
import uuid

from polybot.stack import StackError
from polybot.stack.connect import connect
from polybot.stack.layout import Layout
from shared import messages as m, streams
from shared.bus import Bus
from shared.ledger_view import read_state, wait_for_state


def describe(state: m.LedgerState | None) -> str:
    if state is None:
        return "no ledger state in Redis (is the ledger running?)"
    halted = f"HALTED ({state.halt_reason or 'no reason given'})" if state.halted else "not halted"
    return (f"{halted}; run {state.run_id or '-'}, capital ${state.current_capital:.2f} "
            f"(start ${state.starting_capital:.2f}), settled through interval {state.settled_through}")


def reset_halt(state_dir: str, reason: str, force: bool = False, wait_s: float = 10.0, out=None) -> int:
    out = out or sys.stdout
    client = connect(Layout.of(state_dir))
    before = read_state(client)
    print(f"state before: {describe(before)}", file=out)
    if before is not None and not before.halted and not force:
        print("nothing to reset: the bot is not halted (--force publishes anyway)", file=out)
        return 0
    now = time.time_ns()
    command = m.ResetHalt(id=uuid.uuid4(), ts_event=now, ts_init=now, reason=reason)
    entry_id = Bus(client).publish(streams.LEDGER_CMDS, command)
    print(f"published ResetHalt {command.id} on {streams.LEDGER_CMDS} (entry {entry_id})", file=out, flush=True)
    if wait_s <= 0:
        return 0
    def applied(state: m.LedgerState) -> bool:  # the state the ledger published for our command, or later
        return state.correlation_id == command.id or (before is not None and state.version > before.version)

    after = wait_for_state(client, applied, timeout_s=wait_s)
    if after is None:
        raise StackError(f"the ledger did not record the reset within {wait_s:.0f} s; the command stays queued on "
                         f"{streams.LEDGER_CMDS} and is applied when the ledger runs (polybot status)")
    print(f"state after: {describe(after)}", file=out)
    if after.halted:
        print(f"the ledger recorded the reset; the halt is lifted from interval {after.settled_through + 1} on",
              file=out)
    return 0
