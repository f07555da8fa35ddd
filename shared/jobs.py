"""rq job scheduling, by name, so producers never import the service that runs the job."""

from __future__ import annotations

import redis
from rq import Queue, Retry

from shared import streams

RESOLUTION_JOB = "services.resolver.jobs.poll_resolution"
RETRY_INTERVALS = [1, 1, 2, 2, 5, 5, 10, 10, 15, 30]


def enqueue_resolution(client: redis.Redis, run_id: str, interval: int, slug: str,
                       max_polls: int = 40) -> None:
    """One venue-resolution poll job per (run, interval); a second call is a no-op."""
    queue = Queue(streams.RESOLUTION_QUEUE, connection=client)
    intervals = (RETRY_INTERVALS * (max_polls // len(RETRY_INTERVALS) + 1))[:max_polls]
    queue.enqueue_call(RESOLUTION_JOB, args=(run_id, interval, slug),
                       job_id=f"resolve-{run_id}-{interval}", unique=True, result_ttl=3600,
                       failure_ttl=86_400, retry=Retry(max=max_polls, interval=intervals))
