"""The monitor's command queue: actions run on the worker, results and errors reach the caller."""

from __future__ import annotations

import threading

import pytest

from beerpi.base.errors import Closed
from beerpi.monitor.work_queue import CommandQueue

WAIT = 10.0


def test_actions_run_in_order_on_the_worker_and_their_results_come_back():
    commands = CommandQueue()
    ran_on: list[str] = []

    def action(n):
        ran_on.append(threading.current_thread().name)
        return n * 2

    futures = [commands.submit(lambda n=n: action(n)) for n in range(3)]
    worker = threading.Thread(target=commands.wait, args=(WAIT,), name="worker")
    worker.start()
    assert [f.result(timeout=WAIT) for f in futures] == [0, 2, 4]
    worker.join(WAIT)
    assert ran_on == ["worker"] * 3


def test_an_error_reaches_the_caller_and_the_queue_carries_on():
    commands = CommandQueue()
    failing = commands.submit(lambda: 1 / 0)
    fine = commands.submit(lambda: "ok")
    commands.run_pending()
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=WAIT)
    assert fine.result(timeout=WAIT) == "ok"


def test_wake_ends_a_wait_early_and_runs_nothing():
    commands = CommandQueue()
    done = threading.Event()
    worker = threading.Thread(target=lambda: (commands.wait(WAIT), done.set()))
    worker.start()
    commands.wake()
    assert done.wait(WAIT)
    worker.join(WAIT)


def test_after_close_new_actions_are_refused_and_queued_ones_fail():
    commands = CommandQueue()
    queued = commands.submit(lambda: "never")
    commands.close()
    with pytest.raises(Closed):
        commands.submit(lambda: "too late")
    commands.fail_pending()
    with pytest.raises(Closed):
        queued.result(timeout=WAIT)
