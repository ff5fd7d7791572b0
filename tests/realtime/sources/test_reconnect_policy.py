from realtime.sources.reconnect import ReconnectPolicy


def test_backoff_doubles_from_the_initial_delay_and_is_capped():
    policy = ReconnectPolicy(max_attempts=6, initial_delay_s=0.5, max_delay_s=3.0)
    assert [policy.delay_s(attempt) for attempt in range(1, 7)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
