"""Hands-free turn-taking: find where the person's turn ends in streamed microphone audio.

A ``TurnDetector`` belongs to one session. It has its own Silero model instance, because
Silero keeps its recurrent state on the model object and two sessions must never mix
their streams (loading one costs ~30 ms). Feed it 16 kHz mono chunks of any size; it
returns each utterance that has been followed by ``end_silence_ms`` of silence. A short
pause inside a sentence does not end the turn; bursts shorter than ``min_speech_ms`` are
not a turn. ``speaking`` tells whether the person is in the middle of a turn now (what
barge-in needs).

``feed_events`` also reports the pause *before* it is long enough to end the turn: after
``prepare_after_ms`` of silence an ``early`` event carries the utterance so far (the
answer can be prepared while the detector waits), and ``resumed`` says the person went
on speaking after such an event (the prepared answer is void; the utterance continues).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from claritymentor.config import TurnConfig
from claritymentor.constants import SAMPLE_RATE
from claritymentor.types import AudioClip

logger = logging.getLogger(__name__)

RATE = SAMPLE_RATE
WINDOW = 512  # samples per Silero decision at 16 kHz (32 ms)
MAX_TURN_S = 60.0  # a turn never grows past this; it is closed and handed on


@dataclass(frozen=True)
class DetectorEvent:
    """``early``: a pause of ``prepare_after_ms`` after enough speech; ``resumed``: speech
    again after an ``early``; ``ended``: the turn ended. ``ago_s``: audio fed after the
    speech in ``clip`` ended (the speech ended that long ago)."""

    kind: str
    clip: AudioClip | None = None
    ago_s: float = 0.0


class TurnDetector:
    """Per-session end-of-turn detection on streamed audio (see the module docstring)."""

    def __init__(self, model, cfg: TurnConfig):
        self._model = model
        self._cfg = cfg
        self.reset()

    @classmethod
    def load(cls, cfg: TurnConfig) -> "TurnDetector":
        from silero_vad import load_silero_vad

        return cls(load_silero_vad(onnx=True), cfg)

    def reset(self) -> None:
        """Forget the stream (new conversation, or after the mentor answered)."""
        self._model.reset_states()
        self._pending = np.zeros(0, np.float32)  # samples not yet in a full window
        self._audio: list[np.ndarray] = []  # the current turn, from its padded onset
        self._history: list[np.ndarray] = []  # recent silence, for the onset padding
        self._speech_windows = 0
        self._silence_windows = 0
        self._early = False  # an ``early`` event was sent for the current pause

    @property
    def speaking(self) -> bool:
        """True once a turn has at least ``min_speech_ms`` of speech and has not ended."""
        min_windows = max(1, self._cfg.min_speech_ms * RATE // 1000 // WINDOW)
        return bool(self._audio) and self._speech_windows >= min_windows

    def _prob(self, window: np.ndarray) -> float:
        import torch

        return float(self._model(torch.from_numpy(window), RATE).item())

    def feed(self, samples: np.ndarray) -> list[AudioClip]:
        """Add streamed samples; return the turns that ended in them (usually none or one;
        ``feed_events`` also says how long ago each one's speech ended)."""
        return [e.clip for e in self.feed_events(samples) if e.kind == "ended"]

    def feed_events(self, samples: np.ndarray) -> list[DetectorEvent]:
        """Add streamed samples; return what happened in them, in order (see the module notes)."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        buf = np.concatenate([self._pending, samples])
        n = len(buf) // WINDOW
        self._pending = buf[n * WINDOW:]
        events: list[DetectorEvent] = []
        end_windows = max(1, self._cfg.end_silence_ms * RATE // 1000 // WINDOW)
        early_windows = self._cfg.prepare_after_ms * RATE // 1000 // WINDOW
        min_windows = max(1, self._cfg.min_speech_ms * RATE // 1000 // WINDOW)
        pad_windows = self._cfg.speech_pad_ms * RATE // 1000 // WINDOW
        for i in range(n):
            window = buf[i * WINDOW:(i + 1) * WINDOW]
            voiced = self._prob(window) >= self._cfg.threshold
            if not self._audio:
                if voiced:  # onset: keep a little of the silence before it
                    self._audio = self._history[-pad_windows:] if pad_windows else []
                    self._audio.append(window)
                    self._speech_windows, self._silence_windows = 1, 0
                else:
                    self._history = (self._history + [window])[-max(pad_windows, 1):]
                continue
            self._audio.append(window)
            if voiced:
                self._speech_windows += 1
                self._silence_windows = 0
                if self._early:
                    events.append(DetectorEvent("resumed"))
                    self._early = False
            else:
                self._silence_windows += 1
            too_long = len(self._audio) * WINDOW >= MAX_TURN_S * RATE
            after = (self._silence_windows + n - i - 1) * WINDOW + len(self._pending)
            if self._silence_windows >= end_windows or too_long:
                if self._speech_windows >= min_windows:
                    keep = len(self._audio) - (0 if too_long else self._silence_windows)
                    if too_long:
                        after = (n - i - 1) * WINDOW + len(self._pending)
                    events.append(DetectorEvent("ended", AudioClip(np.concatenate(self._audio[:keep]), RATE),
                                                after / RATE))
                else:
                    logger.debug("ignored a %d ms burst", self._speech_windows * WINDOW * 1000 // RATE)
                self._audio, self._history = [], []
                self._speech_windows = self._silence_windows = 0
                self._early = False
            elif (0 < early_windows < end_windows and self._silence_windows == early_windows
                  and self._speech_windows >= min_windows):
                keep = len(self._audio) - self._silence_windows
                events.append(DetectorEvent("early", AudioClip(np.concatenate(self._audio[:keep]), RATE),
                                            after / RATE))
                self._early = True
        return events
