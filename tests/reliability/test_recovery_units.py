"""The recovery pieces the end-to-end tests rely on, one at a time (fast, no stack)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import msgspec
import pytest
import redis
from rq import Queue, Worker
from rq.exceptions import DuplicateJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler

from services.clock.config import ClockConfig
from services.clock.schedule import RunPlan
from services.clock.ticker import Ticker
from services.ledger.config import LedgerConfig
from services.ledger.main import build_handler
from services.ledger.watchdog import RedisLossWatchdog
from services.resolver.main import HeartbeatWorker
from services.resolver.recovery import recover_from_predecessor
from shared import messages as m, streams
from shared.bus import Bus
from shared.clock import ManualClock
from shared.jobs import enqueue_resolution, resolution_job_id
from tests import stubs
from tests.ledger.test_ledger import decision, fill

T0 = 1_722_470_400
RUN = f"run-{T0}"


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def ledger_state(**overrides) -> m.LedgerState:
    values = dict(run_id=RUN, starting_capital=100, current_capital=100, peak_capital=100, win_streak=0,
                  total_trades=0, is_active=True, halted=False, halt_reason="", intervals_total=6,
                  current_interval=3, decided_through=3, settled_through=3, open_position=None,
                  run_complete=False, version=1)
    values.update(overrides)
    return m.LedgerState(**m.header(key=("s",), ts_event=0, ts_init=0), **values)


# -- ledger --------------------------------------------------------------------------
@pytest.mark.integration
def test_ledger_republishes_its_state_and_reschedules_unconfirmed_polls_when_redis_lost_them(
        real_redis, tmp_path):
    # Arrange: a journal with a fill that the venue has not confirmed yet
    cfg = LedgerConfig(state_dir=str(tmp_path), fsync=False, run_id=stubs.RUN)
    handler = build_handler(cfg, Bus(real_redis))
    RedisLossWatchdog(handler, Bus(real_redis)).mark()
    for msg in (decision(1), fill(1)):
        handler.handle(streams.DECISIONS, msg)
    real_redis.flushdb()  # Redis restarted empty
    handler.handle(streams.DECISIONS, decision(2))  # handled before the ledger is idle: state key back

    # Act
    republished = RedisLossWatchdog(handler, Bus(real_redis)).check()

    # Assert
    assert republished
    state = m.STATE_DECODER.decode(real_redis.get(streams.LEDGER_STATE_KEY))
    assert (state.decided_through, state.open_position.interval) == (1, 1)
    assert Job.exists(resolution_job_id(stubs.RUN, 1, 1), connection=real_redis)
    assert not RedisLossWatchdog(handler, Bus(real_redis)).check()  # nothing lost: nothing to do


@pytest.mark.integration
def test_restarted_ledger_schedules_the_poll_of_a_fill_journalled_just_before_a_crash(real_redis, tmp_path):
    # Arrange: the fill is in the journal, but the process died before scheduling its poll
    cfg = LedgerConfig(state_dir=str(tmp_path), fsync=False, run_id=stubs.RUN)
    first = build_handler(cfg, Bus(real_redis))
    first.enqueue_resolution = None
    for msg in (decision(1), fill(1)):
        first.handle(streams.DECISIONS, msg)
    assert not Job.exists(resolution_job_id(stubs.RUN, 1, 1), connection=real_redis)

    # Act
    build_handler(cfg, Bus(real_redis))
    build_handler(cfg, Bus(real_redis))  # a second restart: the job exists, no error

    # Assert
    assert Job.exists(resolution_job_id(stubs.RUN, 1, 1), connection=real_redis)


# -- resolver ------------------------------------------------------------------------
@pytest.mark.integration
def test_resolver_releases_its_killed_predecessors_registration_lock_and_job(real_redis):
    # Arrange: what a SIGKILLed resolver-1 leaves in rq
    queue = Queue(streams.RESOLUTION_QUEUE, connection=real_redis)
    gone = dead_pid()
    host = socket.gethostname()
    Worker([queue], connection=real_redis, name="resolver-1").register_birth()
    real_redis.hset("rq:worker:resolver-1", "pid", gone)
    real_redis.hset(SCHEDULER_KEY_TEMPLATE % "old-scheduler", mapping={"pid": gone, "hostname": host})
    real_redis.set(RQScheduler.get_locking_key(queue.name), "old-scheduler")
    job = queue.enqueue_call("services.resolver.jobs.poll_resolution", args=(RUN, 1, "s", 1, 40),
                             job_id="resolve-x-1-1")
    job.set_status(JobStatus.STARTED)
    job.worker_name = "resolver-1"
    job.save()
    queue.remove(job)
    real_redis.zadd(StartedJobRegistry(queue=queue).key, {f"{job.id}:exec1": 0})

    # Act
    summary = recover_from_predecessor(real_redis, queue, "resolver-1")

    # Assert
    assert summary == {"registration": 1, "scheduler_lock": 1, "requeued_jobs": 1}
    assert real_redis.hexists("rq:worker:resolver-1", "death")
    assert not real_redis.exists(RQScheduler.get_locking_key(queue.name))
    assert queue.job_ids == [job.id]


def dequeued_poll(client, interval: int):
    """A poll job rq has taken off the queue (into its intermediate list), as a worker's
    dequeue leaves it: (queue, job)."""
    queue = Queue(streams.RESOLUTION_QUEUE, connection=client)
    job = queue.enqueue_call("services.resolver.jobs.poll_resolution", args=(RUN, interval, "s", 1, 40),
                             job_id=f"resolve-x-{interval}-1")
    client.lmove(queue.key, queue.intermediate_queue_key)
    return queue, job


@pytest.mark.integration
def test_resolver_requeues_a_job_its_predecessor_took_but_never_started(real_redis):
    # Arrange: rq moves a dequeued job to the intermediate list, then (in one pipeline)
    # to the started registry; the kill came in between
    queue, job = dequeued_poll(real_redis, 15)
    assert queue.job_ids == [] and queue.intermediate_queue.get_job_ids() == [job.id]

    # Act
    summary = recover_from_predecessor(real_redis, queue, "resolver-1")

    # Assert
    assert summary["requeued_jobs"] == 1
    assert queue.job_ids == [job.id] and queue.intermediate_queue.get_job_ids() == []


@pytest.mark.integration
def test_resolver_requeues_a_job_whose_execution_was_recorded_but_not_started(real_redis):
    # Arrange: rq records the execution (started registry) in one pipeline and marks
    # the job started (status, worker name, out of the intermediate list) in the next;
    # the kill came in between.  Seen in CI: window 13's poll lost, never confirmed.
    from rq import SimpleWorker
    from rq.executions import prepare_execution

    queue, job = dequeued_poll(real_redis, 13)
    prepare_execution(SimpleWorker([queue], connection=real_redis, name="resolver-1"), job)
    assert job.id in queue.started_job_registry and job.get_status() == "queued"

    # Act
    summary = recover_from_predecessor(real_redis, queue, "resolver-1")

    # Assert: queued once, nowhere else
    assert summary["requeued_jobs"] == 1
    assert queue.job_ids == [job.id] and queue.intermediate_queue.get_job_ids() == []
    assert job.id not in queue.started_job_registry


@pytest.mark.integration
def test_resolver_leaves_a_live_workers_registration_alone(real_redis):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        queue = Queue(streams.RESOLUTION_QUEUE, connection=real_redis)
        Worker([queue], connection=real_redis, name="resolver-1").register_birth()
        real_redis.hset("rq:worker:resolver-1", "pid", sleeper.pid)
        assert recover_from_predecessor(real_redis, queue, "resolver-1")["registration"] == 0
        assert not real_redis.hexists("rq:worker:resolver-1", "death")
    finally:
        sleeper.kill()
        sleeper.wait()


# -- clock ---------------------------------------------------------------------------
def ticker(client, stop, **cfg) -> Ticker:
    clock = ManualClock(T0 + 900)
    return Ticker(ClockConfig(**cfg), Bus(client), clock, should_stop=stop, sleep=clock.advance)


def test_clock_restarted_after_a_halt_opens_no_further_window(fake_redis):
    # Arrange: the plan says interval 3 was closed; the ledger halted on it
    plan = RunPlan.new(T0, 6, 60)
    plan.ticked = plan.closed = 3
    fake_redis.set(streams.RUN_KEY, msgspec.json.encode(plan))
    fake_redis.set(streams.LEDGER_STATE_KEY, m.encode(ledger_state(halted=True, run_complete=True)))
    calls = iter(range(1000))

    # Act
    ticker(fake_redis, lambda: next(calls) > 50).run()

    # Assert
    assert fake_redis.xlen(streams.CLOCK) == 0


def test_clock_restarted_after_a_halting_decision_still_closes_that_window(fake_redis):
    # Arrange: risk halted interval 3 (decided, and final for the ledger); the clock died
    # before closing the window, so its prices were never asked for
    plan = RunPlan.new(T0, 6, 60)
    plan.ticked, plan.closed = 3, 2
    fake_redis.set(streams.RUN_KEY, msgspec.json.encode(plan))
    fake_redis.set(streams.LEDGER_STATE_KEY, m.encode(ledger_state(halted=True, run_complete=True)))
    calls = iter(range(1000))

    # Act
    ticker(fake_redis, lambda: next(calls) > 50).run()

    # Assert
    published = [m.decode(streams.CLOCK, f[b"data"]) for _, f in fake_redis.xrange(streams.CLOCK)]
    assert [(type(e).__name__, e.interval) for e in published] == [("IntervalTick", 3), ("WindowClosed", 3)]


def test_clock_resuming_a_halted_run_from_the_ledger_closes_the_halting_window_again(fake_redis):
    fake_redis.set(streams.LEDGER_STATE_KEY, m.encode(ledger_state(halted=True, run_complete=True)))
    plan = ticker(fake_redis, lambda: True).load_plan()
    assert (plan.ticked, plan.closed) == (3, 2)


def test_clock_waits_for_the_ledger_before_planning_and_resumes_its_run(fake_redis):
    # Arrange: Redis lost the plan; the ledger publishes its state a moment later
    waits = []

    def stop() -> bool:
        waits.append(1)
        if len(waits) == 5:
            fake_redis.set(streams.LEDGER_STATE_KEY, m.encode(ledger_state(decided_through=4, settled_through=3)))
        return False

    # Act
    plan = ticker(fake_redis, stop, ledger_start_wait_s=30).load_plan()

    # Assert
    assert (plan.run_id, plan.ticked, plan.closed) == (RUN, 4, 3)


def test_clock_of_a_completed_run_plans_nothing_new(fake_redis):
    fake_redis.set(streams.LEDGER_STATE_KEY, m.encode(ledger_state(settled_through=6, decided_through=6,
                                                                   run_complete=True)))
    plan = ticker(fake_redis, lambda: True).load_plan()
    assert (plan.run_id, plan.closed) == (RUN, plan.intervals)


def test_the_first_poll_is_scheduled_a_second_out_and_only_once(real_redis):
    """The window has just ended when the ledger asks: the first poll waits like the
    rest, and asking again (a restarted ledger) does not start a second chain."""
    asked = time.time()
    assert enqueue_resolution(real_redis, RUN, 3, "btc-updown-5m-3")
    queue = Queue(streams.RESOLUTION_QUEUE, connection=real_redis)
    job_id = resolution_job_id(RUN, 3, 1)
    assert queue.job_ids == [] and job_id in queue.scheduled_job_registry.get_job_ids()
    due = real_redis.zscore(queue.scheduled_job_registry.key, job_id)
    assert asked < due <= asked + 1.5  # rq keeps whole seconds: int(asked + 1)
    with pytest.raises(DuplicateJobError):
        enqueue_resolution(real_redis, RUN, 3, "btc-updown-5m-3")


def test_resolver_restarts_a_scheduler_thread_that_died(real_redis):
    """A Redis error ends the scheduler's thread; rq's maintenance (every
    SCHEDULER_CHECK_S, not rq's 10 minutes) starts a new one, which moves due polls."""
    queue = Queue(streams.RESOLUTION_QUEUE, connection=real_redis)
    worker = HeartbeatWorker([queue], connection=real_redis, name="resolver-test")
    worker._start_scheduler()
    first = worker.scheduler
    try:
        def redis_gone():
            raise redis.ConnectionError("Redis went away")

        first.heartbeat = redis_gone  # the thread's next round fails, and the thread ends
        first.join()
        assert not first._process.is_alive()
        del first.heartbeat  # Redis is back
        worker.last_cleaned_at = datetime.now(timezone.utc)  # rq skips its first maintenance
        worker.run_maintenance_tasks()
        assert first._process.is_alive(), "the scheduler was not started again"
        job = queue.enqueue_in(timedelta(seconds=0), "builtins.len", "ab", job_id="due-now")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and job.id not in queue.job_ids:
            time.sleep(0.05)
        assert job.id in queue.job_ids, "the restarted scheduler did not enqueue a due job"
    finally:
        worker.stop_scheduler()


SCHEDULER_STARTED = "Scheduler for polybot-resolutions started on a thread"


def start_resolver(redis_url: str, log) -> subprocess.Popen:
    """``python -m services.resolver`` in its own process group, logging to ``log``."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env |= {"REDIS_URL": redis_url, "GAMMA_URL": "http://127.0.0.1:1/gamma", "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "services.resolver"], env=env, stdout=out, stderr=out,
                                start_new_session=True)


def wait_for_line(path, text: str, after: int, timeout_s: float = 20) -> str:
    """The (after+1)-th line of ``path`` containing ``text``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [line for line in path.read_text().splitlines() if text in line]
        if len(found) > after:
            return found[after]
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} (#{after + 1}) within {timeout_s} s:\n{path.read_text()[-2000:]}")


@pytest.mark.integration
def test_resolver_schedules_polls_without_a_child_process(redis_url, real_redis, tmp_path):
    """rq forked its scheduler (a child a SIGKILLed resolver left running); ours is a
    thread: the resolver has no children, and a poll scheduled for later still runs."""
    log = tmp_path / "resolver.log"
    proc = start_resolver(redis_url, log)
    try:
        wait_for_line(log, SCHEDULER_STARTED, after=0)
        assert enqueue_resolution(real_redis, RUN, 7, "btc-updown-5m-1", attempt=2)  # due in 1 s
        wait_for_line(log, '"attempt":2,', after=0)  # GAMMA_URL refuses: "not resolved yet"
        assert children(proc.pid) == []
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]
