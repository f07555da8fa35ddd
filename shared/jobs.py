"""rq job scheduling, by name, so producers never import the service that runs the job."""

from __future__ import annotations

from datetime import timedelta

import redis
from rq import Queue

from shared import streams

RESOLUTION_JOB = "services.resolver.jobs.poll_resolution"
POLL_INTERVALS_S = (1, 1, 1, 2, 2, 5, 5, 10, 10, 15, 30)  # before poll 1, 2, 3, ...


def resolution_job_id(run_id: str, interval: int, attempt: int) -> str:
    return f"resolve-{run_id}-{interval}-{attempt}"


def enqueue_resolution(client: redis.Redis, run_id: str, interval: int, slug: str,
                       attempt: int = 1, max_polls: int = 40) -> bool:
    """Schedule poll number ``attempt`` for (run, interval); False once polls run out.

    Polling is explicit (a job that finds the market unresolved schedules the next
    poll) rather than rq's exception-driven retry, so "not resolved yet" is a normal
    outcome and not an error in the worker's log.  Job ids are deterministic; asking for
    the first poll again raises rq's DuplicateJobError (callers catch it: one chain per
    window).
    """
    if attempt > max_polls:
        return False
    queue = Queue(streams.RESOLUTION_QUEUE, connection=client)
    job_id = resolution_job_id(run_id, interval, attempt)
    # Even the first poll waits a little: the window has only just ended, and the venue
    # resolves it seconds later at best.  Only the first is unique: the ledger asks for
    # it again after a restart, and must not start a second chain of polls.
    delay = POLL_INTERVALS_S[min(attempt - 1, len(POLL_INTERVALS_S) - 1)]
    queue.enqueue_in(timedelta(seconds=delay), RESOLUTION_JOB, run_id, interval, slug, attempt, max_polls,
                     job_id=job_id, unique=attempt == 1, result_ttl=3600, failure_ttl=86_400)
    return True
