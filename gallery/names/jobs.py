"""One training at a time per server process: a queue of own-list trainings and the worker thread that runs them.

The page keeps one :class:`TrainingQueue` for the whole process (``st.cache_resource``) and each visitor's
:class:`Job` in their own session. The worker thread trains the job at the head of the queue
(``gallery.names.own.train``) while the visitors' pages poll the job: its place in the queue, its loss curve,
and at the end its model and the model's .zip. No Streamlit here: the worker never touches a page.
"""

from __future__ import annotations

import atexit
import itertools
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field

from gallery.names import own

QUEUED, RUNNING, DONE, STOPPED, FAILED, CANCELLED = "queued", "running", "done", "stopped", "failed", "cancelled"
FINISHED = (DONE, STOPPED, FAILED, CANCELLED)
_ids = itertools.count(1)


_queues: weakref.WeakSet = weakref.WeakSet()  # every queue of this process, for the shutdown below


class QueueFull(RuntimeError):
    pass


@atexit.register
def _shutdown(timeout: float = 10) -> None:
    """At interpreter exit: empty every queue and stop its training, then wait for the worker, so that no thread is
    killed inside torch (which aborts the process: "terminate called without an active exception")."""
    for queue in list(_queues):
        with queue._lock:
            while queue._waiting:
                job = queue._waiting.popleft()
                job.state, job.ended = CANCELLED, time.monotonic()
        if queue._running is not None:
            queue._running.stop()
        queue.join(timeout)


@dataclass(eq=False)
class Job:
    """One visitor's training: what to train, and what the worker has made of it so far."""

    items: own.ItemList
    kind: str = "gru"
    seconds: float = 30
    seed: int = 0
    id: int = field(default_factory=lambda: next(_ids))
    state: str = QUEUED
    history: list = field(default_factory=list)  # one row per validation pass, appended by the worker
    result: own.Trained | None = None
    archive: bytes | None = None  # the model folder as a .zip
    error: str | None = None
    started: float | None = None
    ended: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def stop(self) -> None:
        """Ask the worker to stop: training ends at its next step and keeps the best weights so far."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started


class TrainingQueue:
    """First come, first served; one worker thread, started when a job arrives and ended when the queue is empty."""

    def __init__(self, threads: int = 1, max_waiting: int = 20):
        self.threads, self.max_waiting = threads, max_waiting
        self._lock = threading.Lock()
        self._waiting: deque[Job] = deque()
        self._running: Job | None = None
        self._worker: threading.Thread | None = None
        self.completed = 0
        _queues.add(self)

    def submit(self, job: Job) -> Job:
        with self._lock:
            if len(self._waiting) >= self.max_waiting:
                raise QueueFull(f"{len(self._waiting)} trainings are already waiting on this server; try again later.")
            self._waiting.append(job)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="own-names-trainer", daemon=True)
                self._worker.start()
        return job

    def position(self, job: Job) -> int | None:
        """0 while it trains, k when k-1 jobs wait before it (so 1 means next), None once finished."""
        with self._lock:
            if job is self._running:
                return 0
            for i, waiting in enumerate(self._waiting):
                if waiting is job:
                    return i + 1 + (self._running is not None)
            return None

    def cancel(self, job: Job) -> None:
        """Leave the queue (a waiting job) or stop (the running one)."""
        with self._lock:
            if job in self._waiting:
                self._waiting.remove(job)
                job.state, job.ended = CANCELLED, time.monotonic()
                return
        job.stop()

    @property
    def running(self) -> Job | None:
        return self._running

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the worker has emptied the queue (tests, the command line)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def _work(self) -> None:
        import torch  # imported by this thread itself (see the guide's note on partially imported modules)

        torch.set_num_threads(self.threads)
        while True:
            with self._lock:
                if not self._waiting:
                    self._worker = None
                    return
                job = self._running = self._waiting.popleft()
                job.state, job.started = RUNNING, time.monotonic()
            try:
                result = own.train(
                    job.items, job.kind, job.seconds, job.seed, progress=job.history.append, stop=job._stop.is_set
                )
                job.archive = result.zip_bytes()
                job.result = result
                job.state = STOPPED if job.stopping else DONE
            except Exception as err:  # noqa: BLE001 - the visitor gets the reason, the worker goes on
                job.error = f"{type(err).__name__}: {err}"
                job.state = FAILED
            finally:
                job.ended = time.monotonic()
                with self._lock:
                    self._running = None
                    self.completed += 1
