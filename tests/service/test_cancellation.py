from __future__ import annotations

import pytest

from service.cancellation import CancelToken, WorkCancelledError


class FakeRun:
    terminate = False


def test_cancel_sets_the_flag_and_terminates_tracked_runs() -> None:
    token, run = CancelToken(), FakeRun()
    token.raise_if_cancelled()
    with token.track(run):
        token.cancel()
        assert run.terminate
    assert token.cancelled
    with pytest.raises(WorkCancelledError):
        token.raise_if_cancelled()


def test_tracking_after_cancel_refuses_to_start() -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(WorkCancelledError), token.track(FakeRun()):
        pytest.fail("must not run")


def test_untracked_runs_are_left_alone() -> None:
    token, run = CancelToken(), FakeRun()
    with token.track(run):
        pass
    token.cancel()
    assert not run.terminate
