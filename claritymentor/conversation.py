"""One browser's conversation: everything about it in one object, safe to use from the
page's concurrent handlers (the microphone stream and the turn).

It owns the history (a ``SessionState``, replaced on each change, never mutated), what
the browser is playing (``Playback``), the hands-free microphone (``Listener``) and the
background prefill of the next turn's prompt. A reply's life: ``begin_reply`` →
``piece_sent`` per piece → ``finish_reply`` records it. ``barge_in`` (the person speaks
over the reply) stops it; what had started playing is what the history keeps, written
at once if the reply was already recorded, or when it is. Each change of the history
prefills the next turn's persona + history in the background, from here only.

Gradio keeps one per browser in ``gr.State``; ``__deepcopy__`` returns the object itself,
since Gradio deep-copies a State's initial value and a live conversation (locks, a turn
detector, a thread) is shared, not copied.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from claritymentor.listening import Listener, Utterance
from claritymentor.pipeline import Pipeline
from claritymentor.playback import Cut, Playback
from claritymentor.session import SessionState, add_turn, mark_interrupted
from claritymentor.types import TurnResult


@dataclass(frozen=True)
class ListenResult:
    """What one microphone chunk changed."""

    utterances: tuple[Utterance, ...]  # handed on to be answered (``next_utterance``)
    cut: Cut | None  # the reply the person just spoke over
    history_changed: bool  # the cut shortened a recorded reply: the chat should show it
    phase: str  # idle | listening | thinking | speaking
    phase_changed: bool  # since the last chunk (the page is sent only changes)


class Conversation:
    def __init__(self, pipeline: Pipeline | None = None, detector_factory: Callable[[], object] | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        self._pipeline = pipeline  # for the background prefill; None: no prefill
        self._clock = clock
        self._lock = threading.RLock()
        self._state = SessionState()
        self._playback = Playback()
        self._listener = Listener(detector_factory)
        self._cut_while_writing: Cut | None = None
        self._recorded: tuple[int, int, bool] | None = None  # (reply id, turn index, adapter) still playing
        self._shown_phase: str | None = None
        self._cleared_through = 0  # replies up to this id belong to a conversation that was cleared
        self.prefilling: threading.Thread | None = None  # the latest background prefill

    def __deepcopy__(self, memo) -> "Conversation":
        return self

    @property
    def state(self) -> SessionState:
        """The history now (a snapshot: it is replaced, never changed)."""
        with self._lock:
            return self._state

    @property
    def reply_id(self) -> int:
        return self._playback.reply_id

    # -- the mentor's reply --------------------------------------------------------------
    def begin_reply(self, stop: threading.Event) -> int:
        """A reply starts (any earlier one stops); ``stop`` is the flag its pipeline watches."""
        with self._lock:
            self._cut_while_writing, self._recorded = None, None
            return self._playback.begin(stop)

    def piece_sent(self, reply_id: int, text: str, duration_s: float) -> bool:
        """A piece of the reply goes to the page; False (send nothing) once it was stopped."""
        with self._lock:
            return self._playback.sent(reply_id, text, duration_s, self._clock())

    def finish_reply(self, reply_id: int, result: TurnResult, model: str, use_adapter: bool) -> SessionState:
        """Record the finished turn (only what was played, if it was spoken over meanwhile)
        and prefill the next turn's prompt."""
        with self._lock:
            self._playback.written(reply_id)
            if reply_id <= self._cleared_through:  # "New conversation" was pressed meanwhile
                return self._state
            new = add_turn(self._state, result, model)
            index = new.turns[-1].index
            cut, self._cut_while_writing = self._cut_while_writing, None
            if cut is not None and cut.reply_id == reply_id:
                new = mark_interrupted(new, index, cut.said)
            else:
                self._recorded = (reply_id, index, use_adapter)
            self._state = new
            self._prefill(use_adapter)
            return new

    def barge_in(self) -> Cut | None:
        """The person spoke: stop the reply being written or played (None if there was none)."""
        cut, _ = self._barge_in()
        return cut

    def _barge_in(self) -> tuple[Cut | None, bool]:
        with self._lock:
            cut = self._playback.cut(self._clock())
            if cut is None:
                return None, False
            if self._recorded is not None and self._recorded[0] == cut.reply_id:
                _, index, use_adapter = self._recorded
                self._recorded = None
                self._state = mark_interrupted(self._state, index, cut.said)
                self._prefill(use_adapter)
                return cut, True
            self._cut_while_writing = cut
            return cut, False

    def clear(self) -> Cut | None:
        """A new conversation: the reply stops, the history empties."""
        with self._lock:
            cut = self._playback.cut(self._clock())
            self._cut_while_writing, self._recorded = None, None
            self._cleared_through = self._playback.reply_id
            self._state = SessionState()
            return cut

    def close(self) -> None:
        """The page is gone: stop any reply and forget half-heard speech."""
        with self._lock:
            self._playback.stop()
            self._listener.reset()

    def is_echo(self, text: str, started_at: float) -> bool:
        """Whether an utterance is most likely the mentor's own voice (see ``Playback.is_echo``)."""
        with self._lock:
            return self._playback.is_echo(text, started_at)

    def _prefill(self, use_adapter: bool) -> None:
        if self._pipeline is not None:
            self.prefilling = self._pipeline.prefill_conversation(self._state.history_pairs(), use_adapter)

    # -- hands-free listening ------------------------------------------------------------
    def listen(self, sample_rate: int, samples: np.ndarray) -> ListenResult:
        """One streamed microphone chunk: the person starting to speak barges in."""
        with self._lock:
            heard = self._listener.feed(sample_rate, samples, self._clock())
            cut, changed = self._barge_in() if heard.speech_started else (None, False)
            phase = self.phase()
            phase_changed, self._shown_phase = phase != self._shown_phase, phase
            return ListenResult(heard.utterances, cut, changed, phase, phase_changed)

    def phase(self) -> str:
        with self._lock:
            return self._playback.phase(self._clock()) or ("listening" if self._listener.speaking else "idle")

    def next_utterance(self) -> Utterance | None:
        with self._lock:
            return self._listener.next_utterance()

    def set_listening(self, on: bool) -> None:
        """Hands-free switched on or off: forget half-heard speech."""
        with self._lock:
            self._listener.reset()
            self._shown_phase = "idle" if on else None
