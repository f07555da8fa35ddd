"""What a killed resolver leaves behind in rq, and how its successor clears it at start.

The resolver runs under a stable worker name (``resolver-1``), like every consumer.
When it is SIGKILLed, rq keeps three things that block or lose work for minutes:

* its worker registration (TTL ``worker_ttl + 60`` s): rq refuses to start a worker
  under the same name ("There exists an active worker named 'resolver-1' already"),
  so the restarted resolver crashed in a loop for about 70 s;
* its scheduler's lock (TTL 61 s, owner = a random name): the new scheduler cannot
  take it, and rq only tries again at its 10-minute maintenance, so polls scheduled
  with ``enqueue_in`` (every poll) waited that long;
* the job it was running, left "started" forever (rq moves such jobs to the failed
  registry at the same 10-minute maintenance, and never re-runs them): that window's
  resolution chain ended, and its settlement stayed unconfirmed.  Also a job whose
  execution rq had recorded but not yet marked started (two steps);
* a job it had taken off the queue but not started yet: rq moves it to the queue's
  intermediate list first and to the started registry only then, so a kill in between
  leaves it there, and rq's clean-up fails it a minute or more later.  Same result.

A registration from this host whose process is gone (or that has our own pid: a
restarted container) is our dead predecessor's, so it is released, and the jobs it was
running are queued again.  Jobs are idempotent (deterministic message ids), so running
one twice is harmless.  A live worker elsewhere under the same name is left alone: rq
then refuses to start, which is the right answer to two replicas with one name.
"""

from __future__ import annotations

import logging
import os
import socket

import redis
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.scripts import release_lock
from rq.utils import parse_composite_key

log = logging.getLogger("polybot.resolver")


def recover_from_predecessor(client: redis.Redis, queue: Queue, worker_name: str) -> dict[str, int]:
    """Release a dead predecessor's registration and scheduler lock, requeue its jobs."""
    released = int(_release_worker(client, worker_name))
    unlocked = int(_release_scheduler_lock(client, queue.name))
    requeued = _requeue_abandoned(client, queue, worker_name) + _requeue_unstarted(queue)
    summary = {"registration": released, "scheduler_lock": unlocked, "requeued_jobs": requeued}
    if any(summary.values()):
        log.warning("recovered from a killed predecessor", extra={"data": summary})
    return summary


def _is_ours_and_dead(hostname: str | None, pid: int | None) -> bool:
    if hostname != socket.gethostname() or pid is None:
        return False
    if pid == os.getpid():
        return True  # a restarted container reuses the pid: that registration is not us yet
    return _process_gone(pid)


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    try:  # a killed process nobody has reaped yet still answers signal 0
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return False


def _release_worker(client: redis.Redis, worker_name: str) -> bool:
    key = Worker.redis_worker_namespace_prefix + worker_name
    fields = {k.decode(): v.decode() for k, v in client.hgetall(key).items()}
    if not fields or "death" in fields:
        return False
    pid = int(fields["pid"]) if fields.get("pid", "").isdigit() else None
    if not _is_ours_and_dead(fields.get("hostname"), pid):
        return False
    stale = Worker.find_by_key(key, connection=client)
    if stale is not None:
        stale.register_death()  # rq's own way: a registration with 'death' may be replaced
    return True


def _release_scheduler_lock(client: redis.Redis, queue_name: str) -> bool:
    lock_key = RQScheduler.get_locking_key(queue_name)
    owner = client.get(lock_key)
    if owner is None:
        return False
    owner = owner.decode()
    meta = {k.decode(): v.decode() for k, v in client.hgetall(SCHEDULER_KEY_TEMPLATE % owner).items()}
    pid = int(meta["pid"]) if meta.get("pid", "").isdigit() else None
    if meta and not _is_ours_and_dead(meta.get("hostname"), pid):
        return False  # a live scheduler (its metadata and lock are refreshed together)
    return bool(release_lock(client, lock_key, owner))


def _requeue_abandoned(client: redis.Redis, queue: Queue, worker_name: str) -> int:
    """Jobs with an execution of ours in the started registry.  rq records the
    execution (and the registry entry) in one step and marks the job started in the
    next, so a kill in between leaves a job that still says "queued", with no worker
    name of its own: the execution says whose it was."""
    registry = StartedJobRegistry(queue=queue)
    requeued = 0
    for entry in client.zrange(registry.key, 0, -1):
        job_id, execution_id = parse_composite_key(entry.decode())
        try:
            job = Job.fetch(job_id, connection=client)
        except NoSuchJobError:
            client.zrem(registry.key, entry)
            continue
        if job.get_status() not in (JobStatus.STARTED, JobStatus.QUEUED):
            continue  # finished or failed: rq's own clean-up
        if _runner(client, job, execution_id) != worker_name:
            continue
        client.zrem(registry.key, entry)
        queue.intermediate_queue.remove(job_id)  # (still there between the two steps)
        queue.enqueue_job(job)
        requeued += 1
    return requeued


def _runner(client: redis.Redis, job: Job, execution_id: str) -> str | None:
    try:
        return Execution.fetch(execution_id, job.id, connection=client).worker_name or job.worker_name
    except ValueError:  # the execution's record has expired
        return job.worker_name


def _requeue_unstarted(queue: Queue) -> int:
    """Jobs taken off the queue and never started.  This runs before our worker takes
    any; a live replica could be between the two steps this very moment, and would then
    run its job a second time, which is harmless."""
    started = queue.started_job_registry
    requeued = 0
    for job_id in queue.intermediate_queue.get_job_ids():
        if job_id in started:
            continue
        job = queue.fetch_job(job_id)
        queue.intermediate_queue.remove(job_id)
        if job is not None:
            queue.enqueue_job(job)
            requeued += 1
    return requeued
