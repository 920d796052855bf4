"""Workers: take queued jobs and run them. Threads inside `triage serve`, or `triage worker` processes
(several machines or cores) on the same state database.

A job that raises is recorded on its run (the ticket is left for humans by the retry limit, never lost);
the error text, not the ticket's, goes to the log.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from service.intake import Intake
from service.jobs import JobQueue
from service.store import RunRecord, transaction, utcnow

logger = logging.getLogger(__name__)


def worker_name(index: int) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


def run_one(intake: Intake, queue: JobQueue, name: str) -> bool:
    """Claim and run one job (the run's outcome marks it done); False when the queue is empty."""
    job = intake.runtime.claim_job(queue, name)
    if job is None:
        return False
    try:
        intake.runtime.run_job(job)
    except Exception as exc:  # a failing ticket must not stop the worker
        logger.error("job %s (run %s) failed: %s", job.id, job.run_id, type(exc).__name__, exc_info=exc)
        with transaction(intake.runtime.db) as session:
            run = session.get(RunRecord, job.run_id)
            if run is not None:
                run.error, run.updated_at = f"{type(exc).__name__}: {str(exc)[:200]}", utcnow()
                session.add(run)
        queue.finish(job, error=f"{type(exc).__name__}: {exc}")
    return True


class WorkerPool:
    """Background threads that drain the queue; each sleeps briefly when it finds it empty."""

    def __init__(self, intake: Intake, threads: int = 1, idle_sleep_s: float = 0.05) -> None:
        self.intake = intake
        self.threads = threads
        self.queue = JobQueue(intake.runtime.db)
        self.idle_sleep_s = idle_sleep_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for index in range(self.threads):
            thread = threading.Thread(target=self._loop, args=(worker_name(index),), name=f"triage-worker-{index}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def _loop(self, name: str) -> None:
        while not self._stop.is_set():
            try:
                busy = run_one(self.intake, self.queue, name)
            except Exception as exc:  # the database went away for a moment: wait and go on
                logger.error("worker %s: %s", name, type(exc).__name__, exc_info=exc)
                busy = False
            if not busy:
                self._stop.wait(self.idle_sleep_s)

    def alive(self) -> int:
        return sum(t.is_alive() for t in self._threads)

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def drain(self, timeout_s: float = 30.0) -> None:
        """Run jobs in the calling thread until the queue is empty (CLI `triage worker --once`, tests)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and run_one(self.intake, self.queue, worker_name(-1)):
            pass
