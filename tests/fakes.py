"""Scripted fakes for the stage protocols (no models), and the helpers tests share."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np

from claritymentor.config import EMOTIONS, FusionConfig
from claritymentor.devtools.app_process import running_app  # noqa: F401  (re-exported for conftest and the Space test)
from claritymentor.fusion import fuse
from claritymentor.types import (ProsodyReading, SpeechAudio, SpeechSegment, StageTimings, TextEmotion, Transcript,
                                 TurnResult)


ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"  # screenshots and figures the browser tests leave (not in git)


def scores(label: str, p: float) -> dict[str, float]:
    rest = (1.0 - p) / (len(EMOTIONS) - 1)
    return {e: (p if e == label else rest) for e in EMOTIONS}


def turn_result(text="hello", label="joy", voice=True) -> TurnResult:
    """A finished turn's result, as the pipeline would give it, for session and page tests."""
    prosody = ProsodyReading(0.4, None, 0.7, {"words_per_s": 3.0}) if voice else None
    e = fuse(TextEmotion(scores(label, 0.7), "t"), prosody, FusionConfig())
    return TurnResult("voice" if voice else "text", text, "reply to " + text, e, None, StageTimings(llm=0.5, total=0.6))


class FakeVAD:
    name = "fake"

    def __init__(self, segments=((0.1, 0.9),)):
        self._segments = [SpeechSegment(a, b) for a, b in segments]

    def segments(self, clip):
        return self._segments


class FakeSTT:
    name = "fake"

    def __init__(self, text="I feel nervous about tomorrow"):
        self.text = text
        self.calls = 0

    def transcribe(self, clip):
        self.calls += 1
        return Transcript(self.text, "en", clip.duration_s)


class FakeTextEmotion:
    name = "fake"

    def __init__(self, label="fear", p=0.7):
        self.label, self.p = label, p

    def classify(self, text):
        return TextEmotion(scores(self.label, self.p), "fake")


class FakeProsody:
    name = "fake"

    def __init__(self, arousal=0.5, confidence=0.8, fail=False):
        self.arousal, self.confidence, self.fail = arousal, confidence, fail

    def read(self, speech, word_count, speech_s):
        if self.fail:
            raise RuntimeError("pitch tracker exploded")
        return ProsodyReading(self.arousal, None, self.confidence, {"words": word_count})


class FakeLLM:
    name = "fake-llm"
    adapter = None
    base_id = "fake"

    def __init__(self, reply="Take one small step tonight. What would that be?"):
        self.reply = reply
        self.seen: list[list[dict]] = []
        self.prefilled: list[list[dict]] = []
        self.prepared: list[list[dict]] = []

    def generate(self, messages, use_adapter=True, max_new_tokens=None):
        self.seen.append(messages)
        return self.reply

    def stream(self, messages, use_adapter=True, stop=None):
        """The reply in 4-character deltas, stopping when ``stop`` is set."""
        self.seen.append(messages)
        self.stop = stop
        for i in range(0, len(self.reply), 4):
            if stop is not None and stop.is_set():
                return
            yield self.reply[i:i + 4]

    def prefill(self, messages, use_adapter=True):
        self.prefilled.append(messages)
        return len(messages)

    def prepare(self, prefixes, use_adapter=True):
        self.prepared.extend(prefixes)


class FakeTTS:
    name = "fake-tts"

    def __init__(self, fail=False):
        self.fail = fail
        self.styles = []

    def synthesize(self, text, style):
        if self.fail:
            raise OSError("audio device on fire")
        self.styles.append(style)
        return SpeechAudio(np.zeros(2205, np.int16), 22050)


def make_pipeline(config, **stages):
    """A Pipeline of fakes; any stage can be given instead."""
    from claritymentor.pipeline import Pipeline

    parts = dict(vad=FakeVAD(), stt=FakeSTT(), text_emotion=FakeTextEmotion(), prosody=FakeProsody(),
                 llm=FakeLLM(), tts=FakeTTS())
    parts.update(stages)
    return Pipeline(cfg=config, **parts)


class Clock:
    """A clock the test moves by hand (``Conversation(clock=...)``)."""

    def __init__(self, t: float = 100.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


class ScriptedDetector:
    """A turn detector that returns scripted (speaking, events) per fed chunk: a number of
    ended turns, or the kinds of detector events in order. Its utterances hold ``clip``."""

    def __init__(self, script, clip=None):
        from claritymentor.types import AudioClip

        self.script = list(script)
        self.speaking = False
        self.fed = []
        self.clip = clip if clip is not None else AudioClip(np.zeros(16000, np.float32), 16000)

    def feed_events(self, samples):
        from claritymentor.turn_detection import DetectorEvent

        self.fed.append(samples)
        self.speaking, kinds = self.script.pop(0)
        if isinstance(kinds, int):
            kinds = ["ended"] * kinds
        return [DetectorEvent(k, None if k == "resumed" else self.clip, {"early": 0.3, "ended": 0.6}.get(k, 0.0))
                for k in kinds]

    def reset(self):
        self.speaking = False


def config_copy(folder):
    """A copy of the shipped config files in ``folder``, for a test to edit."""
    import shutil

    from claritymentor.config import DEFAULT_CONFIG_DIR

    for f in ("voice_config.yaml", "emotion_prompts.yaml", "safety.yaml"):
        shutil.copy(DEFAULT_CONFIG_DIR / f, folder / f)
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

