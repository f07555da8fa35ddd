"""The executor with the real py-clob-client-v2 against the exchange simulator.

The simulator runs in-process (speed max); Redis is real.  ``GET {control}/orders`` is
the venue's own log of every POST /order it saw, so "one order per interval" is
checked where it matters: at the venue.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

import pytest

from shared import messages as m, streams
from shared.bus import Bus, fields
from shared.runtime import ServiceLoop
from services.executor.brokers import FOK_KILLED
from services.executor.handler import ExecutorHandler, RetryPolicy
from services.executor.main import build, make_broker
from services.executor.records import OrderRecords
from tests.executor.sim_helpers import Sim

pytestmark = pytest.mark.integration
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def sim():
    from services.sim.config import SimConfig
    from services.sim.server import SimServer

    server = SimServer(SimConfig(speed=None, seed=11))
    yield Sim(server.start())
    server.stop()


@pytest.fixture(autouse=True)
def no_faults(sim):
    sim.set_faults("")
    yield
    sim.set_faults("")


def handler_for(sim: Sim, redis_client, **settings) -> ExecutorHandler:
    cfg = sim.config(http_timeout_s=1.0, backoff_base_s=0.05, **settings)
    return ExecutorHandler(make_broker(cfg), OrderRecords(redis_client), cfg.make_clock(),
                           RetryPolicy(max_attempts=cfg.max_attempts, backoff_base_s=cfg.backoff_base_s))


def events(redis_client) -> list:
    return [m.decode(streams.ORDER_EVENTS, f[b"data"]) for _, f in redis_client.xrange(streams.ORDER_EVENTS)]


def test_fok_buy_fills_with_the_venue_order_id_and_fee(sim, real_redis):
    # Arrange
    cmd = sim.submit_order("10")
    handler = handler_for(sim, real_redis)
    # Act
    (_, event), = handler.handle(streams.ORDER_CMDS, cmd)
    # Assert
    assert isinstance(event, m.OrderFilled), event
    (seen,) = sim.orders_for(event.order_id)  # our locally computed hash IS the venue's id
    assert (seen["http_status"], seen["result"]) == (200, "matched")
    assert event.shares == Decimal(seen["filled_shares"]) and event.stake == Decimal(seen["notional"])
    assert event.fee == Decimal(seen["fees"])  # one-level fill: fee at the average price is exact


def test_oversize_fok_is_rejected_with_the_venue_reason(sim, real_redis):
    cmd = sim.submit_order("100000")
    (_, event), = handler_for(sim, real_redis).handle(streams.ORDER_CMDS, cmd)
    assert isinstance(event, m.OrderRejected) and event.reason == FOK_KILLED
    (seen,) = [o for o in sim.orders() if o["error"] == FOK_KILLED and o["maker_amount"] == "100000000000"]
    assert seen["http_status"] == 400


def test_same_command_delivered_twice_reaches_the_venue_once(sim, real_redis):
    # Arrange
    bus, cmd, before = Bus(real_redis), sim.submit_order("7"), len(sim.orders())
    bus.publish(streams.ORDER_CMDS, cmd)
    # The bus keeps a republished copy out; a second entry of the same command can still
    # come from outside it (its marker expired, a hand-made XADD): the order record guards it.
    real_redis.xadd(streams.ORDER_CMDS, fields(cmd))
    loop = ServiceLoop(handler_for(sim, real_redis), bus, sim.config(block_ms=50))
    # Act
    assert loop.run(until_idle=True) == 2
    # Assert
    (event,) = set(events(real_redis))
    assert len(sim.orders()) == before + 1 and len(sim.orders_for(event.order_id)) == 1


def test_timeout_after_the_venue_executed_is_looked_up_not_resent(sim, real_redis):
    sim.set_faults("clob:/order=timeout,hold=3,exec=1")
    cmd, before = sim.submit_order("6"), len(sim.orders())
    (_, event), = handler_for(sim, real_redis).handle(streams.ORDER_CMDS, cmd)
    assert isinstance(event, m.OrderFilled) and event.attempts == 1
    assert len(sim.orders()) == before + 1


def test_500s_resend_the_very_same_order_three_times_then_reject(sim, real_redis):
    sim.set_faults("clob:/order=500")
    cmd, before = sim.submit_order("5"), len(sim.orders())
    (_, event), = handler_for(sim, real_redis).handle(streams.ORDER_CMDS, cmd)
    assert isinstance(event, m.OrderRejected) and event.reason.startswith("venue unavailable after 3 attempts")
    attempts = sim.orders()[before:]
    assert len(attempts) == 3 and len({o["order_id"] for o in attempts}) == 1


def test_crash_between_send_and_ack_then_restart_keeps_one_order(sim, real_redis):
    # Arrange: the order executes, the answer never comes back, and the process dies
    # while waiting (SIGKILL: no cleanup, the command stays pending, the record in flight)
    sim.set_faults("clob:/order=timeout,hold=20,exec=1")
    cmd, before = sim.submit_order("8"), len(sim.orders())
    Bus(real_redis).publish(streams.ORDER_CMDS, cmd)
    first = start_executor(sim, real_redis, HTTP_TIMEOUT_S="15")
    wait_for(lambda: len(sim.orders()) > before, "the order to reach the venue", process=first)
    first.kill()
    first.wait(timeout=10)
    record = OrderRecords(real_redis).get(cmd.order_key)
    assert record.state == "in_flight" and record.attempts == 1 and not events(real_redis)
    sim.set_faults("")
    # Act: restart
    second = start_executor(sim, real_redis)
    try:
        wait_for(lambda: real_redis.xpending(streams.ORDER_CMDS, "executor")["pending"] == 0
                 and events(real_redis), "the restarted executor to settle the order")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=15)
    # Assert: one order at the venue, one (possibly re-emitted, identical) event
    assert len(sim.orders()) == before + 1
    (event,) = set(events(real_redis))
    assert isinstance(event, m.OrderFilled) and event.order_id == sim.orders()[before]["order_id"]
    assert second.returncode == 0


def test_build_reconciles_in_flight_orders_before_taking_commands(sim, real_redis):
    # Arrange: an order that reached the venue, recorded in flight (crash before the answer)
    cmd = sim.submit_order("9")
    handler = handler_for(sim, real_redis)
    order = handler.broker.prepare(cmd)
    from services.executor.records import OrderRecord

    handler.records.create(OrderRecord(order_key=cmd.order_key, state="in_flight", broker="clob",
                                       command=cmd, order=order, attempts=1))
    handler.broker.send(cmd, order)
    # Act
    build(sim.config(), Bus(real_redis))
    # Assert
    assert OrderRecords(real_redis).get(cmd.order_key).state == "filled"
    (event,) = events(real_redis)
    assert event.order_id == order.order_id


# -- helpers ----------------------------------------------------------------------------

LOG_DIR = tempfile.TemporaryDirectory(prefix="polybot-test-executor-")  # removed at exit


def start_executor(sim: Sim, redis_client, **env) -> subprocess.Popen:
    url = redis_client.connection_pool.connection_kwargs
    environ = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": REPO,
               "REDIS_URL": f"redis://{url['host']}:{url['port']}/{url.get('db', 0)}", "BLOCK_MS": "100",
               **sim.env(), **env}
    log = tempfile.NamedTemporaryFile(dir=LOG_DIR.name, prefix="executor-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-m", "services.executor"], env=environ, cwd="/",
                            stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log.name
    log.close()
    return proc


def wait_for(condition, what: str, timeout_s: float = 20.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    tail = ""
    if process is not None:  # what the service said, so a failure here can be diagnosed
        with open(process.log_path) as f:
            tail = f"\n(exit code {process.poll()}) last lines of its log:\n" + "".join(f.readlines()[-15:])
    raise AssertionError(f"timed out waiting for {what}{tail}")
