"""The run-ahead stream: a turn's events produced in a worker thread (hands-free answers
prepared before the end of the turn is confirmed; see tests/test_turns.py)."""

import threading
import time

import pytest

from claritymentor.run_ahead import RunAhead


def test_run_ahead_gives_the_same_events_and_raises_where_the_stream_raised():
    def events():
        yield 1
        yield 2
        raise ValueError("bad input")

    ahead = RunAhead(events())
    assert next(ahead) == 1 and next(ahead) == 2
    with pytest.raises(ValueError, match="bad input"):
        next(ahead)


def test_run_ahead_works_before_it_is_read_and_close_stops_the_stream():
    produced, closed = [], threading.Event()

    def events():
        try:
            for i in range(1000):
                produced.append(i)
                yield i
                time.sleep(0.001)
        finally:
            closed.set()

    ahead = RunAhead(events())
    deadline = time.monotonic() + 5
    while len(produced) < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(produced) >= 3  # nothing was read yet: the work went on by itself
    ahead.close()
    assert closed.wait(5) and ahead.join(5) and len(produced) < 1000
