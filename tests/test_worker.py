"""The model thread: ordered jobs, latest-wins per key, cancellation, errors, close."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError
from collections.abc import Callable, Iterator

import pytest

from llama_lsp.model.worker import Job, ModelWorker

TIMEOUT = 5.0


@pytest.fixture
def worker() -> Iterator[ModelWorker]:
    model_worker = ModelWorker(name="test-model-worker")
    yield model_worker
    model_worker.close(timeout=TIMEOUT)


def _wait(event: threading.Event) -> None:
    assert event.wait(TIMEOUT), "timed out waiting for an event"


def _blocker(worker: ModelWorker, key=None) -> tuple[Job, threading.Event, threading.Event]:
    """Submit a job that runs until released; return it once it is running."""
    started = threading.Event()
    release = threading.Event()

    def run(is_cancelled: Callable[[], bool]) -> str:
        started.set()
        _wait(release)
        return "blocker"

    job = worker.submit(run, key=key)
    _wait(started)
    return job, started, release


def test_jobs_run_in_order_on_one_thread(worker: ModelWorker):
    job, _, release = _blocker(worker)
    order: list[int] = []
    threads: set[int] = set()

    def make(number: int):
        def run(is_cancelled):
            order.append(number)
            threads.add(threading.get_ident())
            return number * 10
        return run

    jobs = [worker.submit(make(n)) for n in range(6)]
    release.set()
    assert [j.future.result(TIMEOUT) for j in jobs] == [0, 10, 20, 30, 40, 50]
    assert job.future.result(TIMEOUT) == "blocker"
    assert order == list(range(6))
    assert len(threads) == 1
    assert threading.get_ident() not in threads


def test_worker_thread_is_a_named_daemon():
    model_worker = ModelWorker(name="my-model-thread")
    try:
        seen: list[threading.Thread] = []
        model_worker.submit(lambda is_cancelled: seen.append(threading.current_thread())).future \
            .result(TIMEOUT)
        assert seen[0].name == "my-model-thread"
        assert seen[0].daemon
    finally:
        model_worker.close(timeout=TIMEOUT)


def test_run_receives_its_is_cancelled(worker: ModelWorker):
    job = worker.submit(lambda is_cancelled: is_cancelled())
    assert job.future.result(TIMEOUT) is False


def test_queued_job_with_same_key_is_superseded(worker: ModelWorker):
    _, _, release = _blocker(worker)
    ran: list[str] = []
    first = worker.submit(lambda c: ran.append("first") or "first", key="doc-a")
    second = worker.submit(lambda c: ran.append("second") or "second", key="doc-a")
    assert first.future.cancelled()
    assert first.is_cancelled()
    assert not second.future.done()
    release.set()
    assert second.future.result(TIMEOUT) == "second"
    assert ran == ["second"]
    with pytest.raises(CancelledError):
        first.future.result(0)


def test_only_the_newest_of_many_queued_jobs_runs(worker: ModelWorker):
    _, _, release = _blocker(worker)
    ran: list[int] = []
    jobs = [worker.submit(lambda c, n=n: ran.append(n) or n, key="k") for n in range(5)]
    assert [j.future.cancelled() for j in jobs] == [True] * 4 + [False]
    release.set()
    assert jobs[-1].future.result(TIMEOUT) == 4
    assert ran == [4]


def test_running_job_with_same_key_is_cancelled_immediately(worker: ModelWorker):
    started = threading.Event()
    saw_cancel = threading.Event()
    finish = threading.Event()
    flags: list[bool] = []

    def long_generation(is_cancelled):
        flags.append(is_cancelled())
        started.set()
        # The generation loop polls between tokens; here: until told to stop.
        while not is_cancelled():
            if finish.wait(0.01):
                break
        flags.append(is_cancelled())
        saw_cancel.set()
        return "stale result"

    running = worker.submit(long_generation, key="doc")
    _wait(started)
    newer = worker.submit(lambda c: "fresh", key="doc")
    # The future resolves as cancelled right away, before the job returns.
    assert running.future.cancelled()
    assert running.is_cancelled()
    _wait(saw_cancel)
    assert flags == [False, True]
    assert newer.future.result(TIMEOUT) == "fresh"
    finish.set()


def test_other_keys_and_unkeyed_jobs_are_not_affected(worker: ModelWorker):
    running, _, release = _blocker(worker, key="a")
    queued_b = worker.submit(lambda c: "b", key="b")
    queued_none = worker.submit(lambda c: "none")
    queued_none_2 = worker.submit(lambda c: "none 2")
    newer_a = worker.submit(lambda c: "a2", key="a")
    assert running.is_cancelled()
    assert running.future.cancelled()
    for job in (queued_b, queued_none, queued_none_2, newer_a):
        assert not job.is_cancelled()
        assert not job.future.done()
    release.set()
    assert queued_b.future.result(TIMEOUT) == "b"
    assert queued_none.future.result(TIMEOUT) == "none"
    assert queued_none_2.future.result(TIMEOUT) == "none 2"
    assert newer_a.future.result(TIMEOUT) == "a2"


def test_unkeyed_jobs_never_supersede_each_other(worker: ModelWorker):
    running, _, release = _blocker(worker)
    queued = worker.submit(lambda c: 1)
    worker.submit(lambda c: 2)
    assert not running.is_cancelled()
    assert not queued.is_cancelled()
    release.set()
    assert running.future.result(TIMEOUT) == "blocker"
    assert queued.future.result(TIMEOUT) == 1


def test_exceptions_reach_the_future_and_the_worker_goes_on(worker: ModelWorker):
    def fail(is_cancelled):
        raise RuntimeError("model exploded")

    failed = worker.submit(fail, key="x")
    with pytest.raises(RuntimeError, match="model exploded"):
        failed.future.result(TIMEOUT)
    assert worker.submit(lambda c: "still alive", key="x").future.result(TIMEOUT) == "still alive"


def test_base_exceptions_reach_the_future(worker: ModelWorker):
    def interrupt(is_cancelled):
        raise KeyboardInterrupt

    job = worker.submit(interrupt)
    assert isinstance(job.future.exception(TIMEOUT), KeyboardInterrupt)
    assert worker.submit(lambda c: 3).future.result(TIMEOUT) == 3


def test_cancelled_running_job_that_raises_does_not_break_the_worker(worker: ModelWorker):
    started = threading.Event()
    release = threading.Event()

    def run(is_cancelled):
        started.set()
        _wait(release)
        raise ValueError("raised after being superseded")

    running = worker.submit(run, key="k")
    _wait(started)
    newer = worker.submit(lambda c: "newer", key="k")
    assert running.future.cancelled()
    release.set()
    assert newer.future.result(TIMEOUT) == "newer"
    assert running.future.cancelled()


def test_job_cancelled_before_it_starts_never_runs(worker: ModelWorker):
    _, _, release = _blocker(worker)
    ran = threading.Event()
    job = worker.submit(lambda c: ran.set())
    job.cancel()
    after = worker.submit(lambda c: "after")
    release.set()
    assert after.future.result(TIMEOUT) == "after"
    assert not ran.is_set()
    assert job.future.cancelled()


def test_job_cancel_sets_both_flags():
    job = Job(lambda c: None, key="k")
    assert not job.is_cancelled()
    job.cancel()
    assert job.is_cancelled()
    assert job.future.cancelled()


def test_close_cancels_queued_jobs_and_stops_the_running_one():
    model_worker = ModelWorker(name="closing-worker")
    started = threading.Event()
    stopped = threading.Event()

    def run(is_cancelled):
        started.set()
        while not is_cancelled():
            stopped.wait(0.01)
        stopped.set()
        return "done"

    running = model_worker.submit(run)
    _wait(started)
    queued = [model_worker.submit(lambda c: "never"), model_worker.submit(lambda c: "never", key=1)]
    model_worker.close(timeout=TIMEOUT)
    assert stopped.is_set()
    assert running.future.cancelled()
    assert all(job.future.cancelled() for job in queued)
    assert not model_worker._thread.is_alive()


def test_submit_after_close_is_cancelled_at_once():
    model_worker = ModelWorker()
    model_worker.close(timeout=TIMEOUT)
    ran = threading.Event()
    job = model_worker.submit(lambda c: ran.set(), key="k")
    assert job.future.cancelled()
    assert job.is_cancelled()
    assert not ran.is_set()


def test_close_is_idempotent():
    model_worker = ModelWorker()
    model_worker.close(timeout=TIMEOUT)
    model_worker.close(timeout=TIMEOUT)
    assert not model_worker._thread.is_alive()


def test_ended_follows_the_run_not_the_cancelled_future(worker: ModelWorker):
    job, _, release = _blocker(worker, key="k")
    job.cancel()  # the future is resolved at once; the run goes on until it returns
    assert job.future.cancelled() and not job.ended.done()
    release.set()
    job.ended.result(TIMEOUT)


def test_ended_is_resolved_for_jobs_that_never_start(worker: ModelWorker):
    _, _, release = _blocker(worker)
    superseded = worker.submit(lambda c: "never", key="k")
    newest = worker.submit(lambda c: "newest", key="k")
    superseded.ended.result(TIMEOUT)  # dropped from the queue: over at once
    cancelled = worker.submit(lambda c: "never")
    cancelled.cancel()
    release.set()
    assert newest.future.result(TIMEOUT) == "newest"
    cancelled.ended.result(TIMEOUT)  # skipped when its turn came
    worker.close(timeout=TIMEOUT)
    after = worker.submit(lambda c: "never")
    after.ended.result(TIMEOUT)


def test_close_runs_then_after_the_thread_ended():
    model_worker = ModelWorker(name="then-in-time")
    ran_on: list[str] = []
    assert model_worker.close(timeout=TIMEOUT,
                              then=lambda: ran_on.append(threading.current_thread().name))
    assert ran_on == [threading.current_thread().name]
    assert model_worker.close(timeout=TIMEOUT, then=lambda: ran_on.append("again"))
    assert ran_on[-1] == "again"


def test_close_leaves_then_to_a_thread_that_outlives_the_timeout():
    model_worker = ModelWorker(name="then-late")
    job, _, release = _blocker(model_worker)
    ran: list[tuple[str, bool]] = []
    done = threading.Event()

    def then() -> None:
        ran.append((threading.current_thread().name, job.ended.done()))
        done.set()

    assert not model_worker.close(timeout=0.01, then=then)
    assert not ran
    release.set()
    _wait(done)
    assert ran == [("then-late", True)]  # on the model thread, after its last job ended
