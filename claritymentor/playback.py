"""What the browser is playing of the mentor's reply, modelled rather than reported.

Each reply piece starts when it is sent or when the previous one ends (plus the player's
gap between pieces), whichever is later, and lasts its audio's duration; on one machine
the page receives a piece within a few tens of milliseconds of the send. From that model
come the reply's phase (thinking, speaking), what a barge-in keeps (the pieces that had
started playing) and whether an utterance is the mentor's own voice coming back.

Not thread-safe on its own: ``Conversation`` calls it under its lock.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass

from claritymentor.constants import PIECE_GAP_S

logger = logging.getLogger(__name__)

ECHO_OVERLAP = 0.6  # share of an utterance's words found in the reply that marks it as our own voice
ECHO_MIN_WORDS = 3
ECHO_WINDOW_S = 1.5  # an utterance that started this long after playback ended is never an echo


@dataclass(frozen=True)
class Cut:
    """The person spoke over reply ``reply_id``: ``said`` is what had started playing."""

    reply_id: int
    said: str
    dropped_pieces: int


@dataclass
class _Piece:
    text: str
    start: float
    end: float


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


class Playback:
    """The current reply: its stop flag, whether it is still being written, and its pieces."""

    def __init__(self) -> None:
        self.reply_id = 0  # increases with every reply; the page's player drops pieces of stopped replies
        self._stop: threading.Event | None = None
        self._writing = False
        self._pieces: list[_Piece] = []

    def begin(self, stop: threading.Event) -> int:
        """A reply starts; ``stop`` is the flag its pipeline watches. Any earlier reply stops."""
        if self._stop is not None:
            self._stop.set()  # never two replies talking at once
        self.reply_id += 1
        self._stop, self._writing, self._pieces = stop, True, []
        return self.reply_id

    def sent(self, reply_id: int, text: str, duration_s: float, now: float) -> bool:
        """A piece of ``reply_id`` goes to the page; False (send nothing) when that reply was stopped."""
        if reply_id != self.reply_id or self._stop is None or self._stop.is_set():
            return False
        start = max(now, self._pieces[-1].end + PIECE_GAP_S) if self._pieces else now
        self._pieces.append(_Piece(text, start, start + duration_s))
        return True

    def written(self, reply_id: int) -> None:
        """Reply ``reply_id`` is fully written (its last pieces may still be playing)."""
        if reply_id == self.reply_id:
            self._writing = False

    def phase(self, now: float) -> str | None:
        """"thinking" or "speaking" while a reply that was not stopped is being written or played."""
        if self._stop is None or self._stop.is_set():
            return None
        if self._writing and not self._pieces:
            return "thinking"
        if self._pieces and (self._writing or now < self._pieces[-1].end):
            return "speaking"
        return None

    def cut(self, now: float) -> Cut | None:
        """Stop the reply being written or played; None when the mentor was quiet."""
        if self.phase(now) is None:
            return None
        said = [p for p in self._pieces if p.start <= now]
        self._stop.set()
        found = Cut(self.reply_id, " ".join(p.text for p in said), len(self._pieces) - len(said))
        self._pieces = said
        if said:
            said[-1].end = min(said[-1].end, now)
        logger.info("barge-in on reply %d: %d piece(s) said, %d dropped", found.reply_id, len(said),
                    found.dropped_pieces)
        return found

    def stop(self) -> None:
        """Stop whatever reply is running, keeping nothing (the conversation is closing)."""
        if self._stop is not None:
            self._stop.set()

    def is_echo(self, text: str, started_at: float) -> bool:
        """Whether an utterance is most likely the mentor's own voice picked up by the
        microphone: it began while (or just after) a reply played and most of its words
        are the reply's."""
        if not self._pieces or started_at > self._pieces[-1].end + ECHO_WINDOW_S:
            return False
        reply = set(_words(" ".join(p.text for p in self._pieces)))
        words = _words(text)
        if len(words) < ECHO_MIN_WORDS:
            return False
        return sum(w in reply for w in words) / len(words) >= ECHO_OVERLAP
