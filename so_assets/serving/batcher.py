"""One thread does all the service's torch work (loading models and every forward pass);
requests that wait together share one pass.

Under concurrent clients this turns N one-question passes into one N-question pass (the
encoder pads a batch once). One thread also means one OpenMP team: each thread that calls
torch gets its own, and on 2 cores a second team makes the first slow (MiniLM on one
question: 23 ms from the thread that loaded it, 40 ms from another).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class _Job:
    key: tuple | None  # None: a call, run alone
    model: object
    questions: Sequence[tuple[str, str]]
    k: int
    call: Callable[[], object] | None = None
    done: Future = field(default_factory=Future)


class Batcher:
    """Runs ``compute(model, questions, k)`` on one worker thread, merging the jobs queued
    for the same model and ``k`` into one call of at most ``max_questions`` questions."""

    def __init__(self, compute: Callable[[object, list[tuple[str, str]], int], list],
                 max_questions: int) -> None:
        self.compute = compute
        self.max_questions = max_questions
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._held: list[_Job] = []  # taken from the queue but for another model or k
        threading.Thread(target=self._work, name="so-assets-compute", daemon=True).start()

    def run(self, model: object, questions: Sequence[tuple[str, str]], k: int) -> list:
        """The results of ``questions`` (in order), computed on the worker thread."""
        job = _Job((id(model), k), model, questions, k)
        self._jobs.put(job)
        return job.done.result()

    def call(self, function: Callable[[], T]) -> T:
        """``function()``, run on the worker thread (e.g. loading a model)."""
        job = _Job(None, None, (), 0, function)
        self._jobs.put(job)
        return job.done.result()

    def _next_group(self) -> list[_Job]:
        first = self._held.pop(0) if self._held else self._jobs.get()
        if first.key is None:
            return [first]
        group, size = [first], len(first.questions)
        waiting = self._held + self._drain()
        self._held = []
        for job in waiting:
            if job.key == first.key and size + len(job.questions) <= self.max_questions:
                group.append(job)
                size += len(job.questions)
            else:
                self._held.append(job)
        return group

    def _drain(self) -> list[_Job]:
        jobs = []
        while True:
            try:
                jobs.append(self._jobs.get_nowait())
            except queue.Empty:
                return jobs

    def _work(self) -> None:
        while True:
            group = self._next_group()
            if group[0].call is not None:
                try:
                    group[0].done.set_result(group[0].call())
                except Exception as error:
                    group[0].done.set_exception(error)
                continue
            questions = [q for job in group for q in job.questions]
            try:
                results = self.compute(group[0].model, questions, group[0].k)
            except Exception as error:  # each caller gets it; the worker goes on
                log.exception("a forward pass over %d questions failed", len(questions))
                for job in group:
                    job.done.set_exception(error)
                continue
            start = 0
            for job in group:
                job.done.set_result(results[start:start + len(job.questions)])
                start += len(job.questions)
