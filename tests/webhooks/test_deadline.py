"""The hot path's deadline: reused daemon threads, never queued behind a stuck one."""

from __future__ import annotations

import os
import threading

import pytest

from service.deadline import DeadlineExceeded, run_with_deadline


def test_the_work_s_value_and_errors_come_back() -> None:
    assert run_with_deadline(1.0, lambda a, b=0: a + b, 2, b=3) == 5
    with pytest.raises(ZeroDivisionError):
        run_with_deadline(1.0, lambda: 1 / 0)


def test_one_request_after_another_reuses_the_thread() -> None:
    first = run_with_deadline(1.0, threading.get_ident)
    assert run_with_deadline(1.0, threading.get_ident) == first
    assert first != threading.get_ident()


def test_stuck_work_times_out_and_the_next_work_does_not_wait_behind_it() -> None:
    release = threading.Event()
    stuck: list[int] = []

    def hang() -> None:
        stuck.append(threading.get_ident())
        release.wait()

    with pytest.raises(DeadlineExceeded):
        run_with_deadline(0.2, hang)
    try:
        # The stuck thread is busy: the next work runs on another one, at once.
        assert run_with_deadline(1.0, threading.get_ident) not in stuck
    finally:
        release.set()


def test_a_forked_process_starts_its_own_threads() -> None:
    run_with_deadline(1.0, lambda: None)  # the parent has an idle thread now
    pid = os.fork()
    if pid == 0:  # the child: the parent's threads did not fork with it
        try:
            code = 0 if run_with_deadline(1.0, lambda: 7) == 7 else 1
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
