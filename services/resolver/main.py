"""The resolver: an rq worker running the venue-resolution poll jobs."""

from __future__ import annotations

from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested

from services.resolver import jobs
from services.resolver.config import ResolverConfig
from services.resolver.recovery import recover_from_predecessor
from services.resolver.scheduler import ThreadScheduler
from shared import streams
from shared.health import Heartbeat
from shared.http import HttpClient
from shared.runtime import service_main


SCHEDULER_CHECK_S = 5


class HeartbeatWorker(SimpleWorker):
    """rq's worker, also proving liveness with the same heartbeat key as every service."""

    beat: Heartbeat | None = None
    stop = None  # the runtime's StopFlag: set by a SIGTERM that came before rq's handlers

    def _install_signal_handlers(self):
        super()._install_signal_handlers()
        # A SIGTERM during start-up (recovery, scheduler start) reached the runtime's
        # handler, not rq's: honour it, or the worker would block in dequeue for minutes.
        if self.stop:
            self._stop_requested = True

    def request_stop(self, signum, frame):
        # rq stops an idle worker by raising StopRequested from the signal handler, in
        # whatever code is running; its registry maintenance catches Exception and can
        # swallow it.  Remember the request, so the check below still sees it.
        self._stop_requested = True
        super().request_stop(signum, frame)

    def _start_scheduler(self, burst: bool = False, logging_level=None, *args, **kwargs):
        # rq forks its scheduler; ours is a thread of this process (see scheduler.py).
        # (rq's burst mode, which we never use, would enqueue due jobs once instead.)
        self.scheduler = ThreadScheduler(self.queues, connection=self.connection,
                                         logging_level=logging_level or self.log.level,
                                         serializer=self.serializer)
        if self.scheduler.acquire_locks():
            self.scheduler.start()

    def stop_scheduler(self):
        self.scheduler.request_stop()
        self.scheduler.join()

    @property
    def should_run_maintenance_tasks(self) -> bool:
        # rq asks this before every dequeue, also in its inner wait loop, which never
        # looks at _stop_requested: the place to end an idle worker that was asked to.
        if self._stop_requested:
            raise StopRequested()
        return super().should_run_maintenance_tasks

    def heartbeat(self, *args, **kwargs):
        super().heartbeat(*args, **kwargs)
        if self.beat is not None:
            self.beat.beat(force=True)


def build(cfg: ResolverConfig, bus, stop):
    clock = cfg.make_clock()
    gamma = HttpClient(cfg.gamma_url, name="gamma", now=clock.now, max_attempts=1,
                       connect_timeout_s=cfg.http_timeout_s, read_timeout_s=cfg.http_timeout_s)
    jobs.CONTEXT = jobs.Context(bus=bus, gamma=gamma, clock=clock)

    def work() -> int:
        # SimpleWorker: no fork per job; jobs are short HTTP polls.  rq installs its own
        # warm/cold shutdown on SIGTERM.
        queue = Queue(streams.RESOLUTION_QUEUE, connection=bus.redis)
        name = f"resolver-{cfg.replica}"
        recover_from_predecessor(bus.redis, queue, name)  # after a SIGKILL: see recovery.py
        # rq beats every worker_ttl - ~5 s.  Its maintenance also restarts a scheduler
        # that died (it does, on a Redis restart): rq's default of every 10 minutes left
        # every poll unscheduled for that long.
        worker = HeartbeatWorker([queue], connection=bus.redis, name=name, worker_ttl=10,
                                 maintenance_interval=SCHEDULER_CHECK_S)
        worker.stop = stop
        worker.beat = Heartbeat(bus.redis, "resolver", f"resolver-{cfg.replica}", ttl_ms=cfg.heartbeat_ttl_ms)
        worker.beat.beat(force=True)
        worker.work(with_scheduler=True, logging_level=cfg.log_level)
        return 0

    return work


def main(argv: list[str] | None = None) -> int:
    return service_main("resolver", ResolverConfig, build, argv)
