"""The resolver: an rq worker running the venue-resolution poll jobs."""

from __future__ import annotations

import requests
from rq import Queue, SimpleWorker

from services.resolver import jobs
from services.resolver.config import ResolverConfig
from shared import streams
from shared.health import Heartbeat
from shared.runtime import service_main


class HeartbeatWorker(SimpleWorker):
    """rq's worker, also proving liveness with the same heartbeat key as every service."""

    beat: Heartbeat | None = None

    def heartbeat(self, *args, **kwargs):
        super().heartbeat(*args, **kwargs)
        if self.beat is not None:
            self.beat.beat(force=True)


def build(cfg: ResolverConfig, bus, stop):
    jobs.CONTEXT = jobs.Context(bus=bus, gamma_url=cfg.gamma_url, session=requests.Session(),
                                clock=cfg.make_clock(), timeout=cfg.http_timeout_s)

    def work() -> int:
        # SimpleWorker: no fork per job; jobs are short HTTP polls.  rq installs its own
        # warm/cold shutdown on SIGTERM.
        worker = HeartbeatWorker([Queue(streams.RESOLUTION_QUEUE, connection=bus.redis)],
                                 connection=bus.redis, name=f"resolver-{cfg.replica}",
                                 worker_ttl=10)  # rq beats every worker_ttl - ~5 s
        worker.beat = Heartbeat(bus.redis, "resolver", f"resolver-{cfg.replica}", ttl_ms=cfg.heartbeat_ttl_ms)
        worker.beat.beat(force=True)
        worker.work(with_scheduler=True, logging_level=cfg.log_level)
        return 0

    return work


def main(argv: list[str] | None = None) -> int:
    return service_main("resolver", ResolverConfig, build, argv)
