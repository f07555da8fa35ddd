"""The resolver: an rq worker running the venue-resolution poll jobs."""

from __future__ import annotations

import requests
from rq import Queue, SimpleWorker

from services.resolver import jobs
from services.resolver.config import ResolverConfig
from shared import streams
from shared.runtime import service_main


def build(cfg: ResolverConfig, bus, stop):
    jobs.CONTEXT = jobs.Context(bus=bus, gamma_url=cfg.gamma_url, session=requests.Session(),
                                clock=cfg.make_clock(), timeout=cfg.http_timeout_s)

    def work() -> int:
        # SimpleWorker: no fork per job; jobs are short HTTP polls.  rq installs its own
        # warm/cold shutdown on SIGTERM.
        worker = SimpleWorker([Queue(streams.RESOLUTION_QUEUE, connection=bus.redis)],
                              connection=bus.redis, name=f"resolver-{cfg.replica}")
        worker.work(with_scheduler=True, logging_level=cfg.log_level)
        return 0

    return work


def main(argv: list[str] | None = None) -> int:
    return service_main("resolver", ResolverConfig, build, argv)
