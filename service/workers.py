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
from typing import Any

from service.intake import Intake
from service.jobs import JobQueue
from service.store import RunRecord, transaction, utcnow

logger = logging.getLogger(__name__)


def worker_name(index: int) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


class DeliveryBatch:
    """The tickets whose runs one worker thread finished and whose helpdesk writes it has not delivered.

    Delivering after every run cost a read and a write transaction per ticket; a worker under load
    delivers for up to `max_runs` runs at once, or when the oldest has waited `max_wait_s`, or when it
    finds the queue empty. The writes wait in the outbox meanwhile (committed with the decision), so a
    crash loses nothing: `triage recover` (or the next batch that names the ticket) delivers them, with
    their idempotency keys, in order within each ticket."""

    def __init__(self, intake: Intake, max_runs: int = 16, max_wait_s: float = 0.25) -> None:
        self.intake = intake
        self.max_runs = max_runs
        self.max_wait_s = max_wait_s
        self._tickets: list[str] = []
        self._categories: set[str] = set()
        self._since = 0.0

    def add(self, result: dict[str, Any]) -> None:
        if not self._tickets:
            self._since = time.monotonic()
        self._tickets.append(result["ticket_id"])
        if result.get("category"):
            self._categories.add(result["category"])

    def due(self) -> bool:
        return bool(self._tickets) and (len(self._tickets) >= self.max_runs
                                        or time.monotonic() - self._since >= self.max_wait_s)

    def flush(self) -> None:
        if not self._tickets:
            return
        tickets, categories = self._tickets, self._categories
        self._tickets, self._categories = [], set()
        self.intake.runtime.deliver_for(tickets, categories)


def run_one(intake: Intake, queue: JobQueue, name: str, batch: DeliveryBatch | None = None) -> bool:
    """Claim and run one job (the run's outcome marks it done); False when the queue is empty. With a
    batch, the run's writes are left for the batch to deliver (the caller flushes it)."""
    job = intake.runtime.claim_job(queue, name)
    if job is None:
        return False
    try:
        result = intake.runtime.run_job(job, deliver=batch is None)
        if batch is not None:
            batch.add(result)
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
        batch = DeliveryBatch(self.intake)
        while not self._stop.is_set():
            try:
                busy = run_one(self.intake, self.queue, name, batch)
                if not busy or batch.due():
                    batch.flush()
            except Exception as exc:  # the database went away for a moment: wait and go on
                logger.error("worker %s: %s", name, type(exc).__name__, exc_info=exc)
                busy = False
            if not busy:
                self._stop.wait(self.idle_sleep_s)
        self._flush_on_stop(batch, name)

    @staticmethod
    def _flush_on_stop(batch: DeliveryBatch, name: str) -> None:
        try:
            batch.flush()
        except Exception as exc:  # left in the outbox: `triage recover` or the next worker delivers it
            logger.error("worker %s: delivery at stop: %s", name, type(exc).__name__, exc_info=exc)

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
        batch = DeliveryBatch(self.intake)
        while time.monotonic() < deadline and run_one(self.intake, self.queue, worker_name(-1), batch):
            if batch.due():
                batch.flush()
        batch.flush()
