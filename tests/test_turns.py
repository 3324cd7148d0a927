"""The turn runner with a conversation and scripted stages: what the page is sent, update
by update, for typed and hands-free turns, barge-ins, echoes and refused utterances."""

import json
import threading
import time

import numpy as np
import pytest

from claritymentor.conversation import Conversation
from claritymentor.errors import UserInputError
from claritymentor.page import KEEP, PageUpdate
from claritymentor.turns import TurnRunner
from claritymentor.types import AudioClip
from tests.fakes import FakeLLM, FakeSTT, ScriptedDetector, make_pipeline

SPEECH = AudioClip(np.full(16000, 0.1, np.float32), 16000)  # the fake VAD finds speech in it
REPLY = "Breathe slowly. Then write down one task. What comes first?"


def test_a_typed_turn_shows_the_words_then_each_piece_then_the_whole_page(config):
    runner = TurnRunner(make_pipeline(config, llm=FakeLLM(REPLY)))
    conv = Conversation(runner.pipeline)
    updates = list(runner.text(conv, "I am stressed"))
    assert updates[0].chat[-2]["content"].startswith("I am stressed\n") and updates[0].chat[-1]["content"] == "…"
    assert "perceived: **fear**" in updates[0].chat[-2]["content"]
    assert updates[0].feed is KEEP and updates[0].details is KEEP  # nothing else changes yet
    pieces = [json.loads(u.feed) for u in updates[1:-1] if u.feed is not KEEP]
    assert [p["seq"] for p in pieces] == [0, 1, 2] and {p["turn"] for p in pieces} == {conv.reply_id}
    last = updates[-1]
    assert last.details["turn"] == 1 and "LLM" in last.last_timings and last.chat[-1]["content"].startswith(REPLY)
    assert conv.state.turns[0].reply_text == REPLY


def test_a_refused_message_changes_nothing(config):
    runner = TurnRunner(make_pipeline(config))
    conv = Conversation(runner.pipeline)
    list(runner.text(conv, "hello"))
    before = conv.state
    with pytest.raises(UserInputError):
        runner.text(conv, "   ")  # raised before any update exists
    assert conv.state is before


def test_the_next_prompt_holds_only_what_was_said_of_a_cut_reply(config):
    llm = FakeLLM(REPLY)
    runner = TurnRunner(make_pipeline(config, llm=llm))
    conv = Conversation(runner.pipeline)
    for update in runner.text(conv, "I am stressed"):
        if update.feed is not KEEP:  # the first piece went to the player: speak over it
            assert conv.barge_in() is not None
    conv.prefilling.join(5)
    cut = [{"role": "system", "content": config.prompts.persona}, {"role": "user", "content": "I am stressed"},
           {"role": "assistant", "content": "Breathe slowly."}]
    assert llm.prefilled == [cut] and conv.state.turns[0].interrupted
    list(runner.text(conv, "ok"))
    assert llm.seen[-1][:len(cut)] == cut


def _hands_free_with_early_utterance(config):
    """A conversation whose microphone handed on an utterance early; its answer runs in a thread."""
    runner = TurnRunner(make_pipeline(config))
    conv = Conversation(runner.pipeline, lambda: ScriptedDetector([(True, ["early"])], clip=SPEECH))
    early = conv.listen(16000, np.zeros(4000, np.float32)).utterances[0]
    out: list[PageUpdate] = []
    worker = threading.Thread(target=lambda: out.extend(runner.hands_free(conv)), daemon=True)
    worker.start()
    deadline = time.monotonic() + 5
    while runner.pipeline.stt.calls == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    return runner, conv, early, out, worker


def test_an_answer_prepared_early_reaches_the_page_only_when_the_turn_is_confirmed(config):
    runner, conv, early, out, worker = _hands_free_with_early_utterance(config)
    assert runner.pipeline.stt.calls == 1 and out == []  # heard already; nothing sent before the decision
    assert worker.is_alive()
    early.confirmation.decide(True)
    worker.join(5)
    assert conv.state.turns[-1].reply_text == runner.pipeline.llm.reply
    assert conv.state.turns[-1].marks["turn_confirmed"] >= 0 and conv.reply_id == 1
    assert "end of turn confirmed" in out[-1].last_timings


def test_an_answer_prepared_early_is_dropped_when_the_person_goes_on(config):
    runner, conv, early, out, worker = _hands_free_with_early_utterance(config)
    early.confirmation.decide(False)
    worker.join(5)
    assert out == [] and conv.reply_id == 0  # no reply began: nothing played, nothing to interrupt
    assert conv.state.turns == []


def test_the_mentors_own_voice_coming_back_is_ignored_with_a_notice(config):
    runner = TurnRunner(make_pipeline(config, stt=FakeSTT("take one small step tonight")))
    conv = Conversation(runner.pipeline, lambda: ScriptedDetector([(True, 1)], clip=SPEECH))
    reply = conv.begin_reply(threading.Event())
    conv.piece_sent(reply, "Take one small step tonight, then rest.", 3.0)
    conv.listen(16000, np.zeros(4000, np.float32))
    updates = list(runner.hands_free(conv))
    assert len(updates) == 1 and "mentor's own voice" in updates[0].notice and conv.state.turns == []


def test_an_unusable_utterance_is_a_notice_and_the_history_stays(config):
    runner = TurnRunner(make_pipeline(config, stt=FakeSTT("")))
    conv = Conversation(runner.pipeline, lambda: ScriptedDetector([(False, 1)], clip=SPEECH))
    conv.listen(16000, np.zeros(4000, np.float32))
    updates = list(runner.hands_free(conv))
    assert len(updates) == 1 and "could not use it" in updates[0].notice and updates[0].details is KEEP
    assert list(runner.hands_free(conv)) == []  # nothing more to answer
