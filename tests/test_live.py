"""Live (hands-free) session state: the playback model, barge-in transitions, the echo
guard, and the microphone path with a scripted turn detector."""

import threading
from dataclasses import replace

import numpy as np
import pytest

from claritymentor.live import LiveRegistry, LiveSession
from claritymentor.session import SessionState, add_turn, chat_messages, mark_interrupted
from claritymentor.turn_detection import DetectorEvent
from claritymentor.types import AudioClip
from tests.test_session import result


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


@pytest.fixture()
def clock():
    return Clock()


def speaking_session(clock, durations=(1.0, 2.0, 1.5)):
    """A session whose reply 1 sent its pieces at t=100 (they play back to back)."""
    live = LiveSession(clock=clock)
    stop = threading.Event()
    turn = live.begin_turn(stop)
    for i, d in enumerate(durations):
        assert live.piece_sent(turn, f"Piece {i}.", d)
    return live, turn, stop


def test_phases_follow_the_reply_and_its_playback(clock):
    live = LiveSession(clock=clock)
    assert live.phase() == "idle"
    stop = threading.Event()
    turn = live.begin_turn(stop)
    assert live.phase() == "thinking"
    live.piece_sent(turn, "Hello there.", 1.0)
    assert live.phase() == "speaking"
    assert live.end_turn(turn, record=1) is None
    clock.t += 0.9
    assert live.phase() == "speaking"  # generation is over, the browser is still playing
    clock.t += 0.2
    assert live.phase() == "idle"
    assert live.barge_in() is None and not stop.is_set()  # speaking after the reply: no barge-in


def test_barge_in_keeps_what_started_playing_and_drops_the_rest(clock):
    live, turn, stop = speaking_session(clock)
    # piece 0 plays 100.0-101.0, piece 1 101.12-103.12, piece 2 from 103.24
    clock.t = 101.5
    found = live.barge_in()
    assert found.said == "Piece 0. Piece 1." and found.dropped_pieces == 1 and found.turn == turn
    assert stop.is_set()
    assert not live.piece_sent(turn, "Piece 3.", 1.0)  # nothing more goes to the browser
    assert live.barge_in() is None  # the reply is already stopped
    # generation ends after the barge-in: the interruption comes back with the record
    got = live.end_turn(turn, record=4)
    assert got.record == 4 and got.said == "Piece 0. Piece 1."
    assert live.take_interruption() is None


def test_barge_in_after_generation_is_taken_by_the_next_turn(clock):
    live, turn, stop = speaking_session(clock)
    assert live.end_turn(turn, record=2) is None
    clock.t = 100.5  # during the first piece
    live.barge_in()
    got = live.take_interruption()
    assert (got.record, got.said, got.dropped_pieces) == (2, "Piece 0.", 2)


def test_cutting_a_recorded_reply_reports_what_was_said_once(clock):
    live, turn, stop = speaking_session(clock)
    cuts = []
    assert live.end_turn(turn, record=2, on_cut=cuts.append) is None
    clock.t = 101.5
    live.barge_in()
    assert cuts == ["Piece 0. Piece 1."]
    live.begin_turn(threading.Event())  # the next reply: its own hook, none yet
    live.barge_in()
    assert cuts == ["Piece 0. Piece 1."]


def test_barge_in_while_thinking_says_nothing(clock):
    live = LiveSession(clock=clock)
    stop = threading.Event()
    turn = live.begin_turn(stop)
    found = live.barge_in()
    assert found.said == "" and found.dropped_pieces == 0 and stop.is_set()
    assert live.end_turn(turn, record=1).record == 1


def test_a_new_reply_stops_the_previous_one(clock):
    live, turn, stop = speaking_session(clock)
    second = live.begin_turn(threading.Event())
    assert stop.is_set() and second == turn + 1
    assert not live.piece_sent(turn, "late piece of the old reply", 1.0)


def test_echo_of_the_reply_is_recognised(clock):
    live = LiveSession(clock=clock)
    turn = live.begin_turn(threading.Event())
    live.piece_sent(turn, "Take one small step tonight, then rest.", 3.0)
    assert live.is_echo("take one small step tonight", started_at=101.0)
    assert not live.is_echo("I don't want to rest tonight at all", started_at=101.0)
    assert not live.is_echo("step tonight", started_at=101.0)  # too short to judge
    assert not live.is_echo("take one small step tonight", started_at=110.0)  # long after playback


def test_interrupted_turn_in_history_and_chat():
    state = add_turn(SessionState(), replace(result("I am stressed"), reply_text="Breathe. Then list tasks."), "m")
    cut = mark_interrupted(state, 1, "Breathe.")
    assert state.turns[0].reply_text == "Breathe. Then list tasks."  # the old state is untouched
    assert not state.turns[0].interrupted
    assert cut.turns[0].reply_text == "Breathe." and cut.turns[0].interrupted
    assert cut.history_pairs() == [("I am stressed", "Breathe.")]
    assert "interrupted" in chat_messages(cut)[1]["content"]
    assert mark_interrupted(state, 9, "x") is state  # an unknown turn changes nothing


class ScriptedDetector:
    """Returns scripted (speaking, events) per fed chunk: a number of ended turns, or the
    kinds of detector events in order."""

    def __init__(self, script):
        self.script = list(script)
        self.speaking = False
        self.fed = []

    def feed_events(self, samples):
        self.fed.append(samples)
        self.speaking, kinds = self.script.pop(0)
        if isinstance(kinds, int):
            kinds = ["ended"] * kinds
        clip = AudioClip(np.zeros(16000, np.float32), 16000)
        return [DetectorEvent(k, None if k == "resumed" else clip, {"early": 0.3, "ended": 0.6}.get(k, 0.0))
                for k in kinds]

    def reset(self):
        self.speaking = False


def test_listen_barges_in_when_speech_starts_and_queues_the_utterance(clock):
    det = ScriptedDetector([(False, 0), (True, 0), (True, 0), (False, 1)])
    live = LiveSession(detector_factory=lambda: det, clock=clock)
    chunk = (np.ones((12000, 2), np.int16) * 1000)  # 48 kHz stereo int16, as a browser sends
    turn = live.begin_turn(stop := threading.Event())
    live.piece_sent(turn, "A reply that is playing.", 5.0)
    assert live.listen(48000, chunk).barged_in is None
    clock.t += 0.25
    r = live.listen(48000, chunk)
    assert r.barged_in is not None and r.barged_in.said == "A reply that is playing." and stop.is_set()
    assert live.listen(48000, chunk).barged_in is None  # one barge-in per onset
    clock.t += 1.0
    r = live.listen(48000, chunk)
    assert len(r.utterances) == 1 and r.utterances[0].ended_at == pytest.approx(clock.t - 0.6)
    assert live.next_utterance() is r.utterances[0] and live.next_utterance() is None
    assert all(f.dtype == np.float32 and f.ndim == 1 and len(f) < 12000 for f in det.fed)  # mono, resampled


def test_an_early_utterance_is_confirmed_by_the_end_of_the_turn(clock):
    det = ScriptedDetector([(True, ["early"]), (True, ["ended"])])
    live = LiveSession(detector_factory=lambda: det, clock=clock)
    chunk = np.zeros(4000, np.float32)
    r = live.listen(16000, chunk)
    assert len(r.utterances) == 1 and r.utterances[0].ended_at == pytest.approx(clock.t - 0.3)
    early = live.next_utterance()
    assert early is r.utterances[0] and early.confirmation.accepted is None
    clock.t += 0.3
    r = live.listen(16000, chunk)
    assert r.utterances == () and early.confirmation.accepted is True  # not handed on twice
    assert early.confirmation.wait(0) and live.next_utterance() is None


def test_an_early_utterance_is_dropped_when_the_person_goes_on(clock):
    det = ScriptedDetector([(True, ["early"]), (True, ["resumed"]), (True, ["early"]), (True, ["ended"])])
    live = LiveSession(detector_factory=lambda: det, clock=clock)
    chunk = np.zeros(4000, np.float32)
    first = live.listen(16000, chunk).utterances[0]
    live.listen(16000, chunk)
    assert first.confirmation.accepted is False and not first.confirmation.wait(0)
    second = live.listen(16000, chunk).utterances[0]
    assert live.next_utterance() is second  # the refused one is skipped
    live.listen(16000, chunk)
    assert second.confirmation.accepted is True


def test_switching_hands_free_off_refuses_a_pending_early_utterance(clock):
    live = LiveSession(detector_factory=lambda: ScriptedDetector([(True, ["early"])]), clock=clock)
    early = live.listen(16000, np.zeros(4000, np.float32)).utterances[0]
    live.reset_listening()
    assert early.confirmation.accepted is False and live.next_utterance() is None


def test_registry_gives_each_session_its_own_state():
    reg = LiveRegistry(None, max_sessions=2)
    a, b = reg.get("a"), reg.get("b")
    assert a is reg.get("a") and a is not b
    reg.get("c")  # over capacity: the oldest goes
    assert len(reg) == 2 and reg.get("a") is not a
    reg.drop("c")
    assert len(reg) == 1  # only the re-created "a" remains
