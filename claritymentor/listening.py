"""Hands-free listening: the microphone's streamed chunks through the session's turn
detector, out as utterances to answer.

An utterance can be handed on *early*, after a short pause (``turn.prepare_after_ms``),
with an undecided ``Confirmation``: the answer is prepared while the detector waits for
the end-of-turn silence, which confirms it; if the person goes on speaking instead, it is
refused and the prepared answer is dropped (the longer utterance comes later).

Not thread-safe on its own: ``Conversation`` calls it under its lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from claritymentor.audio import LiveAudio
from claritymentor.types import AudioClip

logger = logging.getLogger(__name__)


class Confirmation:
    """Whether an utterance handed on early really was the end of the person's turn."""

    def __init__(self, accepted: bool | None = None):
        self._event = threading.Event()
        self._accepted: bool | None = None
        self.decided_at: float | None = None  # time.perf_counter() of the decision
        if accepted is not None:
            self.decide(accepted)

    def decide(self, accepted: bool) -> None:
        if not self._event.is_set():
            self._accepted, self.decided_at = accepted, time.perf_counter()
            self._event.set()

    @property
    def accepted(self) -> bool | None:
        """True / False once decided; None while the detector still waits."""
        return self._accepted

    def wait(self, timeout: float) -> bool:
        """Block until decided; False only when refused (the microphone going quiet for
        ``timeout`` counts as the end of the turn)."""
        self._event.wait(timeout)
        return self._accepted is not False


@dataclass(frozen=True)
class Utterance:
    """A hands-free turn: the speech and when it ended (``time.perf_counter``)."""

    clip: AudioClip
    ended_at: float
    confirmation: Confirmation = field(default_factory=lambda: Confirmation(True), compare=False)


@dataclass(frozen=True)
class Listened:
    """What one microphone chunk brought: utterances handed on, and whether speech started."""

    utterances: tuple[Utterance, ...]
    speech_started: bool


class Listener:
    """One session's microphone: its own turn detector, built on first use."""

    def __init__(self, detector_factory: Callable[[], object] | None):
        self._factory = detector_factory
        self._detector = None
        self._audio = LiveAudio()
        self._pending: deque[Utterance] = deque()
        self._early: Utterance | None = None  # handed on early, not decided yet
        self.speaking = False

    def feed(self, sample_rate: int, samples: np.ndarray, now: float) -> Listened:
        """One streamed chunk (any rate, int or float, mono or not) at time ``now``."""
        if self._detector is None:
            if self._factory is None:
                raise RuntimeError("this session has no turn detector")
            self._detector = self._factory()
        utterances = []
        for event in self._detector.feed_events(self._audio.convert(sample_rate, samples)):
            if event.kind == "resumed":
                self._decide_early(False)
            elif event.kind == "ended" and self._early is not None:
                self._decide_early(True)  # already handed on: its answer is being prepared
            else:  # early, or ended without an early hand-on
                u = Utterance(event.clip, now - event.ago_s, Confirmation(None if event.kind == "early" else True))
                utterances.append(u)
                if event.kind == "early":
                    self._early = u
        started = self._detector.speaking and not self.speaking
        self.speaking = self._detector.speaking
        self._pending.extend(utterances)
        return Listened(tuple(utterances), started)

    def _decide_early(self, accepted: bool) -> None:
        if self._early is not None:
            self._early.confirmation.decide(accepted)
            logger.info("utterance handed on early %s", "confirmed" if accepted else "dropped: the person went on")
            self._early = None

    def next_utterance(self) -> Utterance | None:
        """The oldest utterance to answer (refused early ones are skipped)."""
        while self._pending:
            u = self._pending.popleft()
            if u.confirmation.accepted is not False:
                return u
        return None

    def reset(self) -> None:
        """Hands-free was switched off or on: forget half-heard speech."""
        if self._detector is not None:
            self._detector.reset()
        self._audio.reset()
        self.speaking = False
        self._decide_early(False)
        self._pending.clear()
