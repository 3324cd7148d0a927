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


def test_a_reply_cut_while_playing_has_the_kept_part_prefilled(config):
    """After a barge-in the next prompt holds only what was said of the reply: that is what
    gets prefilled while the person speaks, not the whole reply prefilled at its end."""
    from tests.fakes import FakeLLM

    llm = FakeLLM(reply="Breathe slowly. Then write down one task. What comes first?")
    pipeline = make(config, llm=llm)
    loaded = LoadedPipeline(pipeline, (), 0.0)
    registry = LiveRegistry(None)
    out = list(ui.text_turn(loaded, registry, SessionState(), "I am stressed"))
    pipeline.prefilling.join(5)
    whole = llm.prefilled[-1]
    assert whole[-1] == {"role": "assistant", "content": llm.reply}
    live = registry.get("no-session")
    live._pieces = live._pieces[:1]  # only the first piece has started playing
    found = live.barge_in()
    assert found.said == "Breathe slowly."
    pipeline.prefilling.join(5)
    cut = [*whole[:-1], {"role": "assistant", "content": "Breathe slowly."}]
    assert llm.prefilled[-1] == cut
    nxt = list(ui.text_turn(loaded, registry, out[-1][0], "ok"))
    assert llm.seen[-1][:len(cut)] == cut and nxt[-1][0].turns[0].interrupted


def test_a_reply_cut_before_it_was_finished_has_the_kept_part_prefilled(config):
    from tests.fakes import FakeLLM

    llm = FakeLLM(reply="Breathe slowly. Then write down one task. What comes first?")
    pipeline = make(config, llm=llm)
    loaded = LoadedPipeline(pipeline, (), 0.0)
    registry = LiveRegistry(None)
    for out in ui.text_turn(loaded, registry, SessionState(), "I am stressed"):
        if isinstance(out[-1], str) and out[-1]:  # the first piece went to the player: speak over it
            assert registry.get("no-session").barge_in() is not None
    pipeline.prefilling.join(5)
    assert llm.prefilled == [[{"role": "system", "content": config.prompts.persona},
                              {"role": "user", "content": "I am stressed"},
                              {"role": "assistant", "content": "Breathe slowly."}]]
    assert out[0].turns[0].interrupted
