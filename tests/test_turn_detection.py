"""Hands-free turn detection on synthesised speech with pauses (real Silero VAD)."""

import dataclasses

import numpy as np
import pytest
import soundfile as sf

from claritymentor.turn_detection import TurnDetector
from tests.conftest import espeak_wav

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


def feed_in_chunks(det, audio, chunk_s=0.1):
    turns = []
    step = int(chunk_s * 16000)
    for i in range(0, len(audio), step):
        turns += det.feed(audio[i:i + step])
    return turns


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
