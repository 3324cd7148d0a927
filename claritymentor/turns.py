"""The turn runner: drives one turn of a ``Conversation`` through the ``Pipeline`` and says,
update by update, what the page shows (``PageUpdate``). Plain Python, no Gradio.

A turn streams: the transcript with its emotion as soon as it is known, then each reply
piece (its text in the chat, its audio to the page's player) as soon as it is ready, then
the whole page once the conversation has recorded the turn. A barge-in stops the reply;
the conversation keeps only what had started playing.

Hands-free turns add three rules: an utterance handed on early is answered ahead (the
pipeline runs in a ``RunAhead`` thread) but nothing reaches the page until the end of
the turn is confirmed, and the answer is dropped if the person goes on speaking; an
utterance that is the mentor's own voice coming back is ignored; and problems (a cough,
that echo) are shown as a notice rather than raised, since nobody pressed anything.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterator

from claritymentor.conversation import Conversation
from claritymentor.errors import UserInputError
from claritymentor.page import PageUpdate, notice_only, piece_message, whole_page
from claritymentor.pipeline import Pipeline, TurnEvent
from claritymentor.run_ahead import RunAhead
from claritymentor.session import chat_messages, perceived_caption, user_message
from claritymentor.types import AudioClip, Heard, ReplyPiece, TurnDone

logger = logging.getLogger(__name__)

CONFIRM_TIMEOUT_S = 3.0  # an early utterance whose microphone stream went quiet counts as confirmed


class TurnRunner:
    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.resources = pipeline.cfg.safety.resources

    def model_label(self, use_adapter: bool) -> str:
        llm = self.pipeline.llm
        return llm.name if use_adapter or not llm.adapter else f"{llm.base_id} (base)"

    def text(self, conv: Conversation, text: str, use_adapter: bool = True) -> Iterator[PageUpdate]:
        """A typed turn. Raises ``UserInputError`` here, before anything is shown."""
        return self._start(conv, "text", use_adapter, self.pipeline.text_turn_stream, text)

    def voice(self, conv: Conversation, clip: AudioClip, use_adapter: bool = True) -> Iterator[PageUpdate]:
        """A spoken turn from a checked clip. Raises ``UserInputError`` here, before anything is shown."""
        return self._start(conv, "voice", use_adapter, self.pipeline.voice_turn_stream, clip)

    def _start(self, conv: Conversation, source: str, use_adapter: bool, turn_stream, given) -> Iterator[PageUpdate]:
        stop = threading.Event()
        state = conv.state
        events = turn_stream(given, state.history_pairs(), use_adapter=use_adapter, stop=stop,
                             after_crisis=state.had_crisis())
        return self._stream(conv, source, next(events), events, stop, use_adapter)

    def hands_free(self, conv: Conversation, use_adapter: bool = True) -> Iterator[PageUpdate]:
        """Answer the next utterance the conversation heard (nothing if there is none)."""
        utterance = conv.next_utterance()
        if utterance is None:
            return
        state = conv.state
        stop = threading.Event()
        marks: dict[str, int] = {}
        try:
            events: Iterator[TurnEvent] = self.pipeline.voice_turn_stream(
                utterance.clip, state.history_pairs(), use_adapter=use_adapter, stop=stop,
                speech_end=utterance.ended_at, after_crisis=state.had_crisis())
            confirmation = utterance.confirmation
            if confirmation.accepted is None:
                events = RunAhead(events)
                if not confirmation.wait(CONFIRM_TIMEOUT_S):
                    stop.set()
                    events.close()
                    logger.info("dropped an answer prepared early: the person went on speaking")
                    return
                if confirmation.decided_at is not None:
                    marks["turn_confirmed"] = int(round((confirmation.decided_at - utterance.ended_at) * 1000))
            first = next(events)
        except UserInputError as e:
            logger.info("hands-free utterance rejected: %s", e)
            yield notice_only(state, f"Heard something but could not use it: {e}", self.resources)
            return
        if conv.is_echo(first.user_text, utterance.ended_at - utterance.clip.duration_s):
            stop.set()
            events.close()
            logger.info("ignored an echo of the reply: %r", first.user_text)
            yield notice_only(state, f"Ignored “{first.user_text}”: it sounded like the mentor's own voice. "
                                     "Headphones help.", self.resources)
            return
        yield from self._stream(conv, "voice", first, events, stop, use_adapter, marks)

    def _stream(self, conv: Conversation, source: str, heard: Heard, events: Iterator[TurnEvent],
                stop: threading.Event, use_adapter: bool, marks: dict[str, int] | None = None) -> Iterator[PageUpdate]:
        chat = chat_messages(conv.state)
        pending = [user_message(heard.user_text,
                                f"{source} · {perceived_caption(heard.emotion.label, heard.emotion.confidence)}")]
        reply_id = conv.begin_reply(stop)
        yield PageUpdate(chat=chat + pending + [{"role": "assistant", "content": "…"}])
        for event in events:
            if isinstance(event, ReplyPiece):
                feed = None
                if event.audio is not None and conv.piece_sent(reply_id, event.text, event.audio.duration_s):
                    feed = piece_message(reply_id, event.index, event.audio)
                update = PageUpdate(chat=chat + pending + [{"role": "assistant", "content": event.reply_so_far + " …"}])
                yield dataclasses.replace(update, feed=feed) if feed else update
            elif isinstance(event, TurnDone):
                r = event.result if not marks else dataclasses.replace(event.result, marks={**event.result.marks, **marks})
                state = conv.finish_reply(reply_id, r, self.model_label(use_adapter), use_adapter)
                logger.info("turn %d (%s): stages %s; from end of speech %s", state.turns[-1].index, source,
                            r.timings.as_ms(), r.marks)
                yield whole_page(state, r, self.resources)
