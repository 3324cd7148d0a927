"""One browser's conversation: the reply's phases and playback model, barge-in (what the
history keeps, and when), the echo guard, the microphone path with a scripted turn
detector, and the background prefill after each change of the history."""

import threading
from dataclasses import replace

import numpy as np
import pytest

from claritymentor.conversation import Conversation
from claritymentor.session import SessionState, add_turn, chat_messages, mark_interrupted
from tests.fakes import Clock, FakeLLM, ScriptedDetector, make_pipeline
from tests.fakes import turn_result as result


@pytest.fixture()
def clock():
    return Clock()


def speaking(conv, durations=(1.0, 2.0, 1.5)):
    """Reply pieces sent at the clock's time (they play back to back)."""
    stop = threading.Event()
    reply = conv.begin_reply(stop)
    for i, d in enumerate(durations):
        assert conv.piece_sent(reply, f"Piece {i}.", d)
    return reply, stop


def finish(conv, reply, text="I am stressed", said="Piece 0. Piece 1. Piece 2."):
    return conv.finish_reply(reply, replace(result(text), reply_text=said), "m", True)


def test_phases_follow_the_reply_and_its_playback(clock):
    conv = Conversation(clock=clock)
    assert conv.phase() == "idle"
    stop = threading.Event()
    reply = conv.begin_reply(stop)
    assert conv.phase() == "thinking"
    conv.piece_sent(reply, "Hello there.", 1.0)
    assert conv.phase() == "speaking"
    finish(conv, reply, said="Hello there.")
    clock.t += 0.9
    assert conv.phase() == "speaking"  # written, and the browser is still playing it
    clock.t += 0.2
    assert conv.phase() == "idle"
    assert conv.barge_in() is None and not stop.is_set()  # speaking after the reply: no barge-in


def test_a_cut_while_writing_is_what_the_history_records(clock):
    conv = Conversation(clock=clock)
    reply, stop = speaking(conv)
    # piece 0 plays 100.0-101.0, piece 1 101.12-103.12, piece 2 from 103.24
    clock.t = 101.5
    cut = conv.barge_in()
    assert cut.said == "Piece 0. Piece 1." and cut.dropped_pieces == 1 and cut.reply_id == reply
    assert stop.is_set() and not conv.piece_sent(reply, "Piece 3.", 1.0)  # nothing more goes to the browser
    assert conv.barge_in() is None  # already stopped
    state = finish(conv, reply)  # the pipeline finishes after the cut
    assert state.turns[0].reply_text == "Piece 0. Piece 1." and state.turns[0].interrupted


def test_a_cut_after_the_reply_was_recorded_rewrites_the_history_at_once(clock):
    conv = Conversation(clock=clock)
    reply, _ = speaking(conv)
    finish(conv, reply)
    assert not conv.state.turns[0].interrupted
    clock.t = 100.5  # during the first piece
    cut = conv.barge_in()
    assert (cut.said, cut.dropped_pieces) == ("Piece 0.", 2)
    assert conv.state.turns[0].reply_text == "Piece 0." and conv.state.turns[0].interrupted
    assert conv.state.history_pairs() == [("I am stressed", "Piece 0.")]


def test_barge_in_while_thinking_records_nothing_said(clock):
    conv = Conversation(clock=clock)
    stop = threading.Event()
    reply = conv.begin_reply(stop)
    cut = conv.barge_in()
    assert cut.said == "" and cut.dropped_pieces == 0 and stop.is_set()
    assert finish(conv, reply).turns[0].reply_text == ""


def test_a_new_reply_stops_the_previous_one(clock):
    conv = Conversation(clock=clock)
    reply, stop = speaking(conv)
    second = conv.begin_reply(threading.Event())
    assert stop.is_set() and second == reply + 1
    assert not conv.piece_sent(reply, "late piece of the old reply", 1.0)


def test_echo_of_the_reply_is_recognised(clock):
    conv = Conversation(clock=clock)
    reply = conv.begin_reply(threading.Event())
    conv.piece_sent(reply, "Take one small step tonight, then rest.", 3.0)
    assert conv.is_echo("take one small step tonight", started_at=101.0)
    assert not conv.is_echo("I don't want to rest tonight at all", started_at=101.0)
    assert not conv.is_echo("step tonight", started_at=101.0)  # too short to judge
    assert not conv.is_echo("take one small step tonight", started_at=110.0)  # long after playback


def test_clear_stops_the_reply_and_empties_the_history(clock):
    conv = Conversation(clock=clock)
    reply, stop = speaking(conv)
    finish(conv, reply)
    assert conv.clear().reply_id == reply and stop.is_set()
    assert conv.state.turns == []


def test_a_reply_finishing_after_a_clear_stays_out_of_the_new_conversation(clock):
    conv = Conversation(clock=clock)
    reply, _ = speaking(conv)
    conv.clear()  # pressed while the reply was still being written
    assert finish(conv, reply).turns == [] and conv.state.turns == []
    nxt, _ = speaking(conv)
    assert len(finish(conv, nxt).turns) == 1


def test_interrupted_turn_in_history_and_chat():
    state = add_turn(SessionState(), replace(result("I am stressed"), reply_text="Breathe. Then list tasks."), "m")
    cut = mark_interrupted(state, 1, "Breathe.")
    assert state.turns[0].reply_text == "Breathe. Then list tasks."  # the old state is untouched
    assert not state.turns[0].interrupted
    assert cut.turns[0].reply_text == "Breathe." and cut.turns[0].interrupted
    assert cut.history_pairs() == [("I am stressed", "Breathe.")]
    assert "interrupted" in chat_messages(cut)[1]["content"]
    assert mark_interrupted(state, 9, "x") is state  # an unknown turn changes nothing


def test_listen_barges_in_when_speech_starts_and_queues_the_utterance(clock):
    det = ScriptedDetector([(False, 0), (True, 0), (True, 0), (False, 1)])
    conv = Conversation(detector_factory=lambda: det, clock=clock)
    chunk = (np.ones((12000, 2), np.int16) * 1000)  # 48 kHz stereo int16, as a browser sends
    reply, stop = speaking(conv, (5.0,))
    r = conv.listen(48000, chunk)
    assert r.cut is None and r.phase == "speaking" and r.phase_changed
    clock.t += 0.25
    r = conv.listen(48000, chunk)
    assert r.cut.said == "Piece 0." and stop.is_set() and not r.history_changed  # still being written
    assert r.phase == "listening" and r.phase_changed
    r = conv.listen(48000, chunk)
    assert r.cut is None and not r.phase_changed  # one barge-in per onset; nothing new to show
    clock.t += 1.0
    r = conv.listen(48000, chunk)
    assert len(r.utterances) == 1 and r.utterances[0].ended_at == pytest.approx(clock.t - 0.6)
    assert conv.next_utterance() is r.utterances[0] and conv.next_utterance() is None
    assert all(f.dtype == np.float32 and f.ndim == 1 and len(f) < 12000 for f in det.fed)  # mono, resampled


def test_listen_reports_a_history_change_when_it_cuts_a_recorded_reply(clock):
    conv = Conversation(detector_factory=lambda: ScriptedDetector([(True, 0)]), clock=clock)
    reply, _ = speaking(conv)
    finish(conv, reply)
    clock.t = 100.5
    r = conv.listen(16000, np.zeros(4000, np.float32))
    assert r.history_changed and conv.state.turns[0].reply_text == "Piece 0."


def test_nan_chunks_reach_the_detector_as_silence(clock):
    det = ScriptedDetector([(False, 0)])
    conv = Conversation(detector_factory=lambda: det, clock=clock)
    conv.listen(16000, np.full(4000, np.nan, np.float32))
    assert np.all(det.fed[0] == 0)


def test_an_early_utterance_is_confirmed_by_the_end_of_the_turn(clock):
    conv = Conversation(detector_factory=lambda: ScriptedDetector([(True, ["early"]), (True, ["ended"])]),
                        clock=clock)
    chunk = np.zeros(4000, np.float32)
    r = conv.listen(16000, chunk)
    assert len(r.utterances) == 1 and r.utterances[0].ended_at == pytest.approx(clock.t - 0.3)
    early = conv.next_utterance()
    assert early is r.utterances[0] and early.confirmation.accepted is None
    clock.t += 0.3
    r = conv.listen(16000, chunk)
    assert r.utterances == () and early.confirmation.accepted is True  # not handed on twice
    assert early.confirmation.wait(0) and conv.next_utterance() is None


def test_an_early_utterance_is_dropped_when_the_person_goes_on(clock):
    det = ScriptedDetector([(True, ["early"]), (True, ["resumed"]), (True, ["early"]), (True, ["ended"])])
    conv = Conversation(detector_factory=lambda: det, clock=clock)
    chunk = np.zeros(4000, np.float32)
    first = conv.listen(16000, chunk).utterances[0]
    conv.listen(16000, chunk)
    assert first.confirmation.accepted is False and not first.confirmation.wait(0)
    second = conv.listen(16000, chunk).utterances[0]
    assert conv.next_utterance() is second  # the refused one is skipped
    conv.listen(16000, chunk)
    assert second.confirmation.accepted is True


def test_switching_hands_free_off_refuses_a_pending_early_utterance(clock):
    conv = Conversation(detector_factory=lambda: ScriptedDetector([(True, ["early"])]), clock=clock)
    early = conv.listen(16000, np.zeros(4000, np.float32)).utterances[0]
    conv.set_listening(False)
    assert early.confirmation.accepted is False and conv.next_utterance() is None


def test_each_recorded_reply_prefills_the_next_prompt(config, clock):
    """After a reply, the next prompt's start (persona + history with this exchange) goes to
    the LLM in the background; after a cut, only what was said of the reply."""
    llm = FakeLLM()
    conv = Conversation(make_pipeline(config, llm=llm), clock=clock)
    reply, _ = speaking(conv)
    finish(conv, reply)
    conv.prefilling.join(5)
    persona = {"role": "system", "content": config.prompts.persona}
    assert llm.prefilled[-1] == [persona, {"role": "user", "content": "I am stressed"},
                                 {"role": "assistant", "content": "Piece 0. Piece 1. Piece 2."}]
    clock.t = 100.5
    conv.barge_in()
    conv.prefilling.join(5)
    assert llm.prefilled[-1][-1] == {"role": "assistant", "content": "Piece 0."} and len(llm.prefilled) == 2


def test_prefill_can_be_switched_off(config, clock):
    cfg = replace(config, llm=replace(config.llm, prefill_next_turn=False))
    llm = FakeLLM()
    conv = Conversation(make_pipeline(cfg, llm=llm), clock=clock)
    reply, _ = speaking(conv)
    finish(conv, reply)
    assert conv.prefilling is None and not llm.prefilled


def test_a_conversation_is_shared_not_copied():
    """Gradio deep-copies a State's value; a live conversation must stay one object."""
    import copy

    conv = Conversation()
    assert copy.deepcopy(conv) is conv
