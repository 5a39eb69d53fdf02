"""The service's compute thread: concurrent requests share a pass, each gets its own answers."""

from __future__ import annotations

import threading

import pytest

from so_assets.serving.batcher import Batcher


def test_waiting_requests_share_one_pass_and_get_their_own_answers():
    gate, entered, calls = threading.Event(), threading.Event(), []

    def compute(model, questions, k):
        entered.set()
        gate.wait(10)  # the first pass holds the thread while the others queue up
        calls.append((model, len(questions), threading.current_thread().name))
        return [f"{model}:{title}:{k}" for title, _ in questions]

    batcher = Batcher(compute, max_questions=4)
    answers: dict[str, list] = {}

    def ask(name: str, model: str, titles: list[str], k: int) -> None:
        answers[name] = batcher.run(model, [(t, "") for t in titles], k)

    def queued(name: str, titles: list[str], k: int) -> threading.Thread:
        """A client whose request is in the queue (in this order) when this returns."""
        before = batcher._jobs.qsize()
        thread = threading.Thread(target=ask, args=(name, "m", titles, k))
        thread.start()
        while batcher._jobs.qsize() == before:
            pass
        return thread

    first = threading.Thread(target=ask, args=("first", "m", ["a"], 5))
    first.start()
    assert entered.wait(10)  # the worker took it and waits at the gate
    clients = [first, queued("q0", ["t0"], 5), queued("other", ["x"], 3),
               queued("q1", ["t1"], 5), queued("big", ["b1", "b2", "b3"], 5),
               queued("q2", ["t2"], 5)]
    gate.set()
    for thread in clients:
        thread.join(10)
    assert answers["first"] == ["m:a:5"] and answers["other"] == ["m:x:3"]
    assert {answers[f"q{i}"][0] for i in range(3)} == {"m:t0:5", "m:t1:5", "m:t2:5"}
    assert answers["big"] == ["m:b1:5", "m:b2:5", "m:b3:5"]
    # q0, q1 and q2 share a pass (big would take it over 4), then other (k=3), then big
    assert [n for _, n, _ in calls] == [1, 3, 1, 3]
    assert {name for *_, name in calls} == {"so-assets-compute"}


def test_a_failed_pass_fails_its_callers_and_the_thread_goes_on():
    def compute(model, questions, k):
        if model == "broken":
            raise ValueError("no such weights")
        return [len(t) for t, _ in questions]

    batcher = Batcher(compute, max_questions=8)
    with pytest.raises(ValueError, match="no such weights"):
        batcher.run("broken", [("a", "")], 1)
    assert batcher.run("fine", [("abc", "")], 1) == [3]
    assert batcher.call(lambda: threading.current_thread().name) == "so-assets-compute"
