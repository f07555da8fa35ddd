"""A process's health, as the healthchecks see it: a live heartbeat key
(``shared.health``) written by *this* process (same pid)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import redis

from shared.health import read_heartbeats


@dataclass
class Health:
    healthy: bool
    heartbeat_age_s: float | None = None
    consumer: str | None = None
    heartbeat_pid: int | None = None  # the pid that wrote the heartbeat
    counters: dict = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def service_health(beats: dict[str, dict], service: str, pid: int | None = None,
                   now: float | None = None, client: redis.Redis | None = None) -> Health:
    """``beats`` is ``shared.health.read_heartbeats(client)``.  With ``pid``, only a
    heartbeat from that pid counts (a restarted process's old key lives on for its TTL)."""
    now = time.time() if now is None else now
    mine = [(key.split(":", 1)[1], value) for key, value in beats.items() if key.split(":", 1)[0] == service]
    if pid is not None:
        mine = [(consumer, value) for consumer, value in mine if value.get("pid") == pid]
    if not mine:
        if service == "resolver" and client is not None:
            return _rq_worker_health(client, pid, now)
        return Health(False, note="no live heartbeat" + (f" from pid {pid}" if pid else ""))
    consumer, value = max(mine, key=lambda item: item[1].get("ts", 0))
    counters = {k: v for k, v in value.items() if k not in ("pid", "ts")}
    return Health(True, round(max(0.0, now - float(value.get("ts", now))), 1), consumer,
                  value.get("pid"), counters)


def _rq_worker_health(client: redis.Redis, pid: int | None, now: float) -> Health:
    """The resolver is an rq worker and writes no polybot heartbeat yet: use rq's own
    worker registration (refreshed while the worker lives) instead."""
    from rq import Worker

    try:
        workers = [w for w in Worker.all(connection=client) if w.name.startswith("resolver-")]
    except (redis.RedisError, ValueError):
        workers = []
    if pid is not None:
        workers = [w for w in workers if w.pid == pid]
    if not workers:
        return Health(False, note="no live heartbeat and no registered rq worker")
    worker = workers[0]
    beat = worker.last_heartbeat.timestamp() if worker.last_heartbeat else None
    age = round(max(0.0, now - beat), 1) if beat else None
    return Health(True, age, worker.name, worker.pid, {"state": str(worker.get_state())},
                  note="rq worker registration (the resolver has no polybot heartbeat)")


def all_heartbeats(client: redis.Redis) -> dict[str, dict]:
    return read_heartbeats(client)
