"""Calls to a Ray actor wait through its restart and give up when it is gone for good."""

from __future__ import annotations

import pytest
from ray.exceptions import ActorDiedError, ActorUnavailableError

from services.multistream import ray_actors


class FlakyMethod:
    """Stands in for an actor method: raises the queued errors, then answers."""

    def __init__(self, errors: list[Exception]) -> None:
        self.errors = list(errors)
        self.calls = 0

    def remote(self, *args: object) -> tuple:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return args


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ray_actors.ray, "get", lambda result: result)
    monkeypatch.setattr(ray_actors, "REJOIN_RETRY_S", 0.0)


def test_a_restarting_actor_is_asked_again_beyond_the_attempt_limit() -> None:
    # A slow restart on a loaded machine: more "unavailable" answers than REJOIN_ATTEMPTS.
    unavailable = [ActorUnavailableError("The actor is restarting.", None)] * (ray_actors.REJOIN_ATTEMPTS * 3)
    method = FlakyMethod(unavailable)
    assert ray_actors.call_patiently(method, "model") == ("model",)
    assert method.calls == len(unavailable) + 1


def test_an_actor_that_stays_unavailable_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ray_actors, "RESTART_WAIT_S", 0.0)
    method = FlakyMethod([ActorUnavailableError("The actor is restarting.", None)] * 3)
    with pytest.raises(ActorUnavailableError):
        ray_actors.call_patiently(method)
    assert method.calls == 1


def test_a_dead_actor_is_given_up_after_the_attempt_limit() -> None:
    method = FlakyMethod([ActorDiedError()] * 10)
    with pytest.raises(ActorDiedError):
        ray_actors.call_patiently(method)
    assert method.calls == ray_actors.REJOIN_ATTEMPTS
