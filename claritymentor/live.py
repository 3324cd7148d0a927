"""Live conversation state for one browser session: hands-free listening, what the
browser is playing, and barge-in.

The streamed microphone goes through ``LiveSession.listen``: its turn detector (one per
session) returns the person's utterances, and when the person starts speaking
while the mentor is thinking or talking, the session *barges in*: the reply's stop flag
is set (the LLM and TTS stop), the browser is told to stop playing, and the part of the
reply that had not started playing yet is dropped. What had been said is kept as an
``Interruption`` for the turn handler to write into the history.

What the browser has played is modelled here, not reported by the browser: each reply
piece starts when it arrives or when the previous one ends (plus the player's gap),
whichever is later, and lasts its audio's duration. On one machine the arrival is within
a few tens of milliseconds of the send.

An utterance can be handed on *early*, after a short pause (``turn.prepare_after_ms``),
with an undecided ``Confirmation``: the answer is prepared while the detector waits for
the end-of-turn silence, which confirms it; if the person goes on speaking instead, it is
refused and the prepared answer is dropped (the longer utterance comes later).

Objects here are plain Python (no Gradio): a ``LiveRegistry`` maps Gradio's session hash
to its ``LiveSession`` and forgets it when the page is closed.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from claritymentor.audio import _to_float, _to_mono
from claritymentor.constants import PIECE_GAP_S, SAMPLE_RATE
from claritymentor.types import AudioClip

logger = logging.getLogger(__name__)

ECHO_OVERLAP = 0.6  # share of an utterance's words found in the reply that marks it as our own voice
ECHO_MIN_WORDS = 3
ECHO_WINDOW_S = 1.5  # an utterance that started this long after playback ended is never an echo


@dataclass(frozen=True)
class Interruption:
    """The person spoke over reply ``turn``: ``said`` is what had started playing."""

    turn: int
    said: str
    dropped_pieces: int
    record: int | None = None  # the history's turn index, once the reply was recorded


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
class ListenResult:
    utterances: tuple[Utterance, ...]
    barged_in: Interruption | None
    phase: str  # idle | listening | thinking | speaking


@dataclass
class _Piece:
    text: str
    start: float
    end: float


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


class LiveSession:
    """One browser session's live state (see the module docstring). Thread-safe: the
    microphone stream and the turn handler run in different worker threads."""

    def __init__(self, detector_factory: Callable[[], object] | None = None, sample_rate: int = SAMPLE_RATE,
                 clock: Callable[[], float] = time.perf_counter):
        self._detector_factory = detector_factory
        self._detector = None
        self._resampler = None
        self._rate_in: int | None = None
        self._rate = sample_rate
        self._clock = clock
        self._lock = threading.RLock()
        self.turn_id = 0  # increases with every reply; the player drops pieces of stopped turns
        self._stop: threading.Event | None = None
        self._running = False
        self._pieces: list[_Piece] = []
        self._interruption: Interruption | None = None
        self._records: dict[int, int] = {}  # reply id -> its turn index in the history
        self._on_cut: dict[int, Callable[[str], object]] = {}  # reply id -> called with what was said, if cut
        self._pending: deque[Utterance] = deque()
        self._early: Utterance | None = None  # handed on early, not decided yet
        self._was_speaking = False
        self.shown_status = ""  # the hands-free status line the page shows now

    # -- the reply side --------------------------------------------------------------
    def begin_turn(self, stop: threading.Event) -> int:
        """A reply starts; ``stop`` is the flag its pipeline watches. Returns its id."""
        with self._lock:
            if self._stop is not None:
                self._stop.set()  # never two replies talking at once
            self.turn_id += 1
            self._stop = stop
            self._running = True
            self._pieces = []
            return self.turn_id

    def piece_sent(self, turn_id: int, text: str, duration_s: float) -> bool:
        """A reply piece went to the browser. False (send nothing) when the turn was stopped."""
        with self._lock:
            if turn_id != self.turn_id or self._stop is None or self._stop.is_set():
                return False
            now = self._clock()
            start = max(now, self._pieces[-1].end + PIECE_GAP_S) if self._pieces else now
            self._pieces.append(_Piece(text, start, start + duration_s))
            return True

    def end_turn(self, turn_id: int, record: int,
                 on_cut: Callable[[str], object] | None = None) -> Interruption | None:
        """Reply ``turn_id`` finished generating and was recorded as history turn
        ``record``. Returns its interruption if the person already spoke over it (later
        ones come from ``take_interruption``, and call ``on_cut`` with what was said)."""
        with self._lock:
            self._records = {turn_id: record}  # only the latest reply can still be interrupted
            self._on_cut = {turn_id: on_cut} if on_cut is not None else {}
            if turn_id == self.turn_id:
                self._running = False
            return self.take_interruption()

    def take_interruption(self) -> Interruption | None:
        """An interruption of a recorded reply not yet written into the history (and
        forget it); None when there is none."""
        with self._lock:
            found = self._interruption
            if found is None or found.turn not in self._records:
                return None
            self._interruption = None
            return replace(found, record=self._records[found.turn])

    def phase(self) -> str:
        with self._lock:
            return self._phase(self._clock())

    def _phase(self, now: float) -> str:
        if self._stop is not None and not self._stop.is_set():  # a reply that was not stopped
            if self._running and not self._pieces:
                return "thinking"
            if self._pieces and (self._running or now < self._pieces[-1].end):
                return "speaking"
        return "listening" if self._was_speaking else "idle"

    def barge_in(self) -> Interruption | None:
        """The person started speaking: stop the reply if one is being thought of or
        played. Returns the interruption, or None when the mentor was quiet."""
        with self._lock:
            now = self._clock()
            if self._phase(now) not in ("thinking", "speaking"):
                return None
            said = [p for p in self._pieces if p.start <= now]
            self._stop.set()
            found = Interruption(self.turn_id, " ".join(p.text for p in said), len(self._pieces) - len(said))
            self._pieces = said
            if said:
                said[-1].end = min(said[-1].end, now)
            self._interruption = found
            logger.info("barge-in on reply %d: %d piece(s) said, %d dropped", found.turn, len(said),
                        found.dropped_pieces)
            on_cut = self._on_cut.pop(found.turn, None)
            if on_cut is not None:
                on_cut(found.said)
            return found

    def is_echo(self, text: str, started_at: float) -> bool:
        """Whether an utterance is most likely the mentor's own voice picked up by the
        microphone: it began while (or just after) a reply played and most of its words
        are the reply's."""
        with self._lock:
            if not self._pieces or started_at > self._pieces[-1].end + ECHO_WINDOW_S:
                return False
            reply = set(_words(" ".join(p.text for p in self._pieces)))
        words = _words(text)
        if len(words) < ECHO_MIN_WORDS:
            return False
        return sum(w in reply for w in words) / len(words) >= ECHO_OVERLAP

    # -- the microphone side ---------------------------------------------------------
    def listen(self, sample_rate: int, samples: np.ndarray) -> ListenResult:
        """Feed one streamed microphone chunk (any rate, int or float, mono or not)."""
        data = _mono_float(samples)
        with self._lock:
            if self._detector is None:
                if self._detector_factory is None:
                    raise RuntimeError("this session has no turn detector")
                self._detector = self._detector_factory()
            if sample_rate != self._rate_in:
                self._rate_in = sample_rate
                self._resampler = None
                if sample_rate != self._rate:
                    import soxr

                    self._resampler = soxr.ResampleStream(sample_rate, self._rate, 1, dtype="float32")
            if self._resampler is not None:
                data = self._resampler.resample_chunk(data)
            now = self._clock()
            utterances = []
            for event in self._detector.feed_events(data):
                if event.kind == "resumed":
                    self._decide_early(False)
                elif event.kind == "ended" and self._early is not None:
                    self._decide_early(True)  # already handed on: its answer is being prepared
                else:  # early, or ended without an early hand-on
                    u = Utterance(event.clip, now - event.ago_s,
                                  Confirmation(None if event.kind == "early" else True))
                    utterances.append(u)
                    if event.kind == "early":
                        self._early = u
            speaking = self._detector.speaking
            interruption = None
            if speaking and not self._was_speaking:
                interruption = self.barge_in()
            self._was_speaking = speaking
            self._pending.extend(utterances)
            return ListenResult(tuple(utterances), interruption, self._phase(now))

    def _decide_early(self, accepted: bool) -> None:
        if self._early is not None:
            self._early.confirmation.decide(accepted)
            logger.info("utterance handed on early %s", "confirmed" if accepted else "dropped: the person went on")
            self._early = None

    def next_utterance(self) -> Utterance | None:
        """The oldest utterance to answer (refused early ones are skipped)."""
        with self._lock:
            while self._pending:
                u = self._pending.popleft()
                if u.confirmation.accepted is not False:
                    return u
            return None

    def reset_listening(self) -> None:
        """Hands-free was switched off or on: forget half-heard speech."""
        with self._lock:
            if self._detector is not None:
                self._detector.reset()
            self._resampler, self._rate_in = None, None
            self._was_speaking = False
            self._decide_early(False)
            self._pending.clear()


def _mono_float(samples: np.ndarray) -> np.ndarray:
    """A streamed chunk as mono float32 (the upload path's conversions), NaNs zeroed."""
    data = _to_mono(_to_float(np.asarray(samples)))
    return np.nan_to_num(data.astype(np.float32, copy=False).reshape(-1))


class LiveRegistry:
    """Session hash -> LiveSession, created on first use, dropped when the page closes."""

    def __init__(self, detector_factory: Callable[[], object] | None, max_sessions: int = 256):
        self._factory = detector_factory
        self._sessions: dict[str, LiveSession] = {}
        self._lock = threading.Lock()
        self._max = max_sessions

    def get(self, key: str) -> LiveSession:
        with self._lock:
            live = self._sessions.get(key)
            if live is None:
                if len(self._sessions) >= self._max:  # oldest first: dicts keep insertion order
                    self._sessions.pop(next(iter(self._sessions)))
                live = self._sessions[key] = LiveSession(self._factory)
            return live

    def drop(self, key: str) -> None:
        with self._lock:
            self._sessions.pop(key, None)

    def __len__(self) -> int:
        return len(self._sessions)
