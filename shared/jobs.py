"""rq job scheduling, by name, so producers never import the service that runs the job."""

from __future__ import annotations

from datetime import timedelta

import redis
from rq import Queue

from shared import streams

RESOLUTION_JOB = "services.resolver.jobs.poll_resolution"
POLL_INTERVALS_S = (1, 1, 2, 2, 5, 5, 10, 10, 15, 30)


def resolution_job_id(run_id: str, interval: int, attempt: int) -> str:
    return f"resolve-{run_id}-{interval}-{attempt}"


def enqueue_resolution(client: redis.Redis, run_id: str, interval: int, slug: str,
                       attempt: int = 1, max_polls: int = 40) -> bool:
    """Schedule poll number ``attempt`` for (run, interval); False once polls run out.

    Polling is explicit (a job that finds the market unresolved schedules the next
    poll) rather than rq's exception-driven retry, so "not resolved yet" is a normal
    outcome and not an error in the worker's log.  Job ids make a repeated call a no-op.
    """
    if attempt > max_polls:
        return False
    queue = Queue(streams.RESOLUTION_QUEUE, connection=client)
    job_id = resolution_job_id(run_id, interval, attempt)
    args = (run_id, interval, slug, attempt, max_polls)
    if attempt == 1:
        queue.enqueue_call(RESOLUTION_JOB, args=args, job_id=job_id, unique=True, result_ttl=3600,
                           failure_ttl=86_400)
    else:
        delay = POLL_INTERVALS_S[min(attempt - 2, len(POLL_INTERVALS_S) - 1)]
        queue.enqueue_in(timedelta(seconds=delay), RESOLUTION_JOB, *args, job_id=job_id,
                         result_ttl=3600, failure_ttl=86_400)
    return True
