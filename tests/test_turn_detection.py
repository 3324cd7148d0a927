"""Hands-free turn detection on synthesised speech with pauses (real Silero VAD)."""

import dataclasses

import numpy as np
import pytest
import soundfile as sf

from claritymentor.turn_detection import TurnDetector
from claritymentor.devtools.speech import espeak_wav

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def phrases(speech_dir):
    out = {}
    for name, text in [("a", "I have been thinking about my exams"), ("b", "and I really need some help"),
                       ("c", "Can you help me plan tonight?")]:
        data, _ = sf.read(espeak_wav(speech_dir / f"turn-{name}.wav", text, pad_s=0.0), dtype="float32")
        loud = np.flatnonzero(np.abs(data) > 0.02)  # trim espeak's own leading/trailing silence,
        out[name] = data[loud[0]:loud[-1] + 1]  # so the pauses below are exactly as long as stated
    return out


def silence(seconds):
    return np.zeros(int(seconds * 16000), np.float32)


def events_in_chunks(det, audio, chunk_s=0.1):
    out = []
    step = int(chunk_s * 16000)
    for i in range(0, len(audio), step):
        out += det.feed_events(audio[i:i + step])
    return out


def feed_in_chunks(det, audio, chunk_s=0.1):
    return [e.clip for e in events_in_chunks(det, audio, chunk_s) if e.kind == "ended"]


def test_a_300_ms_pause_mid_sentence_does_not_end_the_turn(config, phrases):
    det = TurnDetector.load(config.turn)
    audio = np.concatenate([silence(0.5), phrases["a"], silence(0.3), phrases["b"], silence(1.0)])
    turns = feed_in_chunks(det, audio)
    assert len(turns) == 1
    expected = (len(phrases["a"]) + len(phrases["b"])) / 16000 + 0.3
    assert abs(turns[0].duration_s - expected) < 0.5


def test_one_second_of_silence_ends_the_turn(config, phrases):
    det = TurnDetector.load(config.turn)
    audio = np.concatenate([silence(0.5), phrases["a"], silence(1.0), phrases["c"], silence(1.0)])
    turns = feed_in_chunks(det, audio)
    assert len(turns) == 2
    assert turns[0].duration_s < len(phrases["a"]) / 16000 + 0.5


def test_no_turn_until_the_silence_is_long_enough(config, phrases):
    det = TurnDetector.load(config.turn)
    assert feed_in_chunks(det, np.concatenate([silence(0.3), phrases["c"], silence(0.3)])) == []
    assert det.speaking  # still inside the turn: what barge-in needs
    assert len(feed_in_chunks(det, silence(0.6))) == 1 and not det.speaking


def test_a_click_is_not_a_turn(config):
    det = TurnDetector.load(dataclasses.replace(config.turn, min_speech_ms=300))
    click = np.zeros(1600, np.float32)
    click[:800] = np.random.default_rng(0).normal(0, 0.5, 800)
    assert feed_in_chunks(det, np.concatenate([silence(0.5), click, silence(1.5)])) == []


def test_sessions_do_not_share_state(config, phrases):
    """Two detectors fed interleaved chunks find the same turns as each would alone."""
    one, two = TurnDetector.load(config.turn), TurnDetector.load(config.turn)
    a = np.concatenate([silence(0.5), phrases["a"], silence(1.0)])
    b = np.concatenate([silence(1.0), phrases["c"], silence(1.0)])
    step = 1600
    turns_one, turns_two = [], []
    for i in range(0, max(len(a), len(b)), step):
        turns_one += one.feed(a[i:i + step])
        turns_two += two.feed(b[i:i + step])
    assert len(turns_one) == 1 and len(turns_two) == 1
    alone = feed_in_chunks(TurnDetector.load(config.turn), a, chunk_s=step / 16000)
    assert np.array_equal(alone[0].samples, turns_one[0].samples)


def test_a_pause_is_handed_on_early_and_void_when_speech_goes_on(config, phrases):
    """A 450 ms pause (over prepare_after_ms 300, under end_silence_ms 600): ``early`` with the
    first phrase, then ``resumed``; after the final silence ``early`` again with both phrases,
    then ``ended`` with the same speech."""
    det = TurnDetector.load(dataclasses.replace(config.turn, prepare_after_ms=300))
    audio = np.concatenate([silence(0.5), phrases["a"], silence(0.45), phrases["b"], silence(1.0)])
    events = events_in_chunks(det, audio)
    assert [e.kind for e in events] == ["early", "resumed", "early", "ended"]
    first, _, second, ended = events
    assert abs(first.clip.duration_s - len(phrases["a"]) / 16000) < 0.4
    assert second.clip.duration_s > first.clip.duration_s + len(phrases["b"]) / 16000 - 0.2
    assert np.array_equal(second.clip.samples, ended.clip.samples)  # the same speech: its answer stands
    assert 0.28 <= second.ago_s < 0.45 and 0.57 <= ended.ago_s < 0.75  # 32 ms Silero windows


def test_early_hand_on_can_be_switched_off(config, phrases):
    det = TurnDetector.load(dataclasses.replace(config.turn, prepare_after_ms=0))
    audio = np.concatenate([silence(0.5), phrases["a"], silence(0.45), phrases["b"], silence(1.0)])
    assert [e.kind for e in events_in_chunks(det, audio)] == ["ended"]
