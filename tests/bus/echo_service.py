"""A tiny service for bus tests: each IntervalTick becomes a WindowClosed.

Run as a script it consumes until killed, optionally hanging before the ack
(``--hang``) so a test can SIGKILL it mid-message.
"""

from __future__ import annotations

import sys
import time

from shared import messages as m, streams
from shared.bus import Bus
from shared.messages import Msg
from shared.redis_conn import connect
from shared.runtime import RuntimeConfig, ServiceLoop

OUT = "test:out"


class Echo:
    name = "echo"
    streams = (streams.CLOCK,)

    def __init__(self, hang: bool = False):
        self.hang = hang
        self.calls = 0

    def handle(self, stream: str, msg: Msg):
        self.calls += 1
        if isinstance(msg, m.IntervalTick) and msg.interval == 666:
            raise ValueError("poison: this message always fails")
        if self.hang:
            print("HANDLING", flush=True)
            time.sleep(3600)
        out = m.WindowClosed(**m.header(key=("echo", msg.id), ts_event=msg.ts_event, ts_init=msg.ts_init, cause=msg),
                             run_id=msg.run_id, interval=msg.interval, intervals_total=msg.intervals_total,
                             window_start=msg.window_start, window_end=msg.window_end)
        return [(OUT, out)]


if __name__ == "__main__":
    url, replica = sys.argv[1], sys.argv[2]
    cfg = RuntimeConfig(redis_url=url, replica=replica, block_ms=100)
    ServiceLoop(Echo(hang="--hang" in sys.argv), Bus(connect(url)), cfg).run()
