"""``polybot status``: every process (supervisor state, pid, health from its heartbeat
key, heartbeat age), the bot state (the ledger's Redis key, else ``bot_state.json``)
and the open position."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import msgspec
import redis

from polybot.stack import StackError
from polybot.stack.layout import INFRA, SERVICES, Layout

EXIT_UNHEALTHY, EXIT_NOT_RUNNING = 1, 3


def collect(state_dir: str) -> dict:
    from polybot.stack.connect import connect, stack_running

    layout = Layout.of(state_dir)
    running = stack_running(layout)
    doc: dict = {"running": running, "state_dir": str(layout.state_dir), "supervisord_pid": None,
                 "processes": [], "healthy": False, "bot": None, "bot_source": None,
                 "open_position": None, "redis_error": None}
    procs = {}
    if running:
        from polybot.stack.control import Supervisor

        sup = Supervisor(layout)
        doc["supervisord_pid"] = sup.pid()
        procs = sup.processes()
    try:
        client = connect(layout)
    except StackError as exc:
        client, doc["redis_error"] = None, str(exc)
    beats = _heartbeats(client)
    names = [n for n in (*INFRA, *SERVICES) if n in procs] if running else list(SERVICES)
    stack = layout.read_stack()
    doc["processes"] = [_process(name, procs.get(name), beats, client, stack) for name in names]
    doc["healthy"] = running and bool(doc["processes"]) and all(p["healthy"] for p in doc["processes"])
    doc["bot"], doc["bot_source"] = _bot_state(client, layout)
    doc["open_position"] = (doc["bot"] or {}).get("open_position")
    return doc


def _heartbeats(client: redis.Redis | None) -> dict:
    from polybot.stack.health import all_heartbeats

    try:
        return all_heartbeats(client) if client is not None else {}
    except redis.RedisError:
        return {}


def _process(name: str, info: dict | None, beats: dict, client, stack: dict) -> dict:
    from polybot.stack.health import Health, service_health

    pid = info["pid"] if info and info["pid"] else None
    entry = {"name": name, "state": info["statename"] if info else None, "pid": pid,
             "uptime_s": round(time.time() - info["start"]) if info and pid else None}
    if name == "redis":
        health = Health(client is not None and pid is not None)
    elif name == "sim":
        from polybot.stack.probes import http_ok

        health = Health(pid is not None and http_ok((stack.get("urls") or {}).get("control", "") + "/health"))
    elif client is None:
        health = Health(False, note="Redis unreachable")
    else:
        health = service_health(beats, name, pid, client=client)
        if info is None and health.healthy:  # not under supervisor (compose): the heartbeat's pid
            entry["pid"] = health.heartbeat_pid
    # STARTING is supervisor's first ``startsecs``: a process that already answers (or
    # beats from its own pid) is healthy; any other state (BACKOFF, EXITED, ...) is not.
    if info is not None and info["statename"] not in ("RUNNING", "STARTING"):
        health.healthy = False
    return {**entry, **health.to_dict()}


def _bot_state(client: redis.Redis | None, layout: Layout) -> tuple[dict | None, str | None]:
    if client is not None:
        from shared.ledger_view import read_state

        try:
            state = read_state(client)
        except (redis.RedisError, msgspec.DecodeError, msgspec.ValidationError):
            state = None
        if state is not None:
            return msgspec.to_builtins(state), "redis"
    path = layout.state_dir / "bot_state.json"
    try:
        return json.loads(path.read_text()), str(path)
    except (OSError, ValueError):
        return None, None


def exit_code(doc: dict) -> int:
    """0 all healthy, 1 something unhealthy, 3 nothing running (no supervisor, no heartbeat)."""
    if doc["running"]:
        return 0 if doc["healthy"] else EXIT_UNHEALTHY
    beating = [p["healthy"] for p in doc["processes"]]
    if not any(beating):
        return EXIT_NOT_RUNNING
    return 0 if all(beating) else EXIT_UNHEALTHY  # e.g. docker compose: heartbeats only


# -- the human form --------------------------------------------------------------------
def render(doc: dict) -> str:
    lines = []
    if doc["running"]:
        lines.append(f"polybot: up (supervisord pid {doc['supervisord_pid']}), state in {doc['state_dir']}")
    else:
        lines.append(f"polybot: no stack running under supervisor in {doc['state_dir']}"
                     + (" (showing heartbeats in Redis)" if any(p["healthy"] for p in doc["processes"]) else ""))
    if doc["redis_error"]:
        lines.append(f"redis: {doc['redis_error']}")
    if doc["processes"] and (doc["running"] or any(p["healthy"] for p in doc["processes"])):
        lines.append(f"{'PROCESS':<10} {'STATE':<9} {'PID':>7}  {'HEALTH':<9} {'HEARTBEAT':>10}  NOTE")
        for p in doc["processes"]:
            age = f"{p['heartbeat_age_s']:.1f}s ago" if p.get("heartbeat_age_s") is not None else "-"
            lines.append(f"{p['name']:<10} {p['state'] or '-':<9} {p['pid'] or '-':>7}  "
                         f"{'healthy' if p['healthy'] else 'UNHEALTHY':<9} {age:>10}  {p.get('note', '')}")
    lines += _render_bot(doc["bot"], doc["bot_source"])
    return "\n".join(line.rstrip() for line in lines)


def _money(value) -> str:
    return f"${Decimal(str(value)):,.2f}"


def _render_bot(bot: dict | None, source: str | None) -> list[str]:
    if bot is None:
        return ["bot: no ledger state yet"]
    lines = [f"bot ({'ledger key in Redis' if source == 'redis' else source}): run {bot.get('run_id') or '-'}, "
             f"capital {_money(bot['current_capital'])} (start {_money(bot['starting_capital'])}, "
             f"peak {_money(bot['peak_capital'])}), win streak {bot['win_streak']}, "
             f"{bot['total_trades']} trades, interval {bot.get('current_interval', '-')}/"
             f"{bot.get('intervals_total', '-')} (settled {bot.get('settled_through', '-')})"
             f"{', run complete' if bot.get('run_complete') else ''}"]
    lines.append(f"halted: {bot['halt_reason'] or 'yes'} (polybot reset-halt clears it)" if bot.get("halted")
                 else "halted: no")
    pos = bot.get("open_position")
    lines.append("open position: none" if not pos else
                 f"open position: interval {pos['interval']} {pos['outcome']} stake {_money(pos['stake'])} "
                 f"@ {pos['avg_price']} ({pos['shares']} shares, fee {pos['fee']}), order {pos['order_id']}")
    return lines
