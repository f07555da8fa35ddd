"""The floor: one hop of the bus between two processes.

A producer process publishes IntervalTicks through ``shared.bus.Bus`` (its Lua commit: marker + XADD)
with ``ts_init`` = its wall clock just before publishing; a consumer process in a
consumer group reads them with ``shared.bus.Consumer`` (blocking XREADGROUP, decode)
and records ``now - ts_init``.  The producer waits ``gap`` between messages so the
consumer is idle and blocked, as every service is when an interval starts.  Nothing
else runs on the private Redis.

    python -m polybot.bench.hop consume REDIS_URL N     # prints READY, then the deltas (JSON)
    python -m polybot.bench.hop produce REDIS_URL N GAP_US
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

WARMUP = 50  # first samples dropped: connection set-up, first allocations


def consume(url: str, n: int) -> list[int]:
    from shared import streams
    from shared.bus import Bus, Consumer
    from shared.redis_conn import connect

    consumer = Consumer(Bus(connect(url)), "bench", "bench-1", [streams.CLOCK], block_ms=5000, count=16)
    consumer.ensure_groups()
    print("READY", flush=True)
    deltas: list[int] = []
    while len(deltas) < n:
        entries = consumer.read()
        now = time.time_ns()
        for entry in entries:
            deltas.append(now - entry.msg.ts_init)
            consumer.commit(entry)
        if not entries:
            break  # the producer died: report what we have
    return deltas


def produce(url: str, n: int, gap_s: float) -> None:
    from shared import messages as m, streams
    from shared.bus import Bus
    from shared.redis_conn import connect

    bus = Bus(connect(url))
    for i in range(1, n + 1):
        now = time.time_ns()
        tick = m.IntervalTick(**m.header(key=("bench-hop", i), ts_event=now, ts_init=now),
                              run_id="bench", interval=i, intervals_total=n, window_start=300 * i,
                              window_end=300 * i + 300, entry_deadline=300 * i + 60)
        bus.publish(streams.CLOCK, tick)
        time.sleep(gap_s)


def measure(redis_url: str, samples: int, gap_us: int = 1000, timeout_s: float = 120.0) -> dict:
    """Run the two processes against ``redis_url`` (private: its clock stream is used)."""
    from polybot.bench.stats import summary

    total = samples + WARMUP
    consumer = subprocess.Popen([sys.executable, "-m", "polybot.bench.hop", "consume", redis_url, str(total)],
                                stdout=subprocess.PIPE, text=True)
    try:
        if consumer.stdout.readline().strip() != "READY":
            raise RuntimeError("the hop consumer did not start")
        subprocess.run([sys.executable, "-m", "polybot.bench.hop", "produce", redis_url, str(total), str(gap_us)],
                       timeout=timeout_s, check=True)
        out, _ = consumer.communicate(timeout=timeout_s)
    finally:
        if consumer.poll() is None:
            consumer.kill()
            consumer.wait()
    deltas = json.loads(out)[WARMUP:]
    return {"samples": len(deltas), "gap_us": gap_us, **summary([d / 1e6 for d in deltas])}


def main(argv: list[str]) -> int:
    role, url, n = argv[0], argv[1], int(argv[2])
    if role == "consume":
        print(json.dumps(consume(url, n)), flush=True)
    else:
        produce(url, n, int(argv[3]) / 1e6)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
