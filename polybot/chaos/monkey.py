"""The kill plan (seeded) and the loop that carries it out against a running Stack.

The plan is a pure function of (count, seed, intervals): every service at least twice,
some kills aimed at the dangerous moments (``moments.py``), the rest random.  Kills are
spread over the run by its *progress*, not by wall time (a replay at ``--speed max``
runs as fast as the pipeline, and that speed changes): kill i waits until the ledger
has reached step ``at_step`` (decided_through + settled_through, two steps per
interval; kills are planned in the first 60 % of the run), then a seeded jitter of up to 100 ms, so it lands somewhere in the
pipeline's next move.  What exactly it interrupts depends on timing, which is the
point.  Every killed process is started again with the same environment after a short
seeded pause.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from polybot.chaos import moments
from polybot.chaos.stack import Stack

CHAOS_SERVICES = ("clock", "feed", "predictor", "risk", "executor", "ledger", "resolver")
RANDOM = "random"


@dataclass(frozen=True)
class Kill:
    service: str
    moment: str = RANDOM   # RANDOM or one of moments.AIMED
    at_step: int = 0       # run progress (decided + settled intervals) to wait for
    jitter_s: float = 0.0  # then this long (RANDOM), or this long after the trigger (aimed)
    down_s: float = 0.0    # how long the process stays dead


@dataclass(frozen=True)
class KillRecord:
    service: str
    moment: str
    phase: str     # what the kill interrupted (moments.classify), "random" for random kills
    at_s: float    # seconds since the monkey started
    step: int      # run progress when it was killed


def plan_kills(count: int, seed: int, intervals: int,
               services: tuple[str, ...] = CHAOS_SERVICES) -> list[Kill]:
    """``count`` kills (at least two per service), about a quarter of them aimed."""
    rng = random.Random(seed)
    aimed_each = max(1, count // 12)
    wanted = [(s, RANDOM) for s in services for _ in range(2)]
    wanted += [(service, moment) for moment, service in moments.AIMED.items() for _ in range(aimed_each)]
    while len(wanted) < count:
        wanted.append((rng.choice(services), RANDOM))
    rng.shuffle(wanted)
    # Kills land in the first 60 % of the run (aimed ones, which wait for a trade, in the
    # first half): the pipeline can run ahead of the monkey, and the rest is the margin
    # that lets every planned kill happen before the run completes.
    last_step = {RANDOM: max(1, 2 * intervals * 6 // 10), **{a: max(1, intervals) for a in moments.AIMED}}
    kills = [Kill(service, moment, at_step=rng.randrange(0, last_step[moment]),
                  jitter_s=rng.uniform(0.0, 0.1) if moment == RANDOM else rng.uniform(0.0, 0.004),
                  down_s=rng.uniform(0.0, 0.2))
             for service, moment in wanted]
    return sorted(kills, key=lambda kill: kill.at_step)


@dataclass
class ChaosMonkey:
    stack: Stack
    plan: list[Kill]
    trigger_timeout_s: float = 30.0
    trigger_patience_steps: int = 12  # give up on an aimed kill after 6 intervals without its event
    on_kill: Callable[[KillRecord], None] = lambda record: None  # progress reporting
    records: list[KillRecord] = field(default_factory=list)

    def run(self, timeout_s: float) -> list[KillRecord]:
        """Carry out the plan until it is done, the run completes, or time runs out."""
        started = time.monotonic()
        deadline = started + timeout_s
        for kill in self.plan:
            if not self._wait_for_step(kill.at_step, deadline):
                break
            if kill.moment == RANDOM and not self._pause(kill.jitter_s):
                break
            phase = self._kill(kill)
            if phase is None:  # the run completed while an aimed kill waited for its moment
                break
            self.records.append(KillRecord(kill.service, kill.moment, phase,
                                           round(time.monotonic() - started, 3), self._progress()))
            self.on_kill(self.records[-1])
            self._pause(kill.down_s)
            self.stack.restart(kill.service)
        return self.records

    def phases(self) -> Counter[tuple[str, str]]:
        return Counter((r.moment, r.phase) for r in self.records if r.moment != RANDOM)

    def _kill(self, kill: Kill) -> str | None:
        """Kill now (random) or at the kill's moment; what it hit, or None if the run
        completed first."""
        if kill.moment == RANDOM:
            self.stack.kill(kill.service)
            return RANDOM
        msg = moments.wait_for_trigger(self.stack, kill.moment, self.trigger_timeout_s,
                                       give_up=lambda: self._give_up_waiting(kill))
        if msg is None and self.stack.complete():
            return None
        if msg is not None and kill.moment == moments.ORDER_IN_FLIGHT:
            moments.wait_until_venue_has(self.stack, msg)
        elif msg is not None:
            time.sleep(kill.jitter_s)
        self.stack.kill(kill.service)
        return moments.classify(self.stack, kill.moment, msg)

    def _give_up_waiting(self, kill: Kill) -> bool:
        self.stack.supervise()
        return self.stack.complete() or self._progress() > kill.at_step + self.trigger_patience_steps

    def _progress(self) -> int:
        state = self.stack.ledger_state()
        return state.decided_through + state.settled_through if state is not None else -1

    def _wait_for_step(self, step: int, deadline: float) -> bool:
        """Until the run has made ``step`` steps; False if it completed or time ran out."""
        while time.monotonic() < deadline:
            self.stack.supervise()
            if self.stack.complete():
                return False
            if self._progress() >= step:
                return True
            time.sleep(0.005)
        return False

    def _pause(self, seconds: float) -> bool:
        """Sleep while supervising; False once the run is complete (nothing left to hit)."""
        end = time.monotonic() + seconds
        while True:
            self.stack.supervise()
            if self.stack.complete():
                return False
            left = end - time.monotonic()
            if left <= 0:
                return True
            time.sleep(min(0.05, left))
