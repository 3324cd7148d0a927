"""Run a turn's event stream ahead of its consumer.

A hands-free answer is prepared before the end of the person's turn is confirmed
(``live.Confirmation``): ``RunAhead`` pulls the pipeline's events in a worker thread, so
speech-to-text, the LLM and TTS go on while the handler waits; the handler then reads
the events in order as from the stream itself, or closes it to drop the answer.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
_END = object()


class RunAhead(Generic[T]):
    """Iterates like ``events``; the work happens in a background thread. An exception
    raised by ``events`` is raised to the reader at the same place in the stream."""

    def __init__(self, events: Iterator[T]):
        self._events = events
        self._queue: queue.Queue = queue.Queue()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._work, name="run-ahead", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            for event in self._events:
                self._queue.put((True, event))
                if self._closed.is_set():
                    break
        except BaseException as e:  # handed to the reader
            self._queue.put((False, e))
            return
        finally:
            if self._closed.is_set():
                close = getattr(self._events, "close", None)
                if close is not None:
                    close()  # the stream's own clean-up (the LLM thread ends)
        self._queue.put((True, _END))

    def __iter__(self) -> "RunAhead[T]":
        return self

    def __next__(self) -> T:
        ok, item = self._queue.get()
        if not ok:
            raise item
        if item is _END:
            raise StopIteration
        return item

    def close(self) -> None:
        """Drop the rest: the worker stops after the event it is producing now."""
        self._closed.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker to finish; True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()
