"""The interval clock: publishes IntervalTick at each window start and WindowClosed at
each window end, for every interval of the run, resuming where it stopped.

In lockstep mode (simulator at ``--speed max``) simulated time only moves when the
pipeline has finished with the current step, so a replay runs as fast as the services
go and gives the same result as a real-time run.  A window opens at the last one's end
while that one settles, as in real time: the next decision waits for the settlement
(the stake depends on it), the feed and the predictor need not.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import msgspec

from services.clock.config import ClockConfig
from services.clock.schedule import RunPlan, first_start_of
from services.clock.venue_wait import VenueWait
from shared import messages as m, streams
from shared.bus import Bus, KeyValue
from shared.clock import Clock, SimClock, WINDOW_SECONDS, window_start_of
from shared.health import Heartbeat
from shared.ledger_view import read_state, wait_for_state

log = logging.getLogger("polybot.clock")


class Ticker:
    def __init__(self, cfg: ClockConfig, bus: Bus, clock: Clock, should_stop: Callable[[], bool],
                 sleep: Callable[[float], None] = time.sleep):
        self.cfg = cfg
        self.bus = bus
        self.clock = clock
        self.should_stop = should_stop
        self.sleep = sleep
        self.heartbeat = Heartbeat(bus.redis, "clock", f"clock-{cfg.replica}", ttl_ms=cfg.heartbeat_ttl_ms)
        # Lockstep: the close of the window that may still be settling while the next
        # one is open (published again with the next tick if Redis loses both).
        self._settling: m.WindowClosed | None = None

    # -- the plan ------------------------------------------------------------------
    def load_plan(self) -> RunPlan:
        raw = self.bus.redis.get(streams.RUN_KEY)
        if raw:
            return msgspec.json.decode(raw, type=RunPlan)
        state = self._ledger_state_at_start()
        if state is not None and state.run_id:
            # Redis lost the plan but the ledger (rebuilt from its files) knows the run.
            plan = RunPlan.new(first_start_of(state.run_id), state.intervals_total, self.cfg.entry_deadline_s)
            plan.ticked, plan.closed = state.decided_through, state.settled_through
            if state.halted:  # close the halting window again: its prices may never have been asked for
                plan.closed = max(0, min(plan.closed, plan.ticked) - 1)
            elif state.run_complete:  # nothing left to tick: a new run would only be refused by the ledger
                plan.ticked = plan.closed = plan.intervals
            log.info("resuming the ledger's run", extra={"data": {"run_id": plan.run_id, "closed": plan.closed}})
            return plan
        if self.cfg.run_id:
            return RunPlan.new(first_start_of(self.cfg.run_id), self.cfg.intervals, self.cfg.entry_deadline_s)
        now = self.clock.now()
        first = int(now) if int(now) == now and int(now) % WINDOW_SECONDS == 0 else window_start_of(now) + WINDOW_SECONDS
        return RunPlan.new(first, self.cfg.intervals, self.cfg.entry_deadline_s)

    def _ledger_state_at_start(self):
        """The ledger's state; without a plan in Redis, wait up to ``ledger_start_wait_s``
        for the ledger to publish it: a clock that starts first after Redis lost
        everything would otherwise plan a new run that the ledger refuses."""
        deadline = time.monotonic() + self.cfg.ledger_start_wait_s
        while True:
            state = read_state(self.bus.redis)
            if state is not None or time.monotonic() >= deadline or self.should_stop():
                return state
            self.heartbeat.beat()
            self.sleep(0.1)

    def save(self, plan: RunPlan, *events: m.Msg) -> None:
        """The plan, and the events it now counts, in one commit: a restart finds the
        plan and the stream agreeing (and the save costs no round trip of its own)."""
        self.bus.commit([*((streams.CLOCK, event) for event in events),
                         KeyValue(streams.RUN_KEY, msgspec.json.encode(plan))])

    # -- the loop ------------------------------------------------------------------
    def run(self) -> int:
        plan = self.load_plan()
        self.save(plan)
        log.info("run plan", extra={"data": json.loads(msgspec.json.encode(plan))})
        k = plan.closed + 1
        # Restarted after a halt: open no new window.  (Running, each close checks.)
        going = not (k > plan.ticked and self._ledger_halted(plan))
        while going and k <= plan.intervals and not self.should_stop():
            if not self._interval(plan, k):
                break
            k += 1
        if self.cfg.lockstep and not self.should_stop():
            # Let the venue publish the last resolutions (they come after a delay).
            _, end = plan.window(min(k, plan.intervals))
            self._reach(end + self.cfg.resolution_grace_s)
        log.info("run finished", extra={"data": {"run_id": plan.run_id, "last_interval": k - 1}})
        while not self.should_stop():  # stay up (and healthy) until told to stop
            self.heartbeat.beat(run_id=plan.run_id, done=True)
            self.sleep(0.2)
        return 0

    def _interval(self, plan: RunPlan, k: int) -> bool:
        """Open and close window k; False when the run must stop (halt)."""
        start, end = plan.window(k)
        if not self._reach(start):
            return False
        tick = plan.tick(k, self.clock.now_ns())
        plan.ticked = max(plan.ticked, k)
        self.save(plan, tick)
        log.info("interval opened", extra={"data": {"interval": k, "window_start": start}})
        if self.cfg.lockstep:
            # Window k-1 may still be settling: risk waits for that settlement before it
            # decides k, and when k-1's prices came out incomplete only the venue can
            # settle it, some simulated time after its end.  The decision always comes
            # (risk skips once k's entry deadline has passed), so a stall never ends
            # this wait.
            previous = VenueWait(self.cfg, self.bus.redis, plan, k - 1, self._reach)

            def on_stall() -> bool:
                if previous.on_stall():  # moves time on for k-1's resolution when it needs one
                    # The venue never resolved k-1: let k's entry deadline pass, as real
                    # time would, so risk skips k rather than wait for it with time
                    # standing still (the grace above may end before that deadline).
                    self._reach(tick.entry_deadline)
                return False

            in_flight = (self._settling, tick) if self._settling is not None else (tick,)
            if not self._wait_ledger(lambda s: s.decided_through >= k, plan, in_flight, on_stall):
                return False
            self._settling = None
        if not self._reach(end):
            return False  # stopped before the window ended: never close it early
        closed = plan.closed_event(k, self.clock.now_ns())
        plan.closed = k
        self.save(plan, closed)
        halted = self._ledger_halted(plan)
        if self.cfg.lockstep:
            # The next window opens at this one's end, while this one settles (the next
            # decision waits for that).  The last window and a halting one are waited for
            # here.  A halting decision settles its window at once (no prices needed):
            # wait for the feed to price it anyway, or time moving on (the run's last
            # grace) raced the feed and sometimes left that record without prices.
            self._settling = closed
            if halted or k == plan.intervals:
                venue = VenueWait(self.cfg, self.bus.redis, plan, k, self._reach)
                if not self._wait_ledger(lambda s: s.settled_through >= k and (not s.halted or venue.priced()),
                                         plan, (closed,), venue.on_stall, halt_ends_wait=False):
                    return False
                self._settling = None
        return not halted

    def _ledger_halted(self, plan: RunPlan) -> bool:
        state = read_state(self.bus.redis)
        if state is not None and state.run_id == plan.run_id and state.halted:
            log.critical("trading halted: the run ends", extra={"data": {"reason": state.halt_reason}})
            return True
        return False

    def _wait_ledger(self, ready, plan: RunPlan, events: tuple[m.Msg, ...] = (),
                     on_stall: Callable[[], bool] = lambda: False, halt_ends_wait: bool = True) -> bool:
        """Wait (heartbeating) until the ledger is ready; False if it halted instead.
        ``on_stall`` runs after each second without it and may end the wait (True)."""
        def done(state) -> bool:
            return state.run_id == plan.run_id and (ready(state) or (halt_ends_wait and state.halted))

        while not self.should_stop():
            state = wait_for_state(self.bus.redis, done, timeout_s=1.0, should_stop=self.should_stop)
            self.heartbeat.beat(run_id=plan.run_id)
            if state is not None:
                return not state.halted or ready(state)
            self._recover_lost_redis(plan, events)
            if on_stall():
                return True
        return False

    def _recover_lost_redis(self, plan: RunPlan, events: tuple[m.Msg, ...]) -> None:
        """Redis restarted empty: the plan key is gone, and so is whatever the pipeline
        had in flight for this step, so nobody would ever answer.  Save the plan and
        publish the step's events again (same ids: the bus keeps each out of a stream
        that still has it)."""
        if self.bus.redis.exists(streams.RUN_KEY):
            return
        log.warning("the run plan vanished from Redis (Redis restarted empty?): publishing the current "
                    "step again", extra={"data": {"run_id": plan.run_id,
                                                  "events": [type(event).__name__ for event in events]}})
        self.save(plan, *events)

    def _reach(self, unix_s: int) -> bool:
        """Make it ``unix_s``: advance simulated time, or wait for it. False if stopped first."""
        if self.cfg.lockstep and isinstance(self.clock, SimClock):
            # A window's end is the next one's start: time is often there already, and
            # a move to the same instant would only cost the simulator a round trip.
            if self.clock.now() < unix_s:
                self.clock.advance_to(unix_s * 1000)
            return True
        while self.clock.now() < unix_s:
            if self.should_stop():
                return False
            self.heartbeat.beat()
            self.sleep(min(0.2, max(0.001, unix_s - self.clock.now())))
        return True
