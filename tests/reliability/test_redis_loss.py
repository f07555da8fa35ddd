"""Redis restarted empty mid-run, and the whole stack killed and restarted mid-run.

The private Redis keeps nothing on disk: streams, consumer groups, the clock's plan, the
executor's order records, rq jobs and "published" markers all vanish.  The ledger's files are
the authority; the run must resume at the right interval and end with the same files
as an uninterrupted run, with at most one accepted order per window at the venue.
"""

from __future__ import annotations

import time

import pytest

from polybot.chaos import Stack, compare_files, missing_intervals, venue_check
from polybot.chaos.moments import ORDER_IN_FLIGHT, wait_for_trigger, wait_until_venue_has
from tests.reliability.conftest import RUN_TIMEOUT_S, complete_run, log_lines, outcome, stack_options

pytestmark = pytest.mark.integration

INTERVALS = 8


@pytest.fixture(scope="module")
def baseline(real_csv, tmp_path_factory) -> dict:
    return complete_run(tmp_path_factory.mktemp("baseline"), stack_options(real_csv, INTERVALS))


def wait_for_progress(stack: Stack, steps: int, timeout_s: float = 60) -> tuple[int, int]:
    """Until decided_through + settled_through >= steps; returns both."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = stack.ledger_state()
        if state is not None and state.decided_through + state.settled_through >= steps:
            return state.decided_through, state.settled_through
        time.sleep(0.002)
    raise AssertionError(f"the run never reached step {steps}")


def assert_same_run(baseline: dict, result: dict) -> None:
    assert compare_files(baseline["files"], result["files"]) == {
        "trades.log": True, "bot_state.json": True, "equity_curve.csv": True}
    assert not missing_intervals(result["records"], INTERVALS, halted=False)
    venue = venue_check(result["orders"])
    assert venue.at_most_one_per_window, venue
    assert venue.accepted == venue_check(baseline["orders"]).accepted


def test_redis_restarted_empty_mid_run_resumes_with_the_same_files(real_csv, tmp_path, baseline):
    with Stack(tmp_path, stack_options(real_csv, INTERVALS)) as stack:
        # Arrange: in the middle of interval 4 (three trades behind us)
        wait_for_progress(stack, 7)

        # Act
        stack.restart_redis_empty()
        completed = stack.wait_complete(RUN_TIMEOUT_S)

        # Assert
        assert completed, f"no resume after the Redis loss; logs in {stack.processes.log_dir}"
        result = outcome(stack)
    assert_same_run(baseline, result)


def test_redis_lost_with_an_order_in_flight_resends_the_same_order_which_the_venue_refuses(
        real_csv, tmp_path, baseline):
    with Stack(tmp_path, stack_options(real_csv, INTERVALS)) as stack:
        # Arrange: interval 2's order has reached the venue; its answer is not recorded yet
        order = wait_for_trigger(stack, ORDER_IN_FLIGHT, timeout_s=60)
        order = wait_for_trigger(stack, ORDER_IN_FLIGHT, timeout_s=60) if order.interval < 2 else order
        assert wait_until_venue_has(stack, order)

        # Act: the executor's record, the command and the fill event all vanish
        stack.restart_redis_empty()
        completed = stack.wait_complete(RUN_TIMEOUT_S)

        # Assert
        assert completed, f"no resume after the Redis loss; logs in {stack.processes.log_dir}"
        result = outcome(stack)
    assert_same_run(baseline, result)
    window = [o for o in result["orders"] if o["slug"] == order.slug]
    # One order id: the deterministic re-signing gave the same order, refused as a duplicate
    # (or, if the fill event had already been recorded, nothing was sent again).
    assert len({o["order_id"] for o in window}) == 1
    assert [o["result"] for o in window][0] == "matched"
    assert all("Duplicated" in (o["error"] or "") for o in window[1:]), window


@pytest.mark.parametrize("steps", [3, 8])
def test_whole_stack_killed_mid_run_resumes_at_the_right_interval(real_csv, tmp_path, baseline, steps):
    with Stack(tmp_path, stack_options(real_csv, INTERVALS)) as stack:
        # Arrange
        decided, settled = wait_for_progress(stack, steps)

        # Act: everything but the venue dies at once; a new Redis, the same state dir
        stack.kill_all_but_simulator()
        stack.restart_all_but_simulator()
        completed = stack.wait_complete(RUN_TIMEOUT_S)

        # Assert
        assert completed, f"no resume after the restart; logs in {stack.processes.log_dir}"
        result = outcome(stack)
    assert_same_run(baseline, result)
    resumed = [line for line in log_lines(result["logs"], "clock") if "resuming the ledger's run" in line]
    assert len(resumed) == 1 and f'"closed":{settled}' in resumed[0].replace(" ", ""), resumed


def test_executor_that_lost_its_order_record_resends_the_same_order_and_adopts_the_venues_fill(
        real_csv, tmp_path, baseline):
    # The venue holds its answer to interval 2's order for 3 s (executed, answered late):
    # the executor is certainly between send and ack when it is killed.
    opts = stack_options(real_csv, INTERVALS, faults="clob:/order=timeout@window:1,hold=3,exec=1")
    with Stack(tmp_path, opts) as stack:
        # Arrange
        order = wait_for_trigger(stack, ORDER_IN_FLIGHT, timeout_s=60)
        order = wait_for_trigger(stack, ORDER_IN_FLIGHT, timeout_s=60) if order.interval < 2 else order
        assert wait_until_venue_has(stack, order)

        # Act: the record is gone (as after a Redis loss); the command is still pending
        stack.kill("executor")
        assert stack.client.delete(f"polybot:executor:order:{order.order_key}") == 1
        stack.restart("executor")
        completed = stack.wait_complete(RUN_TIMEOUT_S)

        # Assert
        assert completed, f"logs in {stack.processes.log_dir}"
        result = outcome(stack)
    assert_same_run(baseline, result)
    window = [(o["result"], o["error"] or "") for o in result["orders"] if o["slug"] == order.slug]
    assert window[0][0] == "matched" and len(window) == 2 and "Duplicated" in window[1][1], window
