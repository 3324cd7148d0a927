"""Answers prepared ahead of the end of a hands-free turn: the run-ahead stream, and the
turn handler holding the answer back until the end of the turn is confirmed."""

import threading
import time

import numpy as np
import pytest

from claritymentor import ui
from claritymentor.factory import LoadedPipeline
from claritymentor.live import LiveRegistry
from claritymentor.run_ahead import RunAhead
from claritymentor.session import SessionState
from tests.test_live import ScriptedDetector
from tests.test_pipeline import CLIP, make


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


def _handler_with_early_utterance(config):
    pipeline = make(config)
    loaded = LoadedPipeline(pipeline, (), 0.0)
    registry = LiveRegistry(lambda: ScriptedDetector([(True, ["early"])]))
    live = registry.get("no-session")
    early = live.listen(16000, np.zeros(4000, np.float32)).utterances[0]
    object.__setattr__(early, "clip", CLIP)  # speech the fake VAD finds
    out: list = []
    gen = ui.hands_free_turn(loaded, registry, SessionState(), "signal")
    worker = threading.Thread(target=lambda: out.extend(gen), daemon=True)
    worker.start()
    deadline = time.monotonic() + 5
    while pipeline.stt.calls == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    return pipeline, live, early, out, worker


def test_an_answer_prepared_early_reaches_the_page_only_when_the_turn_is_confirmed(config):
    pipeline, live, early, out, worker = _handler_with_early_utterance(config)
    assert pipeline.stt.calls == 1 and out == []  # heard already; nothing sent before the decision
    assert worker.is_alive()
    early.confirmation.decide(True)
    worker.join(5)
    state = out[-1][0]
    assert state.turns[-1].reply_text == pipeline.llm.reply
    assert state.turns[-1].marks["turn_confirmed"] >= 0 and live.turn_id == 1
    assert "end of turn confirmed" in out[-1][6]


def test_an_answer_prepared_early_is_dropped_when_the_person_goes_on(config):
    pipeline, live, early, out, worker = _handler_with_early_utterance(config)
    early.confirmation.decide(False)
    worker.join(5)
    assert len(out) == 1 and all(isinstance(v, dict) and v.get("__type__") == "update" for v in out[0])
    assert live.turn_id == 0  # no reply began: nothing played, nothing to interrupt
