"""Freshness on a real Redis: signals and ledger states arrive with random delays from
several threads, and every decision for interval k must use the state that includes
the settlement of interval k−1 — never an older one, never an in-between one.

A fake ledger settles interval k only after it has seen decision k, and between the two
publishes a decoy state (k decided, not settled) whose streak is 1000+k: a decision
that read it, or an older state, shows a capital/streak that differs from the expected.
"""

from __future__ import annotations

import random
import threading
import time
from decimal import Decimal

import pytest
import redis

from services.risk.allocator import allocate
from services.risk.handler import RiskHandler
from services.risk.state import LedgerStateWaiter
from shared import messages as m, streams
from shared.bus import Bus
from shared.clock import ManualClock
from shared.runtime import RuntimeConfig, ServiceLoop, StopFlag
from tests.risk.stubs import T0, config, signal, state

INTERVALS = 12
D = Decimal


def pause(rng: random.Random, most_s: float = 0.06) -> None:
    time.sleep(rng.uniform(0, most_s))


class FakeLedger(threading.Thread):
    """Decides-then-settles each interval after random delays; records what risk must see."""

    def __init__(self, url: str, seed: int):
        super().__init__(daemon=True)
        self.redis = redis.Redis.from_url(url)
        self.rng = random.Random(seed)
        self.expected: dict[int, tuple[Decimal, int]] = {}
        self.error: BaseException | None = None
        self.version = 0

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def _run(self) -> None:
        capital, streak, cursor = D("100"), 0, "0-0"
        pause(self.rng)  # signal 1 may well arrive before the first state exists
        self.publish(capital, streak, settled=0, decided=0)
        self.expected[1] = (capital, streak)
        for k in range(1, INTERVALS + 1):
            cursor = self.wait_for_decision(k, cursor)
            pause(self.rng)
            self.publish(capital + D("0.001"), 1000 + k, settled=k - 1, decided=k)  # the decoy
            pause(self.rng)
            pnl = D(self.rng.randint(-200, 300) or 1) / 100  # never 0: every settlement moves capital
            capital, streak = capital + pnl, (streak + 1 if pnl > 0 else 0)
            self.publish(capital, streak, settled=k, decided=k)
            self.expected[k + 1] = (capital, streak)

    def publish(self, capital: Decimal, streak: int, *, settled: int, decided: int) -> None:
        self.version += 1
        st = state(capital=str(capital), streak=streak, settled_through=settled, decided_through=decided,
                   version=self.version)
        self.redis.set(streams.LEDGER_STATE_KEY, m.encode(st))
        Bus(self.redis).publish(streams.LEDGER_EVENTS, st)

    def wait_for_decision(self, k: int, cursor: str) -> str:
        give_up = time.monotonic() + 30
        while time.monotonic() < give_up:
            for _, entries in self.redis.xread({streams.DECISIONS: cursor}, block=200) or []:
                for entry_id, fields in entries:
                    cursor = entry_id.decode()
                    if m.decode(streams.DECISIONS, fields[b"data"]).interval == k:
                        return cursor
        raise TimeoutError(f"no decision for interval {k}")


def publish_signals(url: str, seed: int) -> None:
    rng, bus = random.Random(seed), Bus(redis.Redis.from_url(url))
    for k in range(1, INTERVALS + 1):
        pause(rng, 0.1)
        bus.publish(streams.SIGNALS, signal(k))


def risk_replica(url: str, replica: str, stop: StopFlag) -> threading.Thread:
    client = redis.Redis.from_url(url)
    clock = ManualClock(T0)  # before every entry deadline: only settlement gates a decision
    waiter = LedgerStateWaiter(client, clock, max_wait_s=10, block_ms=100, stopping=lambda: bool(stop))
    loop = ServiceLoop(RiskHandler(config(), waiter, clock), Bus(client),
                       RuntimeConfig(replica=replica, block_ms=50, max_deliveries=50), stop=stop)
    loop.stop = stop  # ServiceLoop swaps an unset StopFlag for a new one (`stop or StopFlag()`)
    return threading.Thread(target=loop.run, daemon=True)


@pytest.mark.integration
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_decision_uses_the_state_after_the_previous_interval_settled(real_redis, redis_url, seed):
    # Arrange: a fake ledger, a signal publisher and two risk replicas, all with random delays
    stop = StopFlag()
    ledger = FakeLedger(redis_url, seed)
    threads = [ledger, threading.Thread(target=publish_signals, args=(redis_url, seed + 100), daemon=True),
               risk_replica(redis_url, "1", stop), risk_replica(redis_url, "2", stop)]
    # Act
    for thread in threads:
        thread.start()
    ledger.join(timeout=60)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    # Assert
    assert ledger.error is None, ledger.error
    decisions = [m.decode(streams.DECISIONS, f[b"data"]) for _, f in real_redis.xrange(streams.DECISIONS)]
    assert [d.interval for d in decisions] == list(range(1, INTERVALS + 1))
    for decision in decisions:
        capital, streak = ledger.expected[decision.interval]
        assert (decision.capital, decision.win_streak) == (capital, streak), decision.interval
        quote = decision.prediction.quote
        expected_stake = allocate(config(), capital, streak, ask=quote.up.best_ask, fee=quote.fee).stake
        assert decision.approved and decision.stake == expected_stake, decision.reasons
    assert len(real_redis.xrange(streams.ORDER_CMDS)) == INTERVALS
