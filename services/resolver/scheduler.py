"""rq's scheduler on a thread of the resolver, not in a forked process.

rq forks its scheduler, which moves the polls scheduled with ``enqueue_in`` onto the
queue when they are due.  That fork was a second process per resolver: about 35 MB of
resident memory, a child a SIGKILLed resolver left running (enqueueing beside its
successor's scheduler), and a SIGTERM race at start-up.  The scheduler's loop is a few
Redis round trips a second, so a thread does the same job: it lives and dies with the
resolver, shares its pid (which recovery.py checks to release a dead one's lock), and
stops when the worker does.  rq's worker still watches it, and starts a new one within
its maintenance interval when a Redis error ended the last.
"""

from __future__ import annotations

import threading
import traceback

from rq.scheduler import RQScheduler

STOP_WAIT_S = 5.0


class ThreadScheduler(RQScheduler):
    """``RQScheduler`` whose ``start()`` runs ``work()``'s loop on a daemon thread."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._wake = threading.Event()

    def start(self) -> threading.Thread:
        self._status = self.Status.STARTED
        self._stop_requested = False
        self._wake.clear()
        # ``_process`` is the attribute rq's worker checks with is_alive() to restart
        # a dead scheduler; a thread answers it the same way.
        self._process = threading.Thread(target=self._run, name="rq-scheduler", daemon=True)
        self._process.start()
        return self._process

    def request_stop(self, signum=None, frame=None) -> None:
        self._stop_requested = True
        self._wake.set()

    def join(self, timeout_s: float = STOP_WAIT_S) -> None:
        thread = self._process
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    def _run(self) -> None:
        # rq's work() loop minus its signal handlers (a thread cannot install them:
        # the worker's own handlers stop us through request_stop).
        self.log.info("Scheduler for %s started on a thread of the resolver", ", ".join(self._queue_names))
        try:
            self.register_birth()
            while not self._stop_requested:
                if self.should_reacquire_locks:
                    self.acquire_locks()
                self.heartbeat()
                self.enqueue_scheduled_jobs()
                self._wake.wait(self.interval)
            self.stop()
        except Exception:  # noqa: BLE001 - logged; rq's maintenance starts a new one
            self.log.error("Scheduler thread raised an exception; the worker restarts it\n%s",
                           traceback.format_exc())
            return
        self.log.info("Scheduler thread has stopped")
